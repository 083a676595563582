package frontend

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	gatewaypb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/evidence/sbom"
	"github.com/hardenkit/hardenkit/frontend/evidence/vuln"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/frontend/rules"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/rootfs"
)

// Attestation file names and predicate types hardenkit attaches.
const (
	sbomSPDXPath       = "/sbom.spdx.json"
	sbomCycloneDXPath  = "/sbom.cdx.json"
	compliancePath     = "/compliance.json"
	predicateCycloneDX = "https://cyclonedx.org/bom"
)

// platformEvidence is one platform's attestations, encoded.
type platformEvidence struct {
	spdx, cyclonedx, compliance []byte
}

// evidenceInput is what one platform's evidence is made from.
type evidenceInput struct {
	hardened harden.Result
	epoch    time.Time
	loaded   *policysource.Loaded
	// inspection is what inspecting the hardened image found; its
	// findings are also in findings.
	inspection inspection
	findings   []rules.Finding
	// vulnDB is the grype database directory ("" when none was given) and
	// vex the OpenVEX documents of the build.
	vulnDB string
	vex    [][]byte
	// warn shows a message in the build's progress.
	warn func(msg string)
}

// collectEvidence catalogs the hardened filesystem into SPDX and CycloneDX
// SBOMs (syft, image catalogers) and writes the compliance statement that
// records every rule's result. The filesystem is written to a temporary
// directory first: syft reads a real directory.
func collectEvidence(ctx context.Context, in evidenceInput) (platformEvidence, error) {
	dir, err := os.MkdirTemp("", "hardenkit-sbom-")
	if err != nil {
		return platformEvidence{}, fmt.Errorf("SBOM: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := rootfs.Materialize(ctx, in.hardened.Tree, in.hardened.Src, dir); err != nil {
		return platformEvidence{}, fmt.Errorf("SBOM: writing the hardened filesystem: %w", err)
	}
	doc, err := sbom.Generate(ctx, dir, sbom.Options{Epoch: in.epoch})
	if err != nil {
		return platformEvidence{}, fmt.Errorf("SBOM: %w", err)
	}

	pol := in.loaded.Policy
	vc := pol.Controls.Vulnerabilities
	gate, err := vuln.Evaluate(ctx, doc.SPDX, vuln.Options{
		DBDir:     in.vulnDB,
		Now:       time.Now(),
		FailOn:    vc.FailOn,
		RequireDB: vc.RequireDB,
		MaxDBAge:  time.Duration(vc.MaxDBAge),
		VEX:       in.vex,
		Waive:     vuln.ExceptionWaiver(in.loaded.Exceptions, vuln.RuleVulnerablePackage.ID, ""),
	})
	if err != nil {
		return platformEvidence{}, fmt.Errorf("%s: vulnerability gate (policy %s requires a database: pass one as the %s build context): %w", vuln.RuleVulnerablePackage.ID, pol.Name, vulnDBContext, err)
	}
	if gate.Warning != "" && in.warn != nil {
		in.warn(fmt.Sprintf("%s: vulnerabilities not evaluated: %s", vuln.RuleVulnerablePackage.ID, gate.Warning))
	}
	if gate.Failed {
		var failing []string
		for _, m := range gate.Matches {
			if m.Result == compliance.MatchFail {
				failing = append(failing, fmt.Sprintf("%s (%s) in %s %s", m.CVE, m.Severity, m.Name, m.Version))
			}
		}
		return platformEvidence{}, fmt.Errorf("%s: %d vulnerabilities at or above %s in the hardened image:\n  %s\nupgrade the packages, or waive each with an approved exception (rule %s) or a VEX statement (%s build context)",
			vuln.RuleVulnerablePackage.ID, len(failing), vc.FailOn, strings.Join(failing, "\n  "), vuln.RuleVulnerablePackage.ID, vexContext)
	}
	var waivers []string
	for _, f := range in.findings {
		if f.Waiver != "" && !slices.Contains(waivers, f.Waiver) {
			waivers = append(waivers, f.Waiver)
		}
	}
	for _, id := range gate.ExceptionIDs() {
		if !slices.Contains(waivers, id) {
			waivers = append(waivers, id)
		}
	}
	applied := []compliance.Exception{}
	if in.loaded.Exceptions != nil {
		applied = compliance.AppliedExceptions(in.loaded.Exceptions.Exceptions, waivers)
	}
	announceExceptions(in.warn, applied)
	polEvidence, err := policyEvidence(pol)
	if err != nil {
		return platformEvidence{}, err
	}
	pred := compliance.Predicate{
		Hardenkit:       compliance.Tool{Version: Version},
		Policy:          polEvidence,
		Mode:            options.ModeEnforce,
		SourceDateEpoch: in.epoch.Unix(),
		BaseImages:      []compliance.BaseImage{{Name: in.hardened.BaseName, Digest: in.hardened.BaseDigest}},
		Rules: compliance.EvaluateRules(catalog.All(), pol.Level, func(s rules.Stage) bool {
			return s == rules.StageStatic || s == rules.StageLLB || s == rules.StageImage || (s == rules.StageEvidence && gate.Status == compliance.VulnEvaluated)
		}, append(slices.Clone(in.findings), gateFindings(gate)...)),
		Exceptions:      applied,
		Vulnerabilities: gate.Summary(),
		SBOM:            compliance.SBOMOf(doc.SPDX),
		Inspection:      &compliance.Inspection{Scanner: in.inspection.scanner, Unscanned: append([]string{}, in.inspection.unscanned...), Secrets: in.inspection.secretScans},
		Distroless:      distrolessEvidence(in.hardened),
	}
	statement, err := pred.Marshal()
	if err != nil {
		return platformEvidence{}, fmt.Errorf("compliance statement: %w", err)
	}
	return platformEvidence{spdx: doc.SPDX, cyclonedx: doc.CycloneDX, compliance: statement}, nil
}

// gateFindings are the waived matches of the gate, so the compliance
// statement's HK4001 entry says waived and names the exceptions.
func gateFindings(r vuln.Result) []rules.Finding {
	var out []rules.Finding
	for _, m := range r.Matches {
		if m.Result == compliance.MatchWaived {
			out = append(out, rules.Finding{Rule: vuln.RuleVulnerablePackage.ID, Level: rules.LevelWaived, Waiver: m.Exception,
				Message: fmt.Sprintf("%s (%s) in %s %s waived by exception %s", m.CVE, m.Severity, m.Name, m.Version, m.Exception)})
		}
	}
	return out
}

// attachEvidence adds the platform's attestations to the result. The SPDX
// one is BuildKit's SBOM attestation (reason sbom), so BuildKit exports it
// as the image's SBOM and starts no scanner of its own.
func attachEvidence(ctx context.Context, c client.Client, rb *dockerui.ResultBuilder, id string, ev platformEvidence) error {
	st := llb.Scratch().
		File(llb.Mkfile(sbomSPDXPath, 0o644, ev.spdx), llb.WithCustomName("[hardenkit] SBOM (SPDX)")).
		File(llb.Mkfile(sbomCycloneDXPath, 0o644, ev.cyclonedx), llb.WithCustomName("[hardenkit] SBOM (CycloneDX)")).
		File(llb.Mkfile(compliancePath, 0o644, ev.compliance), llb.WithCustomName("[hardenkit] compliance statement"))
	ref, err := solveState(ctx, c, st, nil)
	if err != nil {
		return fmt.Errorf("writing attestations for %s: %w", id, err)
	}
	rb.AddAttestation(id, client.Attestation{
		Kind: gatewaypb.AttestationKind_InToto,
		Ref:  ref,
		Path: sbomSPDXPath,
		Metadata: map[string][]byte{
			result.AttestationReasonKey: []byte(result.AttestationReasonSBOM),
			result.AttestationSBOMCore:  []byte("sbom"),
		},
		InToto: result.InTotoAttestation{PredicateType: intoto.PredicateSPDX},
	})
	rb.AddAttestation(id, client.Attestation{
		Kind:   gatewaypb.AttestationKind_InToto,
		Ref:    ref,
		Path:   sbomCycloneDXPath,
		InToto: result.InTotoAttestation{PredicateType: predicateCycloneDX},
	})
	rb.AddAttestation(id, client.Attestation{
		Kind:   gatewaypb.AttestationKind_InToto,
		Ref:    ref,
		Path:   compliancePath,
		InToto: result.InTotoAttestation{PredicateType: compliance.PredicateType},
	})
	return nil
}
