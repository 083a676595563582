package buildflags

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// contextDir makes a build context with a Dockerfile.
func contextDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseOutput(t *testing.T) {
	tests := []struct {
		in      string
		want    Output
		wantErr string
	}{
		{in: "type=local,dest=out", want: Output{Type: "local", Dest: "out", Attrs: map[string]string{}}},
		{in: "out/dir", want: Output{Type: "local", Dest: "out/dir", Attrs: map[string]string{}}},
		{in: "-", want: Output{Type: "tar", Dest: "-", Attrs: map[string]string{}}},
		{in: "type=oci,dest=img.tar", want: Output{Type: "oci", Dest: "img.tar", Attrs: map[string]string{}}},
		{in: "type=docker,dest=img.tar,name=foo:1", want: Output{Type: "docker", Dest: "img.tar", Attrs: map[string]string{"name": "foo:1"}}},
		{in: "type=oci,dest=layout,tar=false", want: Output{Type: "oci", Dest: "layout", Attrs: map[string]string{"tar": "false"}}},
		{in: "type=tar,dest=fs.tar", want: Output{Type: "tar", Dest: "fs.tar", Attrs: map[string]string{}}},
		{
			in:   "type=image,name=127.0.0.1:5000/a:b,push=true",
			want: Output{Type: "image", Attrs: map[string]string{"name": "127.0.0.1:5000/a:b", "push": "true"}},
		},
		{
			in:   `type=image,"name=r/a:1,r/a:2"`,
			want: Output{Type: "image", Attrs: map[string]string{"name": "r/a:1,r/a:2"}},
		},
		{in: "type=registry,name=r/a", want: Output{Type: "image", Attrs: map[string]string{"name": "r/a", "push": "true"}}},
		{in: "TYPE=local,DEST=x", want: Output{Type: "local", Dest: "x", Attrs: map[string]string{}}},
		{in: "type=cacheonly", want: Output{Type: "cacheonly", Attrs: map[string]string{}}},
		{in: "type=bogus,dest=x", wantErr: "unknown --output type \"bogus\" (valid types: cacheonly, docker, image, local, oci, registry, tar)"},
		{in: "dest=x", wantErr: "type is required"},
		{in: "type=local", wantErr: "requires dest=DIRECTORY"},
		{in: "type=oci,tar=false", wantErr: "requires dest=DIRECTORY"},
		{in: "type=image,dest=x", wantErr: "does not take dest"},
		{in: "type=local,output=x", wantErr: "did you mean dest=x"},
		{in: "type=local,dest", wantErr: "expected key=value"},
		{in: "", wantErr: "empty --output"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseOutput(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != tt.want.Type || got.Dest != tt.want.Dest || !maps.Equal(got.Attrs, tt.want.Attrs) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestExportEntries(t *testing.T) {
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "img.tar")
	outs, err := ParseOutputs([]string{
		"type=oci,dest=" + tarPath,
		"type=local,dest=" + filepath.Join(dir, "rootfs"),
		"type=image,name=r/a,push=true",
		"type=oci,tar=false,dest=" + filepath.Join(dir, "layout"),
		"type=cacheonly",
	})
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	entries, err := ExportEntries(outs, &stdout, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		t.Fatalf("want 4 entries (cacheonly exports nothing), got %d", len(entries))
	}
	oci := entries[0]
	if oci.Type != "oci" || oci.Output == nil || oci.OutputDir != "" {
		t.Fatalf("oci entry: %+v", oci)
	}
	if _, err := os.Stat(tarPath); err == nil {
		t.Fatal("tar file created before the exporter asked for it")
	}
	w, err := oci.Output(nil)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "tar")
	w.Close()
	if b, _ := os.ReadFile(tarPath); string(b) != "tar" {
		t.Fatalf("tar file content %q", b)
	}
	if e := entries[1]; e.Type != "local" || e.OutputDir != filepath.Join(dir, "rootfs") || e.Output != nil {
		t.Fatalf("local entry: %+v", e)
	}
	if e := entries[2]; e.Type != "image" || e.Attrs["name"] != "r/a" || e.Attrs["push"] != "true" || e.Output != nil || e.OutputDir != "" {
		t.Fatalf("image entry: %+v", e)
	}
	if e := entries[3]; e.Type != "oci" || e.OutputDir != filepath.Join(dir, "layout") || e.Output != nil {
		t.Fatalf("oci layout entry: %+v", e)
	}
}

func TestExportEntriesStdout(t *testing.T) {
	outs, _ := ParseOutputs([]string{"-"})
	var stdout bytes.Buffer
	entries, err := ExportEntries(outs, &stdout, false)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := entries[0].Output(nil)
	io.WriteString(w, "data")
	w.Close()
	if stdout.String() != "data" {
		t.Fatalf("stdout got %q", stdout.String())
	}
	if _, err := ExportEntries(outs, &stdout, true); err == nil || !strings.Contains(err.Error(), "terminal") {
		t.Fatalf("want refusal to write to a terminal, got %v", err)
	}
	two, _ := ParseOutputs([]string{"-", "type=oci"})
	if _, err := ExportEntries(two, &stdout, false); err == nil || !strings.Contains(err.Error(), "only one") {
		t.Fatalf("want one-stdout error, got %v", err)
	}
}

func TestExportEntriesBadDest(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	for _, in := range []string{
		"type=oci,dest=" + dir,
		"type=tar,dest=" + filepath.Join(dir, "missing", "x.tar"),
		"type=local,dest=" + file,
	} {
		outs, err := ParseOutputs([]string{in})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ExportEntries(outs, io.Discard, false); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

func TestParseSecrets(t *testing.T) {
	tests := []struct {
		in      string
		want    secretsprovider.Source
		wantErr string
	}{
		{in: "id=tok,src=/run/tok", want: secretsprovider.Source{ID: "tok", FilePath: "/run/tok"}},
		{in: "id=tok,source=/run/tok", want: secretsprovider.Source{ID: "tok", FilePath: "/run/tok"}},
		{in: "id=tok,env=TOKEN", want: secretsprovider.Source{ID: "tok", Env: "TOKEN"}},
		{in: "id=tok,type=env,src=TOKEN", want: secretsprovider.Source{ID: "tok", Env: "TOKEN"}},
		{in: "id=tok,type=file,src=f", want: secretsprovider.Source{ID: "tok", FilePath: "f"}},
		{in: "id=tok", want: secretsprovider.Source{ID: "tok"}},
		{in: "src=/x", wantErr: "id is required"},
		{in: "id=tok,type=ssh", wantErr: "type must be file or env"},
		{in: "id=tok,src=a,env=B", wantErr: "not both"},
		{in: "id=tok,value=hunter2", wantErr: `unknown key "value"`},
		{in: "id=tok,hunter2", wantErr: "not key=value"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSecrets([]string{tt.in})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error leaks a value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, err := ParseSecrets([]string{"id=a,env=A", "id=a,env=B"}); err == nil {
		t.Fatal("duplicate id accepted")
	}
}

func TestParseSSH(t *testing.T) {
	got, err := ParseSSH([]string{"default", "git=/k1,/k2"})
	if err != nil {
		t.Fatal(err)
	}
	want := []sshprovider.AgentConfig{{ID: "default"}, {ID: "git", Paths: []string{"/k1", "/k2"}}}
	if len(got) != 2 || got[0].ID != want[0].ID || got[0].Paths != nil || got[1].ID != "git" || !slices.Equal(got[1].Paths, want[1].Paths) {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range [][]string{{"=x"}, {"a=x,"}, {"a", "a"}} {
		if _, err := ParseSSH(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseBuildArgs(t *testing.T) {
	lookup := env(map[string]string{"FROM_ENV": "env-value", "EMPTY": ""})
	got, err := ParseBuildArgs([]string{"A=1", "B=", "C=x=y", "FROM_ENV", "EMPTY", "UNSET"}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "", "C": "x=y", "FROM_ENV": "env-value", "EMPTY": ""}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v (unset env args are dropped, like buildx)", got, want)
	}
	if _, err := ParseBuildArgs([]string{"=v"}, lookup); err == nil {
		t.Fatal("empty name accepted")
	}
}

func TestParseBuildContexts(t *testing.T) {
	got, err := ParseBuildContexts([]string{"base=docker-image://alpine", "docker.io/library/alpine:latest=./x", "x=a=b",
		"docker.io/library/busybox:1.35::linux/amd64=docker-image://busybox@sha256:" + strings.Repeat("a", 64)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"base": "docker-image://alpine", "alpine": "./x", "x": "a=b",
		"busybox:1.35::linux/amd64": "docker-image://busybox@sha256:" + strings.Repeat("a", 64)}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"novalue", "=x", "x=", "UPPER=x"} {
		if _, err := ParseBuildContexts([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParsePlatforms(t *testing.T) {
	got, err := ParsePlatforms([]string{"linux/amd64,linux/arm64", "linux/amd64", " linux/arm/v7 "})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := ParsePlatforms([]string{"not a platform!"}); err == nil {
		t.Fatal("invalid platform accepted")
	}
	if _, err := ParsePlatforms([]string{","}); err == nil {
		t.Fatal("empty platform list accepted")
	}
}

func TestParseAttests(t *testing.T) {
	got, err := ParseAttests([]string{"type=sbom,generator=img:1", "type=provenance,mode=max", "type=provenance,disabled=true"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sbom": "type=sbom,generator=img:1"}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := ParseAttests([]string{"mode=max"}); err == nil {
		t.Fatal("attest without type accepted")
	}
}

func TestResolveAttrMapping(t *testing.T) {
	ctxDir := contextDir(t)
	otherDir := t.TempDir()
	dfDir := t.TempDir()
	customDF := filepath.Join(dfDir, "hardened.Dockerfile")
	os.WriteFile(customDF, []byte("FROM scratch\n"), 0o644)

	o := Options{
		ContextPath:    ctxDir,
		DockerfilePath: customDF,
		BuildArgs:      []string{"V=1", "FROM_ENV", "UNSET"},
		BuildContexts: []string{
			"base=docker-image://alpine:3",
			"src=" + otherDir,
			"context=" + otherDir,
			"stage=target:builder",
			"repo=https://example.invalid/repo.git",
		},
		Labels:    []string{"org.opencontainers.image.title=x"},
		Platforms: []string{"linux/amd64,linux/arm64"},
		Attests:   []string{"type=sbom"},
		Opts:      []string{"build-arg:V=overridden", "image-resolve-mode=pull"},
		Target:    "final",
		NoCache:   true,
	}
	p, err := o.Resolve(env(map[string]string{"FROM_ENV": "e"}))
	if err != nil {
		t.Fatal(err)
	}
	wantAttrs := map[string]string{
		"filename":                             "hardened.Dockerfile",
		"build-arg:V":                          "overridden",
		"build-arg:FROM_ENV":                   "e",
		"context:base":                         "docker-image://alpine:3",
		"context:src":                          "local:src",
		"context:context":                      "local:_context",
		"context:stage":                        "target:builder",
		"context:repo":                         "https://example.invalid/repo.git",
		"frontend.caps":                        "moby.buildkit.frontend.contexts+forward",
		"label:org.opencontainers.image.title": "x",
		"platform":                             "linux/amd64,linux/arm64",
		"attest:sbom":                          "type=sbom",
		"image-resolve-mode":                   "pull",
		"target":                               "final",
		"no-cache":                             "",
	}
	if !maps.Equal(p.Attrs, wantAttrs) {
		t.Fatalf("attrs:\n got %v\nwant %v", p.Attrs, wantAttrs)
	}
	wantLocals := map[string]string{"context": ctxDir, "dockerfile": dfDir, "src": otherDir, "_context": otherDir}
	if !maps.Equal(p.LocalDirs, wantLocals) {
		t.Fatalf("locals:\n got %v\nwant %v", p.LocalDirs, wantLocals)
	}
}

func TestResolveDefaultDockerfile(t *testing.T) {
	ctxDir := contextDir(t)
	p, err := Options{ContextPath: ctxDir}.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Attrs["filename"] != "Dockerfile" || p.LocalDirs["dockerfile"] != ctxDir || p.LocalDirs["context"] != ctxDir {
		t.Fatalf("plan %+v", p)
	}
	if len(p.Attrs) != 1 {
		t.Fatalf("unexpected attrs for a plain build: %v", p.Attrs)
	}
}

func TestResolveRemoteContext(t *testing.T) {
	p, err := Options{ContextPath: "https://github.com/moby/buildkit.git#v0.34.2", DockerfilePath: "frontend/Dockerfile"}.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Attrs["context"] != "https://github.com/moby/buildkit.git#v0.34.2" || p.Attrs["filename"] != "frontend/Dockerfile" || len(p.LocalDirs) != 0 {
		t.Fatalf("plan %+v", p)
	}
}

func TestResolveErrors(t *testing.T) {
	ctxDir := contextDir(t)
	noDF := t.TempDir()
	file := filepath.Join(ctxDir, "Dockerfile")
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"no context", Options{}, "specify the build context"},
		{"missing context", Options{ContextPath: filepath.Join(noDF, "nope")}, "not found"},
		{"context is a file", Options{ContextPath: file}, "not a directory"},
		{"missing Dockerfile", Options{ContextPath: noDF}, "reading Dockerfile"},
		{"Dockerfile is a dir", Options{ContextPath: ctxDir, DockerfilePath: noDF}, "is a directory"},
		{"bad build-context", Options{ContextPath: ctxDir, BuildContexts: []string{"x=" + filepath.Join(noDF, "nope")}}, "build context x"},
		{"bad label", Options{ContextPath: ctxDir, Labels: []string{"novalue"}}, "--label"},
		{"bad opt", Options{ContextPath: ctxDir, Opts: []string{"=x"}}, "--opt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.o.Resolve(nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestResolveOCILayoutContext(t *testing.T) {
	ctxDir := contextDir(t)
	layout := t.TempDir()
	const dgst = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	index := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + dgst + `","size":1,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`
	os.WriteFile(filepath.Join(layout, "index.json"), []byte(index), 0o644)
	os.WriteFile(filepath.Join(layout, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)

	p, err := Options{ContextPath: ctxDir, BuildContexts: []string{"base=oci-layout://" + layout + ":v1"}}.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^oci-layout://([a-z0-9]+):v1@` + dgst + `$`)
	m := re.FindStringSubmatch(p.Attrs["context:base"])
	if m == nil {
		t.Fatalf("context:base = %q", p.Attrs["context:base"])
	}
	if p.OCIStores[m[1]] != layout {
		t.Fatalf("store %s not mapped to the layout: %v", m[1], p.OCIStores)
	}
}

func TestDecodeExporterResponse(t *testing.T) {
	desc := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:abc","size":1}`
	resp := map[string]string{
		"containerimage.digest":     "sha256:abc",
		"containerimage.descriptor": b64(desc),
		"image.name":                "r/a:1",
		"result.json":               `{"k":"v"}`,
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "meta.json")
	if err := WriteMetadataFile(p, resp); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["containerimage.digest"] != "sha256:abc" || got["image.name"] != "r/a:1" {
		t.Fatalf("strings changed: %v", got)
	}
	d, ok := got["containerimage.descriptor"].(map[string]any)
	if !ok || d["digest"] != "sha256:abc" {
		t.Fatalf("descriptor not decoded: %v", got["containerimage.descriptor"])
	}
	if r, ok := got["result.json"].(map[string]any); !ok || r["k"] != "v" {
		t.Fatalf("result.json not embedded: %v", got["result.json"])
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func b64(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}

func TestApplyTags(t *testing.T) {
	outs, _ := ParseOutputs([]string{"type=oci,dest=x.tar", "type=local,dest=d", "type=image,name=old"})
	if err := ApplyTags(outs, []string{"r/a:1", "r/a:2"}); err != nil {
		t.Fatal(err)
	}
	if outs[0].Attrs["name"] != "r/a:1,r/a:2" || outs[2].Attrs["name"] != "r/a:1,r/a:2" {
		t.Fatalf("names not applied: %+v", outs)
	}
	if _, ok := outs[1].Attrs["name"]; ok {
		t.Fatal("name set on a local output")
	}
	local, _ := ParseOutputs([]string{"type=local,dest=d"})
	if err := ApplyTags(local, []string{"r/a"}); err == nil {
		t.Fatal("tag without an image output accepted")
	}
	if err := ApplyTags(outs, []string{"Not Valid"}); err == nil {
		t.Fatal("invalid tag accepted")
	}
}
