package evidencereport

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	intoto "github.com/in-toto/in-toto-golang/in_toto"
	slsa1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/pkg/ocilayout"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// The fixture is the evidence of a debian-app-like build: every rule of
// the real catalog evaluated (compliance.EvaluateRules, so the CIS mapping
// and families are the catalog's), two findings waived by an exception,
// vulnerability matches decided by the gate, VEX and an exception, and a
// distroless record — marshalled with compliance's own validating
// Marshal, put beside an SPDX SBOM and SLSA v1 provenance as BuildKit's
// oci exporter lays them out.

func fixturePredicate(t *testing.T) []byte {
	t.Helper()
	findings := []rules.Finding{
		{Rule: "HK1001", Level: rules.LevelWarn, File: "Dockerfile", Line: 5, Message: "base image \"debian:bookworm\" is not pinned by digest"},
		{Rule: "HK1020", Level: rules.LevelWaived, File: "Dockerfile", Line: 6, Message: "a remote script is piped to a shell", Waiver: "EX-2026-014"},
	}
	rs := compliance.EvaluateRules(catalog.All(), func(r rules.Rule) rules.Level { return rules.LevelEnforce },
		func(rules.Stage) bool { return true }, findings)
	exc := []exceptions.Exception{{ID: "EX-2026-014", Rule: "HK1020", Owner: "alice@example.com", ApprovedBy: "bob@example.com",
		Expires: time.Date(2027, 2, 15, 0, 0, 0, 0, time.UTC), SignerKeyID: "sha256:" + strings.Repeat("ab", 32), Justification: "toolchain stage only"},
		{ID: "EX-2026-020", Rule: "HK4001", Owner: "carol@example.com", ApprovedBy: "bob@example.com",
			Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC), Scope: exceptions.Scope{CVE: "CVE-2025-0002"}}}
	p := compliance.Predicate{
		Hardenkit:       compliance.Tool{Version: "v0.9.0"},
		Policy:          compliance.Policy{Name: "examples", Digest: "sha256:" + strings.Repeat("12", 32), Baseline: "strict"},
		Mode:            options.ModeEnforce,
		SourceDateEpoch: 1764547200,
		BaseImages:      []compliance.BaseImage{{Name: "docker.io/library/debian:bookworm", Digest: "sha256:" + strings.Repeat("34", 32)}},
		Rules:           rs,
		Exceptions:      compliance.AppliedExceptions(exc, []string{"EX-2026-014", "EX-2026-020"}),
		Vulnerabilities: compliance.Vulnerabilities{
			Status: compliance.VulnEvaluated, FailOn: rules.SeverityHigh,
			DB:     &compliance.VulnDB{Built: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Schema: "v6.1.10"},
			Counts: map[string]int{"high": 1, "medium": 2},
			Matches: []compliance.VulnMatch{
				{CVE: "CVE-2025-0001", Package: "pkg:deb/debian/curl@7.88.1", Severity: "critical", Result: compliance.MatchNotAffected, Reason: "VEX not_affected: vulnerable_code_not_present"},
				{CVE: "CVE-2025-0002", Package: "pkg:deb/debian/libssl3@3.0.15", Severity: "high", Result: compliance.MatchWaived, Exception: "EX-2026-020"},
				{CVE: "CVE-2025-0003", Package: "pkg:deb/debian/libc6@2.36", Severity: "medium", Result: compliance.MatchBelowThreshold},
			},
		},
		SBOM: compliance.SBOMOf(fixtureSPDX),
		Distroless: &compliance.Distroless{
			Removed: []compliance.Removal{
				{Path: "/bin/dash", Category: "shell", Why: compliance.RemovedByName, Detail: "shell"},
				{Path: "/usr/bin/apt-get", Category: "package-manager", Why: compliance.RemovedByName, Detail: "apt"},
				{Path: "/usr/bin/curl", Category: "network-tool", Why: compliance.RemovedByName, Detail: "curl"},
				{Path: "package:perl-base", Why: compliance.RemovedByAllowlist, Detail: "outside the runtime closure", Package: "perl-base", Version: "5.36", Files: 1200},
			},
			Executables:     []compliance.ShippedExecutable{{Path: "/usr/local/bin/app", Reason: "ENTRYPOINT"}},
			RuntimePackages: []compliance.RuntimePackage{{Name: "libc6", Reason: "linked by /usr/local/bin/app"}, {Name: "ca-certificates", Reason: "CA bundle"}},
		},
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureSPDX is the SBOM beside it: three packages, two licenses.
var fixtureSPDX = []byte(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"app","packages":[` +
	`{"name":"libc6","SPDXID":"SPDXRef-1","versionInfo":"2.36","licenseConcluded":"NOASSERTION","licenseDeclared":"GPL-2.0-or-later AND LGPL-2.1-or-later"},` +
	`{"name":"ca-certificates","SPDXID":"SPDXRef-2","versionInfo":"20230311","licenseDeclared":"MPL-2.0"},` +
	`{"name":"app","SPDXID":"SPDXRef-3","licenseConcluded":"NOASSERTION","licenseDeclared":"NOASSERTION"}]}`)

// fixtureProvenance is BuildKit's SLSA v1 provenance of such a build.
const fixtureProvenance = `{"buildDefinition":{"buildType":"https://github.com/moby/buildkit/blob/master/docs/attestations/slsa-definitions.md","externalParameters":{` +
	`"configSource":{"uri":"https://git.example.com/team/app.git","digest":{"sha1":"0123456789abcdef0123456789abcdef01234567"}},` +
	`"request":{"frontend":"gateway.v0","args":{"source":"registry.example.com/hardenkit/frontend:1","build-arg:VERSION":"1.2","target":"app"}}}}}`

// fixtureIndex is an index with one linux/amd64 image of layerBytes random
// bytes and its attestation manifest holding the given predicates.
func fixtureIndex(t *testing.T, layerBytes int64, preds map[string][]byte) v1.ImageIndex {
	t.Helper()
	img, err := random.Image(layerBytes, 1)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	if preds == nil {
		return idx
	}
	att := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, pt := range []string{intoto.PredicateSPDX, slsa1.PredicateSLSAProvenance, compliance.PredicateType} {
		pred, ok := preds[pt]
		if !ok {
			continue
		}
		st, err := json.Marshal(map[string]any{
			"_type": "https://in-toto.io/Statement/v0.1", "predicateType": pt,
			"subject":   []any{map[string]any{"name": "pkg:docker/app", "digest": map[string]string{"sha256": d.Hex}}},
			"predicate": json.RawMessage(pred),
		})
		if err != nil {
			t.Fatal(err)
		}
		att, err = mutate.Append(att, mutate.Addendum{
			Layer:       static.NewLayer(st, "application/vnd.in-toto+json"),
			Annotations: map[string]string{ocilayout.AnnotationPredicateType: pt},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return mutate.AppendManifests(idx, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
		Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
		Annotations: map[string]string{sign.AnnotationRefType: sign.RefTypeAttestation, sign.AnnotationRefDigest: d.String()},
	}})
}

// debianApp is the fixture's hardened image (an OCI layout directory) and
// the plain build's (the same Dockerfile with HARDENKIT_MODE=off).
func debianApp(t *testing.T) (hardened, plain string) {
	t.Helper()
	preds := map[string][]byte{
		compliance.PredicateType:      fixturePredicate(t),
		intoto.PredicateSPDX:          fixtureSPDX,
		slsa1.PredicateSLSAProvenance: []byte(fixtureProvenance),
	}
	hardened = releasetest.LayoutDir(t, fixtureIndex(t, 2<<20, preds))
	plain = releasetest.LayoutDir(t, fixtureIndex(t, 30<<20, nil))
	return hardened, plain
}

// fixtureNow is when the fixture's report is made: its exceptions have
// not expired then.
var fixtureNow = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
