package sbom

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anchore/syft/syft/format"
	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/spdxjson"

	"github.com/hardenkit/hardenkit/frontend/evidence/internal/evidencetest"
)

var testEpoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// Two copies in different directories: the host path must not leak
	// into the output.
	rootA, rootB := evidencetest.DebianRootfs(t), evidencetest.DebianRootfs(t)
	opt := Options{Epoch: testEpoch, Name: "registry.example/app:1.0"}
	a, err := Generate(ctx, rootA, opt)
	if err != nil {
		t.Fatalf("Generate() = %v", err)
	}
	b, err := Generate(ctx, rootB, opt)
	if err != nil {
		t.Fatalf("Generate() = %v", err)
	}
	if !bytes.Equal(a.SPDX, b.SPDX) {
		t.Errorf("SPDX differs between runs:\n%s\n%s", a.SPDX, b.SPDX)
	}
	if !bytes.Equal(a.CycloneDX, b.CycloneDX) {
		t.Errorf("CycloneDX differs between runs:\n%s\n%s", a.CycloneDX, b.CycloneDX)
	}
	for _, root := range []string{rootA, rootB} {
		if bytes.Contains(a.SPDX, []byte(root)) || bytes.Contains(a.CycloneDX, []byte(root)) {
			t.Errorf("output contains the host path %s", root)
		}
	}

	var spdx struct {
		SPDXVersion       string `json:"spdxVersion"`
		Name              string `json:"name"`
		DocumentNamespace string `json:"documentNamespace"`
		CreationInfo      struct {
			Created string `json:"created"`
		} `json:"creationInfo"`
	}
	if err := json.Unmarshal(a.SPDX, &spdx); err != nil {
		t.Fatal(err)
	}
	if spdx.SPDXVersion != "SPDX-2.3" || spdx.Name != opt.Name || spdx.CreationInfo.Created != "2024-05-01T12:00:00Z" {
		t.Errorf("SPDX header = %+v", spdx)
	}
	if !regexp.MustCompile(`^https://hardenkit\.dev/spdx/registry\.example-app-1\.0-[0-9a-f]{64}$`).MatchString(spdx.DocumentNamespace) {
		t.Errorf("documentNamespace = %q", spdx.DocumentNamespace)
	}

	var cdx struct {
		SpecVersion  string `json:"specVersion"`
		SerialNumber string `json:"serialNumber"`
		Metadata     struct {
			Timestamp string `json:"timestamp"`
			Component struct {
				Name string `json:"name"`
			} `json:"component"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(a.CycloneDX, &cdx); err != nil {
		t.Fatal(err)
	}
	if cdx.SpecVersion != "1.7" || cdx.Metadata.Timestamp != "2024-05-01T12:00:00Z" || cdx.Metadata.Component.Name != opt.Name {
		t.Errorf("CycloneDX header = %+v", cdx)
	}
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(cdx.SerialNumber) {
		t.Errorf("serialNumber = %q", cdx.SerialNumber)
	}

	// A different epoch changes the creation time, and with it the
	// content-derived identifiers.
	c, err := Generate(ctx, rootA, Options{Epoch: testEpoch.Add(time.Hour), Name: opt.Name})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.SPDX, c.SPDX) || bytes.Equal(a.CycloneDX, c.CycloneDX) {
		t.Error("documents of different epochs are identical")
	}
}

func TestGenerateListsInstalledPackagesOnly(t *testing.T) {
	t.Parallel()
	res, err := Generate(t.Context(), evidencetest.DebianRootfs(t), Options{Epoch: testEpoch})
	if err != nil {
		t.Fatalf("Generate() = %v", err)
	}
	var debs []string
	purls := map[string]bool{}
	for _, p := range res.Packages {
		purls[p.PURL] = true
		if p.Type == "deb" {
			debs = append(debs, p.PURL)
		}
	}
	wantDebs := []string{evidencetest.AptPURL, evidencetest.BaseFilesPURL, evidencetest.LibcPURL}
	sort.Strings(debs)
	if !slices.Equal(debs, wantDebs) {
		t.Errorf("deb packages = %q, want exactly %q", debs, wantDebs)
	}
	for _, want := range []string{evidencetest.NodePURL, evidencetest.PythonPURL} {
		if !purls[want] {
			t.Errorf("installed package %s missing from %+v", want, res.Packages)
		}
	}
	for _, p := range res.Packages {
		if p.Name == "curl" || p.Name == "lodash" {
			t.Errorf("package %+v listed: stripped packages and lock-file declarations must not be", p)
		}
	}

	// The SPDX document carries the same packages with their purls, as
	// syft's own decoder (the one grype uses) reads them back.
	s, id, _, err := format.Decode(bytes.NewReader(res.SPDX))
	if err != nil || id != spdxjson.ID {
		t.Fatalf("decoding SPDX: id %q, %v", id, err)
	}
	decoded := map[string]bool{}
	for p := range s.Artifacts.Packages.Enumerate() {
		decoded[p.PURL] = true
	}
	for want := range purls {
		if !decoded[want] {
			t.Errorf("SPDX lacks %s", want)
		}
	}
	if s.Artifacts.LinuxDistribution == nil || s.Artifacts.LinuxDistribution.ID != "debian" || s.Artifacts.LinuxDistribution.VersionID != "12.12" {
		t.Errorf("decoded distro = %+v", s.Artifacts.LinuxDistribution)
	}
}

// TestGenerateGoBuildInfo copies this test binary, a Go program, into the
// rootfs: its build info must become packages. (A test binary records its
// main module and toolchain, not its dependencies.)
func TestGenerateGoBuildInfo(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	root := evidencetest.DebianRootfs(t)
	if err := os.WriteFile(filepath.Join(root, "app", "server"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Generate(t.Context(), root, Options{Epoch: testEpoch})
	if err != nil {
		t.Fatalf("Generate() = %v", err)
	}
	want := map[string]Package{
		"stdlib":                         {Name: "stdlib", Version: runtime.Version(), PURL: "pkg:golang/stdlib@" + strings.TrimPrefix(runtime.Version(), "go"), Type: "go-module"},
		"github.com/hardenkit/hardenkit": {Name: "github.com/hardenkit/hardenkit", Version: "UNKNOWN", PURL: "pkg:golang/github.com/hardenkit/hardenkit", Type: "go-module"},
	}
	for _, p := range res.Packages {
		if w, ok := want[p.Name]; ok && p == w {
			delete(want, p.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("go modules %v not cataloged from the binary: %+v", want, res.Packages)
	}
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"missing": filepath.Join(t.TempDir(), "nope"), "file": file} {
		if _, err := Generate(t.Context(), dir, Options{}); err == nil {
			t.Errorf("%s: Generate() = nil error", name)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Generate(ctx, evidencetest.DebianRootfs(t), Options{}); err == nil {
		t.Error("Generate(cancelled ctx) = nil error")
	}
}

// TestEncodeSPDXIsLossless checks that re-encoding syft's document through
// the SPDX 2.3 model changes nothing but the fields rewritten on purpose.
func TestEncodeSPDXIsLossless(t *testing.T) {
	t.Parallel()
	s, err := catalog(t.Context(), evidencetest.DebianRootfs(t), Options{Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := spdxjson.NewFormatEncoderWithConfig(spdxjson.DefaultEncoderConfig())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := format.Encode(*s, enc)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := encodeSPDX(*s, testEpoch)
	if err != nil {
		t.Fatal(err)
	}
	normalize := func(b []byte) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "documentNamespace")
		delete(m["creationInfo"].(map[string]any), "created")
		for _, key := range []string{"packages", "files", "relationships", "hasExtractedLicensingInfos"} {
			list, _ := m[key].([]any)
			sort.Slice(list, func(i, j int) bool {
				a, _ := json.Marshal(list[i])
				b, _ := json.Marshal(list[j])
				return string(a) < string(b)
			})
		}
		return m
	}
	if got, want := normalize(ours), normalize(raw); !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("re-encoded SPDX differs from syft's:\n%s\nwant:\n%s", g, w)
	}
}

// TestSyftVersionMatchesGoMod keeps SyftVersion equal to the syft module
// the build links.
func TestSyftVersionMatchesGoMod(t *testing.T) {
	t.Parallel()
	gomod, err := os.ReadFile("../../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/anchore/syft (v\S+)`).FindSubmatch(gomod)
	if m == nil || string(m[1]) != SyftVersion {
		t.Errorf("go.mod requires syft %q, SyftVersion is %q", m, SyftVersion)
	}
}

