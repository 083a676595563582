package frontend

import (
	"context"
	"fmt"
	"os"
	"slices"
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
	baseName string
	loaded   *policysource.Loaded
	findings []rules.Finding
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
	var waivers []string
	for _, f := range in.findings {
		if f.Waiver != "" && !slices.Contains(waivers, f.Waiver) {
			waivers = append(waivers, f.Waiver)
		}
	}
	var applied []compliance.Exception
	if in.loaded.Exceptions != nil {
		applied = compliance.AppliedExceptions(in.loaded.Exceptions.Exceptions, waivers)
	}
	pred := compliance.Predicate{
		Hardenkit:       compliance.Tool{Version: Version},
		Policy:          compliance.Policy{Name: pol.Name, Digest: pol.Digest(), Baseline: pol.Baseline},
		Mode:            options.ModeEnforce,
		SourceDateEpoch: in.epoch.Unix(),
		BaseImages:      []compliance.BaseImage{{Name: in.baseName}},
		Rules: compliance.EvaluateRules(catalog.All(), pol.Level, func(s rules.Stage) bool {
			return s == rules.StageStatic || s == rules.StageLLB
		}, in.findings),
		Exceptions: applied,
		Vulnerabilities: compliance.Vulnerabilities{
			Status:  compliance.VulnNotEvaluated,
			Reason:  "no vulnerability database was given to the build",
			FailOn:  pol.Controls.Vulnerabilities.FailOn,
			Counts:  map[string]int{},
			Matches: []compliance.VulnMatch{},
		},
		SBOM: compliance.SBOMOf(doc.SPDX),
	}
	statement, err := pred.Marshal()
	if err != nil {
		return platformEvidence{}, fmt.Errorf("compliance statement: %w", err)
	}
	return platformEvidence{spdx: doc.SPDX, cyclonedx: doc.CycloneDX, compliance: statement}, nil
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
