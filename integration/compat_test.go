package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/errdefs"

	"github.com/hardenkit/hardenkit/pkg/ocilayout"
)

// compatCase is integration/testdata/compat/<name>/case.json.
type compatCase struct {
	Description string            `json:"description"`
	Dockerfile  string            `json:"dockerfile"`
	Target      string            `json:"target"`
	BuildArgs   map[string]string `json:"buildArgs"`
	Contexts    map[string]string `json:"contexts"`
	Secrets     map[string]string `json:"secrets"`
	SSH         bool              `json:"ssh"`
	Platforms   []string          `json:"platforms"`
	Call        string            `json:"call"`
	ExpectError string            `json:"expectError"`
}

func loadCompatCases(t *testing.T) map[string]compatCase {
	t.Helper()
	dirs, err := filepath.Glob("testdata/compat/*/case.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]compatCase{}
	for _, p := range dirs {
		dt, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var c compatCase
		dec := json.NewDecoder(bytes.NewReader(dt))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if c.Dockerfile == "" {
			c.Dockerfile = "Dockerfile"
		}
		cases[filepath.Base(filepath.Dir(p))] = c
	}
	if len(cases) < 25 {
		t.Fatalf("compatibility suite has %d cases, want at least 25", len(cases))
	}
	return cases
}

func (c compatCase) request(dir string) buildRequest {
	req := buildRequest{
		contextDir: dir,
		dockerfile: filepath.Join(dir, c.Dockerfile),
		attrs:      map[string]string{},
		contexts:   map[string]string{},
		ssh:        c.SSH,
		call:       c.Call,
	}
	for k, v := range c.BuildArgs {
		req.attrs["build-arg:"+k] = v
	}
	if c.Target != "" {
		req.attrs["target"] = c.Target
	}
	if len(c.Platforms) > 0 {
		req.attrs["platform"] = strings.Join(c.Platforms, ",")
	}
	for name, v := range c.Contexts {
		if !strings.Contains(v, "://") {
			v = filepath.Join(dir, v)
		}
		req.contexts[name] = v
	}
	if len(c.Secrets) > 0 {
		req.secrets = map[string][]byte{}
		for k, v := range c.Secrets {
			req.secrets[k] = []byte(v)
		}
	}
	return req
}

// TestCompatibility builds every case of the compatibility suite with
// dockerfile.v0 and with hardenkit (HARDENKIT_MODE=off, in-process and through
// the frontend image) and asserts the same image config and file tree, the
// same subrequest answers, or the same error at the same Dockerfile line.
func TestCompatibility(t *testing.T) {
	cases := loadCompatCases(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir, err := filepath.Abs(filepath.Join("testdata/compat", name))
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := build(ctx, t, stock, c.request(dir))
			for _, v := range []variant{inProcess, gateway} {
				got, gotErr := build(ctx, t, v, c.request(dir))
				switch {
				case c.ExpectError != "":
					compareErrors(t, v, c.ExpectError, wantErr, gotErr)
				case wantErr != nil:
					t.Fatalf("%v\n%s", wantErr, want.progress)
				case gotErr != nil:
					t.Fatalf("%v\n%s", gotErr, got.progress)
				case c.Call != "":
					compareSubrequest(t, v, c.Call, want.metadata, got.metadata)
				default:
					compareImages(t, v, c.Platforms, want.oci, got.oci)
				}
			}
		})
	}
}

func compareErrors(t *testing.T, v variant, expect string, want, got error) {
	t.Helper()
	if want == nil || got == nil {
		t.Fatalf("%s: want both builds to fail with %q; dockerfile.v0: %v, hardenkit: %v", v, expect, want, got)
	}
	for _, err := range []error{want, got} {
		if !strings.Contains(err.Error(), expect) {
			t.Errorf("%s: error %q does not contain %q", v, err, expect)
		}
	}
	if wl, gl := sourceLines(want), sourceLines(got); !reflect.DeepEqual(wl, gl) {
		t.Errorf("%s: error source lines = %v, dockerfile.v0 has %v", v, gl, wl)
	}
}

// sourceLines lists "file:line" of each Dockerfile range attached to err.
func sourceLines(err error) []string {
	var out []string
	for _, s := range errdefs.Sources(err) {
		for _, r := range s.Ranges {
			out = append(out, fmt.Sprintf("%s:%d", s.Info.Filename, r.Start.Line))
		}
	}
	return out
}

