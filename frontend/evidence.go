package frontend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
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
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/evidence/sbom"
	"github.com/hardenkit/hardenkit/frontend/evidence/sbomstep"
	"github.com/hardenkit/hardenkit/frontend/evidence/vuln"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/llb/solve"
	buildstep "github.com/hardenkit/hardenkit/llb/step"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Attestation file names hardenkit attaches (predicate types come from
// in-toto and frontend/evidence/compliance).
const (
	sbomSPDXPath      = "/" + sbomstep.SPDXFile
	sbomCycloneDXPath = "/" + sbomstep.CycloneDXFile
	compliancePath    = "/compliance.json"
)

// maxInlineEvidence bounds the bytes of evidence the frontend writes into
// one LLB definition with llb.Mkfile. A definition travels in one gRPC
// message, which BuildKit caps at 16 MiB (defaults.DefaultMaxSendMsgSize);
// what is larger goes through a build step or the client's session.
const maxInlineEvidence = 8 << 20

// Config is what a caller that runs the frontend in-process can give it
// beyond the build request. The zero Config is what the frontend image
// runs with.
type Config struct {
	// EvidenceDir is a directory of the client's session, served to
	// BuildKit as the local named EvidenceLocal. With no frontend image to
	// run the SBOM step in, the frontend writes evidence documents too
	// large for an LLB definition there and reads them into the build as
	// that local. Both empty: such documents fail the build with a message
	// that says so.
	EvidenceDir   string
	EvidenceLocal string

	// StepBinary is the binary an in-process frontend runs the smoke test
	// with; the frontend image runs it with its own.
	StepBinary StepBinary

	// parse parses the build's Dockerfile (dockerfilecheck.Parse when
	// nil); a test counts the parses through it.
	parse func(dt []byte, filename string) (*dockerfilemodel.File, error)
}

// Build is hardenkit's gateway BuildFunc for the frontend image (through
// `# syntax=`) and for in-process callers that give no Config.
func Build(ctx context.Context, c client.Client) (*client.Result, error) {
	return Config{}.Build(ctx, c)
}

// platformEvidence is one platform's attestations, already in the build.
type platformEvidence struct {
	// sbom holds sbomSPDXPath and sbomCycloneDXPath, compliance holds
	// compliancePath.
	sbom, compliance client.Reference
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
	// self is the frontend's own image (nil in-process): the SBOM is then
	// written by a step of the build.
	self    *llb.State
	noCache bool
	// platform names the platform's evidence directory in out.
	platform string
	out      Config
	// sessionID is the client session that serves out.EvidenceLocal.
	sessionID    string
	cacheImports []client.CacheOptionsEntry
	// sbom, when set, is the SBOM already under way (startSBOM).
	sbom *pendingSBOM
	// smoke is the smoke test's record (HK2060).
	smoke *compliance.Smoke
	// timings records how long the steps took, for the statement.
	timings *stepTimes
	// rebuild is what the statement's rebuild record is read from.
	rebuild rebuildInput
}

// pendingSBOM is an SBOM being written while the image is inspected: the
// two read the same hardened filesystem and need nothing of each other, so
// a cold build runs them side by side.
type pendingSBOM struct {
	done chan struct{}
	spdx []byte
	ref  client.Reference
	err  error
	took time.Duration
}

// startSBOM starts writing the SBOM of in.hardened; wait returns it.
func startSBOM(ctx context.Context, c client.Client, in evidenceInput) *pendingSBOM {
	p := &pendingSBOM{done: make(chan struct{})}
	started := time.Now()
	go func() {
		defer close(p.done)
		p.spdx, p.ref, p.err = sbomDocuments(ctx, c, in)
		p.took = time.Since(started)
	}()
	return p
}

// wait returns the SBOM's SPDX document and the reference holding both
// documents, once written.
func (p *pendingSBOM) wait(ctx context.Context) ([]byte, client.Reference, error) {
	select {
	case <-p.done:
		return p.spdx, p.ref, p.err
	case <-ctx.Done():
		return nil, nil, context.Cause(ctx)
	}
}

// collectEvidence catalogs the hardened filesystem into SPDX and CycloneDX
// SBOMs (syft, image catalogers), runs the vulnerability gate on the SPDX
// document and writes the compliance statement that records every rule's
// result.
func collectEvidence(ctx context.Context, c client.Client, in evidenceInput) (platformEvidence, error) {
	// verifyAndInspect starts the SBOM; evidence without it, or without
	// the timings the statement records, would be a bug, not a lesser
	// statement.
	if in.sbom == nil || in.timings == nil {
		return platformEvidence{}, errors.New("internal error: evidence requested before the SBOM was started (report a bug)")
	}
	spdx, sbomRef, err := in.sbom.wait(ctx)
	if err != nil {
		return platformEvidence{}, err
	}
	in.timings.record("sbom", in.sbom.took)
	doc := &sbom.Result{SPDX: spdx}

	pol := in.loaded.Policy
	vc := pol.Controls.Vulnerabilities
	stopTimer := in.timings.start("vulnerability-gate")
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
	stopTimer()
	if gate.Warning != "" && in.warn != nil {
		in.warn(fmt.Sprintf("%s: vulnerabilities not evaluated: %s", vuln.RuleVulnerablePackage.ID, gate.Warning))
	}
	if gate.Failed {
		return platformEvidence{}, vulnGateError(gate, string(vc.FailOn))
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
	tool, err := toolRecord(ctx, in.self)
	if err != nil {
		return platformEvidence{}, err
	}
	in.rebuild.findings = in.findings
	rebuild, err := rebuildRecord(ctx, c, in.rebuild)
	if err != nil {
		return platformEvidence{}, err
	}
	pred := compliance.Predicate{
		Hardenkit:       tool,
		Rebuild:         rebuild,
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
		Smoke:           in.smoke,
		Timings:         in.timings.timings(),
	}
	statement, err := pred.Marshal()
	if err != nil {
		return platformEvidence{}, fmt.Errorf("compliance statement: %w", err)
	}
	st, err := evidenceState(in, "compliance statement", map[string][]byte{compliancePath: statement})
	if err != nil {
		return platformEvidence{}, err
	}
	complianceRef, err := solve.Ref(ctx, c, st, nil)
	if err != nil {
		return platformEvidence{}, fmt.Errorf("writing the compliance statement into the build: %w", err)
	}
	return platformEvidence{sbom: sbomRef, compliance: complianceRef}, nil
}

// sbomDocuments returns the SPDX document of the hardened filesystem and a
// reference holding both SBOMs at sbomSPDXPath and sbomCycloneDXPath. From
// the frontend image, a build step writes them and the SPDX is read back
// in bounded ranges; in-process, syft runs here on a copy of the
// filesystem, and the documents reach the build inline when small, else
// through the client's session.
func sbomDocuments(ctx context.Context, c client.Client, in evidenceInput) ([]byte, client.Reference, error) {
	if in.self != nil {
		var opts []llb.RunOption
		if in.noCache {
			opts = append(opts, llb.IgnoreCache)
		}
		ref, err := sbomstep.Run(ctx, c, *in.self, in.hardened.State, in.epoch, opts...)
		if err != nil {
			return nil, nil, sbomStepError(err)
		}
		spdx, err := rootfs.ReferenceSource(ref).ReadFile(ctx, "/"+sbomstep.SPDXFile, 0, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("SBOM: reading %s back from the SBOM step: %w", sbomstep.SPDXFile, err)
		}
		return spdx, ref, nil
	}

	dir, err := os.MkdirTemp("", "hardenkit-sbom-")
	if err != nil {
		return nil, nil, fmt.Errorf("SBOM: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := rootfs.Materialize(ctx, in.hardened.Tree, in.hardened.Src, dir); err != nil {
		return nil, nil, fmt.Errorf("SBOM: writing the hardened filesystem: %w", err)
	}
	doc, err := sbom.Generate(ctx, dir, sbom.Options{Epoch: in.epoch})
	if err != nil {
		return nil, nil, fmt.Errorf("SBOM: %w", err)
	}
	st, err := evidenceState(in, "SBOM", map[string][]byte{
		sbomSPDXPath:      doc.SPDX,
		sbomCycloneDXPath: doc.CycloneDX,
	})
	if err != nil {
		return nil, nil, err
	}
	ref, err := solve.Ref(ctx, c, st, in.cacheImports)
	if err != nil {
		return nil, nil, fmt.Errorf("SBOM: writing the documents into the build: %w", err)
	}
	return doc.SPDX, ref, nil
}

// sbomStepError says that the SBOM step failed and where its own output,
// which says why, is: an exec's error is only its exit code.
func sbomStepError(err error) error {
	return fmt.Errorf("SBOM: the in-build SBOM step (%s %s) failed: %w\nto fix: the step's output in the progress ([hardenkit] SBOM of the hardened image) names the file syft could not read; remove or fix it in the final stage",
		buildstep.BinaryPath, sbomstep.Subcommand, err)
}

// evidenceState returns a state holding files (absolute paths at the root),
// written inline with llb.Mkfile when they fit in maxInlineEvidence, else
// through the session directory of in.out. what names the evidence in
// errors.
func evidenceState(in evidenceInput, what string, files map[string][]byte) (llb.State, error) {
	total := 0
	for _, dt := range files {
		total += len(dt)
	}
	names := slices.Sorted(maps.Keys(files))
	if total <= maxInlineEvidence {
		st := llb.Scratch()
		for _, name := range names {
			st = st.File(llb.Mkfile(name, 0o644, files[name]), llb.WithCustomName("[hardenkit] "+what+" "+strings.TrimPrefix(name, "/")))
		}
		return st, nil
	}
	if in.out.EvidenceDir == "" || in.out.EvidenceLocal == "" {
		return llb.State{}, fmt.Errorf("%s: the documents are %.1f MiB, more than one BuildKit request carries (%d MiB inline), and no session directory was given for evidence: build with `hardenkit build` (it gives one), or through `# syntax=` (a build step writes the SBOM)",
			what, float64(total)/(1<<20), maxInlineEvidence>>20)
	}
	// One subdirectory per platform and kind, so concurrent platforms
	// never see each other's files.
	sub := evidenceSubdir(in.platform, what)
	dir := filepath.Join(in.out.EvidenceDir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return llb.State{}, fmt.Errorf("%s: %w", what, err)
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), files[name], 0o644); err != nil {
			return llb.State{}, fmt.Errorf("%s: writing %s to the session directory: %w", what, name, err)
		}
	}
	local := llb.Local(in.out.EvidenceLocal,
		llb.SessionID(in.sessionID),
		llb.IncludePatterns([]string{sub}),
		llb.WithCustomName("[hardenkit] "+what+" (through the client session)"))
	return llb.Scratch().File(llb.Copy(local, "/"+sub+"/", "/", &llb.CopyInfo{CopyDirContentsOnly: true}),
		llb.WithCustomName("[hardenkit] "+what)), nil
}

// evidenceSubdir is a file name for a platform's evidence of one kind.
func evidenceSubdir(platform, what string) string {
	return strings.NewReplacer("/", "-", " ", "-", ",", "-").Replace(platform + "-" + strings.ToLower(what))
}

// vulnGateError is HK4001's failure: every failing match, and what to do.
func vulnGateError(gate vuln.Result, failOn string) error {
	var failing []string
	for _, m := range gate.Matches {
		if m.Result == compliance.MatchFail {
			failing = append(failing, fmt.Sprintf("%s (%s) in %s %s", m.CVE, m.Severity, m.Name, m.Version))
		}
	}
	return fmt.Errorf("%s: %d vulnerabilities at or above %s in the hardened image:\n  %s\nto fix: upgrade the packages, or waive each with an approved exception (rule %s) or a VEX statement (%s build context)",
		vuln.RuleVulnerablePackage.ID, len(failing), failOn, strings.Join(failing, "\n  "), vuln.RuleVulnerablePackage.ID, vexContext)
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
func attachEvidence(rb *dockerui.ResultBuilder, id string, ev platformEvidence) {
	rb.AddAttestation(id, client.Attestation{
		Kind: gatewaypb.AttestationKind_InToto,
		Ref:  ev.sbom,
		Path: sbomSPDXPath,
		Metadata: map[string][]byte{
			result.AttestationReasonKey: []byte(result.AttestationReasonSBOM),
			result.AttestationSBOMCore:  []byte("sbom"),
		},
		InToto: result.InTotoAttestation{PredicateType: intoto.PredicateSPDX},
	})
	rb.AddAttestation(id, client.Attestation{
		Kind:   gatewaypb.AttestationKind_InToto,
		Ref:    ev.sbom,
		Path:   sbomCycloneDXPath,
		InToto: result.InTotoAttestation{PredicateType: intoto.PredicateCycloneDX},
	})
	rb.AddAttestation(id, client.Attestation{
		Kind:   gatewaypb.AttestationKind_InToto,
		Ref:    ev.compliance,
		Path:   compliancePath,
		InToto: result.InTotoAttestation{PredicateType: compliance.PredicateType},
	})
}
