package options

// The names hardenkit's frontend and its CLI agree on, in one block as
// dockerui keeps BuildKit's: the frontend reads these keys, build args,
// named contexts and locals, and `hardenkit build` sends them. A name used
// on both sides is defined here and nowhere else.
//
// Don't forget to update README.md's option table and docs/policy.md when
// one is added.
const (
	// BuildArgPrefix prefixes a build arg's name in the frontend opts.
	BuildArgPrefix = "build-arg:"
	// ContextPrefix prefixes a named context's name in the frontend opts.
	ContextPrefix = "context:"

	// OptFrontendCaps is the opt in which a client lists the frontend
	// capabilities it needs (buildx sends it for named contexts).
	OptFrontendCaps = "frontend.caps"
	// OptNoCache is --no-cache: empty means every step, a list names
	// stages.
	OptNoCache = "no-cache"
	// OptImageResolveMode is how base images are resolved (default, pull,
	// local).
	OptImageResolveMode = "image-resolve-mode"
	// OptProvenance asks BuildKit for SLSA provenance.
	OptProvenance = "attest:provenance"

	// CapContextsForward is what buildx requests when it passes named
	// contexts; hardenkit accepts the contexts but never forwards.
	CapContextsForward = "moby.buildkit.frontend.contexts+forward"

	// ContextPolicy is the named context holding a CI-supplied policy
	// (hardenkit-policy=DIR with DIR/hardenkit.yaml).
	ContextPolicy = "hardenkit-policy"
	// ContextExceptions is the named context holding exceptions.yaml.
	ContextExceptions = "hardenkit-exceptions"
	// ContextVulnDB is the named context holding a grype database.
	ContextVulnDB = "hardenkit-vulndb"
	// ContextVEX is the named context holding OpenVEX documents.
	ContextVEX = "hardenkit-vex"

	// LocalEvidence is the local `hardenkit build` serves for evidence
	// documents too large for an LLB definition.
	LocalEvidence = "hardenkit-evidence"
	// LocalStepBinary is the local through which `hardenkit build` serves
	// its own static executable to the in-process frontend, as
	// bin/hardenkit-frontend: the binary the smoke test runs inside the
	// image under test.
	LocalStepBinary = "hardenkit-step-binary"
)
