// Package smoke proves in the build that a hardened image still runs: the
// image's own program is started, as build steps of their own, once in the
// hardened image and once, the same way, in the unhardened final stage, and
// the two runs are compared.
//
//	HK2060 HardenedImageDoesNotRun — the hardened image's entrypoint does
//	                                 worse than the unhardened stage's in
//	                                 the first seconds: it exits where the
//	                                 plain one keeps running or exits 0, it
//	                                 cannot be executed (126, 127, a
//	                                 signal), its health check never passes
//	                                 where the plain one's does, or it does
//	                                 not listen on a TCP port the plain one
//	                                 listens on.
//	                                 CIS Docker Benchmark: none (a
//	                                 hardenkit control).
//
// A run is an exec whose root filesystem is the image's, with the
// frontend's static binary mounted read-only at a private path: it runs
// `hardenkit-frontend smoke`, which starts the entrypoint and command with
// the image's environment, working directory and user, in a network
// namespace with only loopback, watches it for a short window (or until its
// health check passes), and writes what it saw — exit status, whether it
// still runs, the TCP ports it listens on (/proc/net/tcp{,6}), the bounded
// tail of its output — to an output mount. The frontend compares the two
// answers (Compare) and names the removed paths the hardened program's
// output mentions (NamedPaths).
package smoke

import (
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Rule is HK2060.
var Rule = rules.Rule{
	ID: "HK2060", Name: "HardenedImageDoesNotRun", Title: "Hardened image does not start as the unhardened image does",
	Family: rules.FamilyHardening, Severity: rules.SeverityCritical, Stage: rules.StageLLB,
	Rationale: "A minimised image that builds but does not run fails in production, not in the build. hardenkit starts the hardened image's program and the plain final stage's the same way, offline and as the image's user, and refuses to ship an image that does worse.",
	Remediation: "Read the program's last output in the error: a removed file it names must ship (keep it with controls.tooling.keep, or make the program's need visible: an exec-form ENTRYPOINT, a library the ELF closure reaches). " +
		"An application that cannot start offline in a few seconds can set the rule to warn or off in its own policy; the compliance statement records that.",
	HelpURI: rules.HelpURI("HK2060"),
}

// Rules returns the package's rules for the catalog.
func Rules() []rules.Rule { return []rules.Rule{Rule} }

// Subcommand is the hardenkit-frontend subcommand that runs a smoke test.
const Subcommand = "smoke"

// The default observation: a run without a health check is watched for
// DefaultWindow and then until its listening ports have not changed for
// stablePorts; no run lasts longer than DefaultLimit, the time a health
// check has to pass.
const (
	DefaultWindowMillis = 3000
	DefaultLimitMillis  = 20000
)

// Request is what one run is asked: the program to start and how to watch
// it. It is encoded into the build definition, like the image config's
// ENV that the converted RUN steps already carry.
type Request struct {
	// Args are ENTRYPOINT followed by CMD.
	Args []string `json:"args"`
	// Env is the image's environment.
	Env []string `json:"env,omitempty"`
	// WorkDir is the image's WORKDIR ("" is /).
	WorkDir string `json:"workdir,omitempty"`
	// User is the image's USER ("" is root), resolved in the image's
	// /etc/passwd and /etc/group as runc does.
	User string `json:"user,omitempty"`
	// Probe is the health check's command (argv), nil when the image has
	// none: the run then ends once it passes.
	Probe []string `json:"probe,omitempty"`
	// WindowMillis is the shortest observation of a run without a probe.
	WindowMillis int64 `json:"windowMillis"`
	// LimitMillis is the longest observation of any run.
	LimitMillis int64 `json:"limitMillis"`
	// ExpectPorts keeps a run that still runs under observation, up to
	// LimitMillis, until it listens on all of them: the second look at a
	// hardened program that had not yet opened the plain one's ports.
	ExpectPorts []int `json:"expectPorts,omitempty"`
}

// The health of a run with a probe.
const (
	Healthy   = "healthy"
	Unhealthy = "unhealthy"
)

// Answer is what a run saw.
type Answer struct {
	// Started says the program was executed; StartError says why not.
	Started    bool   `json:"started"`
	StartError string `json:"startError,omitempty"`
	// Running says it was still running when the observation ended.
	Running bool `json:"running"`
	// ExitCode is its exit status when it ended (128+n for signal n, 127
	// and 126 for a program that could not be found or executed, as a
	// container runtime reports them); Signal names the signal.
	ExitCode int    `json:"exitCode"`
	Signal   string `json:"signal,omitempty"`
	// Ports are the TCP ports it listened on, sorted.
	Ports []int `json:"ports"`
	// Health is Healthy or Unhealthy when the run had a probe, else "".
	Health string `json:"health,omitempty"`
	// Output is the last lines of its standard output and error,
	// bounded (maxOutputLines of at most maxLineBytes).
	Output []string `json:"output,omitempty"`
	// ProbeOutput is the last lines of the last failing probe.
	ProbeOutput []string `json:"probeOutput,omitempty"`
	// Millis is how long it was watched.
	Millis int64 `json:"millis"`
}

// Exited says the program ended (or never started) within the
// observation.
func (a Answer) Exited() bool { return !a.Running }
