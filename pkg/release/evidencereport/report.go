// Package evidencereport turns the evidence BuildKit attached to a hardenkit
// image — the compliance statement, the SPDX SBOM, the SLSA provenance and,
// when a key is given, the release gate's verification — into one page a
// person reads: the verdict, each control family's results, the CIS Docker
// Benchmark §4 table, the exceptions, the vulnerabilities, what was removed
// and what ships, the SBOM's packages and licenses, and how to rebuild.
//
// Load reads the evidence (a registry image, an OCI layout or an OCI
// archive, through pkg/release/store, so every read is checked against its
// digest); Text, Markdown and HTML render the same Report. The HTML is one
// self-contained file: no script, no font, no image fetched from anywhere.
package evidencereport

import (
	"time"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

// Verdict is the page's one-word answer.
type Verdict string

// The verdicts.
const (
	// VerdictPass: every rule passed, warned or was waived by an
	// exception, no vulnerability fails, and (when it ran) the release
	// gate accepted the image.
	VerdictPass Verdict = "PASS"
	// VerdictFail: a rule or a vulnerability failed, the image was built
	// with hardenkit switched off, or the release gate refused it.
	VerdictFail Verdict = "FAIL"
	// VerdictNoEvidence: the image carries no compliance statement, so
	// nothing can be said about it — fail closed.
	VerdictNoEvidence Verdict = "NO EVIDENCE"
)

// Report is everything the page shows.
type Report struct {
	// Image is the image as the user named it; Digest what it resolved to.
	Image  string
	Digest string
	// Verdict is the answer, and Why its reasons (empty for a pass).
	Verdict Verdict
	Why     []string
	// Platforms are the image's platforms, each with its evidence.
	Platforms []Platform
	// Signatures counts the sigstore bundles that refer to the image
	// index, whether or not a key was given to check them.
	Signatures int
	// Release is the release gate's verification; nil when no key was
	// given.
	Release *verify.Report
	// Now is when the report was made: exceptions are judged against it.
	Now time.Time
}

// Platform is the evidence of one platform's image.
type Platform struct {
	// Platform is "linux/amd64" (empty for a single-manifest image).
	Platform string
	// Digest is the image manifest's digest.
	Digest string
	// Compliance is the compliance predicate; nil when the image has none.
	Compliance *compliance.Predicate
	// Families are the per-family rule results, in catalog family order.
	Families []FamilyResult
	// CIS is the CIS Docker Benchmark §4 table.
	CIS []CISRow
	// Size is the image's size (config and compressed layers, as pulled).
	Size int64
	// PlainSize is the size of the same Dockerfile built without hardening,
	// when one was given (LoadOptions.Plain); 0 when unknown.
	PlainSize int64
	// Removed summarises what the distroless control left out.
	Removed Removed
	// SBOM summarises the SPDX SBOM.
	SBOM SBOMSummary
	// Rebuild says how to build the same image again.
	Rebuild Rebuild
}

// FamilyResult counts one control family's rule results.
type FamilyResult struct {
	Family string
	// Counts by compliance.Result (pass, fail, waived, warn, not-evaluated).
	Counts map[compliance.Result]int
}

// CISRow is one CIS Docker Benchmark §4 recommendation.
type CISRow struct {
	ID, Title string
	// Automated is the benchmark's scoring (Automated or Manual).
	Automated bool
	// Rules are the hardenkit rules mapped to it, with their results.
	Rules []compliance.Rule
	// Status is the worst result of its rules; "not covered" when no rule
	// maps to it.
	Status string
}

// Removed summarises the distroless control's removals.
type Removed struct {
	// Rebased is false when the control did not rebase the image (no
	// distroless record in the evidence).
	Rebased bool
	// Files counts the files left out (a package summary counts its
	// files); Entries the removal records.
	Files, Entries int
	// Tools counts removed tools by category (shell, package-manager, …).
	Tools map[string]int
	// Packages are the packages left out whole.
	Packages []string
	// Executables are the executables that ship, each with why.
	Executables []compliance.ShippedExecutable
	// RuntimePackages counts the packages in the runtime closure.
	RuntimePackages int
}

// SBOMSummary summarises the SPDX SBOM.
type SBOMSummary struct {
	// Present is false when no SPDX statement was attached.
	Present bool
	// Packages counts the SBOM's packages.
	Packages int
	// Licenses counts packages per license expression, "NOASSERTION"
	// for packages that declare none.
	Licenses map[string]int
	// Digest is the SBOM digest the compliance statement binds.
	Digest string
}

// Rebuild is what a reproducibility rebuild needs.
type Rebuild struct {
	// Source is where the build's Dockerfile and context came from (the
	// provenance's config source: a git URL with its commit), when known.
	Source, Revision string
	// Frontend is the frontend the build ran (the syntax image, or
	// dockerfile.v0 with hardenkit in-process).
	Frontend string
	// Args are the build args the provenance recorded, sorted by name.
	Args [][2]string
	// SourceDateEpoch is the epoch every timestamp of the image has.
	SourceDateEpoch int64
	// Policy is the effective policy's name and digest.
	Policy, PolicyDigest string
	// BaseImages are the base images by digest.
	BaseImages []compliance.BaseImage
}