func compareSubrequest(t *testing.T, v variant, call string, want, got map[string][]byte) {
	t.Helper()
	if len(want["result.json"]) == 0 {
		t.Fatalf("dockerfile.v0 returned no result.json for --call=%s (keys %v)", call, keysOf(want))
	}
	if w, g := comparableSubrequest(t, want["result.json"]), comparableSubrequest(t, got["result.json"]); w != g {
		t.Errorf("%s: --call=%s result differs\nhardenkit:     %s\ndockerfile.v0: %s", v, call, g, w)
	}
	if !bytes.Equal(want["result.txt"], got["result.txt"]) {
		t.Errorf("%s: --call=%s text result differs\nhardenkit:\n%s\ndockerfile.v0:\n%s", v, call, got["result.txt"], want["result.txt"])
	}
}

// comparableSubrequest drops the LLB definitions of the Dockerfile sources
// that lint results embed: they name the client session, which differs
// between any two builds.
func comparableSubrequest(t *testing.T, raw []byte) string {
	t.Helper()
	var res map[string]any
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("decoding subrequest result: %v", err)
	}
	if sources, ok := res["sources"].([]any); ok {
		for _, s := range sources {
			if sm, ok := s.(map[string]any); ok {
				delete(sm, "definition")
			}
		}
	}
	dt, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func compareImages(t *testing.T, v variant, platforms []string, wantTar, gotTar []byte) {
	t.Helper()
	want, err := ocilayout.Read(bytes.NewReader(wantTar))
	if err != nil {
		t.Fatalf("dockerfile.v0 output: %v", err)
	}
	got, err := ocilayout.Read(bytes.NewReader(gotTar))
	if err != nil {
		t.Fatalf("%s output: %v", v, err)
	}
	if len(platforms) == 0 {
		platforms = []string{"linux/amd64"}
	}
	for _, p := range platforms {
		wi, err := want.Platform(p)
		if err != nil {
			t.Fatalf("dockerfile.v0: %v", err)
		}
		gi, err := got.Platform(p)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if wc, gc := comparableConfig(t, wi.RawConfig), comparableConfig(t, gi.RawConfig); wc != gc {
			t.Errorf("%s %s: image config differs\nhardenkit:     %s\ndockerfile.v0: %s", v, p, gc, wc)
		}
		if len(wi.Manifest.Layers) != len(gi.Manifest.Layers) {
			t.Errorf("%s %s: %d layers, dockerfile.v0 has %d", v, p, len(gi.Manifest.Layers), len(wi.Manifest.Layers))
		}
		wf, err := wi.Files()
		if err != nil {
			t.Fatal(err)
		}
		gf, err := gi.Files()
		if err != nil {
			t.Fatal(err)
		}
		compareTrees(t, fmt.Sprintf("%s %s", v, p), wf, gf)
	}
}

// comparableConfig drops what differs between two builds of the same
// Dockerfile by design: wall-clock creation times and the layer digests that
// carry RUN-time mtimes (the file tree is compared separately).
func comparableConfig(t *testing.T, raw []byte) string {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg, "created")
	if hist, ok := cfg["history"].([]any); ok {
		for _, h := range hist {
			if hm, ok := h.(map[string]any); ok {
				delete(hm, "created")
			}
		}
	}
	if rootfs, ok := cfg["rootfs"].(map[string]any); ok {
		if ids, ok := rootfs["diff_ids"].([]any); ok {
			rootfs["diff_ids"] = len(ids)
		}
	}
	dt, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(dt)
}

func compareTrees(t *testing.T, what string, want, got map[string]ocilayout.File) {
	t.Helper()
	var diffs []string
	for _, p := range ocilayout.SortedPaths(want) {
		g, ok := got[p]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+p)
		case g.Describe() != want[p].Describe():
			diffs = append(diffs, fmt.Sprintf("%s: %s, dockerfile.v0 has %s", p, g.Describe(), want[p].Describe()))
		}
	}
	for _, p := range ocilayout.SortedPaths(got) {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, "extra "+p)
		}
	}
	if len(diffs) > 0 {
		if len(diffs) > 20 {
			diffs = append(diffs[:20], fmt.Sprintf("… %d more", len(diffs)-20))
		}
		t.Errorf("%s: file tree differs from dockerfile.v0:\n%s", what, strings.Join(diffs, "\n"))
	}
}