// TestSQLiteDriverRegistered: syft's RPM cataloger opens rpm databases
// through database/sql's "sqlite" driver, which this package links.
func TestSQLiteDriverRegistered(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatalf("sql.Open(sqlite) = %v", err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(t.Context(), "select sqlite_version()").Scan(&v); err != nil || v == "" {
		t.Errorf("sqlite_version() = %q, %v", v, err)
	}
}

// TestEncodeCycloneDXIsLossless does the same for the CycloneDX document.
func TestEncodeCycloneDXIsLossless(t *testing.T) {
	t.Parallel()
	s, err := catalog(t.Context(), evidencetest.DebianRootfs(t), Options{Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := format.Encode(*s, enc)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := encodeCycloneDX(*s, testEpoch)
	if err != nil {
		t.Fatal(err)
	}
	normalize := func(b []byte) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "serialNumber")
		delete(m["metadata"].(map[string]any), "timestamp")
		deps, _ := m["dependencies"].([]any)
		for _, d := range deps {
			if on, ok := d.(map[string]any)["dependsOn"].([]any); ok {
				sort.Slice(on, func(i, j int) bool { return on[i].(string) < on[j].(string) })
			}
		}
		sort.Slice(deps, func(i, j int) bool {
			return deps[i].(map[string]any)["ref"].(string) < deps[j].(map[string]any)["ref"].(string)
		})
		return m
	}
	if got, want := normalize(ours), normalize(raw); !reflect.DeepEqual(got, want) {
		t.Errorf("re-encoded CycloneDX differs from syft's:\n%s\nwant:\n%s", ours, raw)
	}
}
