// Package step runs hardenkit's in-build steps: the frontend image re-runs
// its own binary (`hardenkit-frontend <subcommand>`) as an LLB exec with
// its inputs mounted read-only, no network, and an output mount, so that
// work that reads a whole filesystem runs where the files are and
// BuildKit caches it by the digest of its inputs.
//
// Both sides of a step live here. The frontend describes a run as an Exec
// (the request it encodes into the definition, the filesystems it mounts)
// and solves it with Answer or Solve; the binary runs a Command, whose Main
// parses the flags, decodes the request, runs the step and writes its
// answer as JSON to the output mount, which Answer reads back in bounded
// size. The steps themselves (llb/harden/hardenstep,
// frontend/inspect/scanstep, frontend/evidence/sbomstep) keep only their
// request and answer types and their logic.
//
// A step's definition is recorded in the build cache and in provenance:
// a request carries only the settings the step reads, and never a secret.
package step

// BinaryPath is where the frontend image keeps the hardenkit-frontend
// binary (see the repository's Dockerfile).
const BinaryPath = "/bin/hardenkit-frontend"

// AnswerFile is the name of a step's JSON answer in its output directory.
const AnswerFile = "answer.json"

// MaxAnswer is the largest answer Answer reads back, in bytes: an answer
// lists paths of an image, and one beyond this size is a bug, not an
// image.
const MaxAnswer = 256 << 20

// Where a step finds its request and writes its output, inside its
// container. Inputs are mounted where their Mount says.
const (
	inDir       = "/hardenkit/in"
	requestFile = "request.json"
	// OutDir is where a step's output directory is mounted.
	OutDir = "/hardenkit/out"
)

// The flags every step takes.
const (
	requestFlag = "request"
	outFlag     = "out"
)
