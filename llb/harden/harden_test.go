package harden

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// strictConfig is the Config the frontend derives from the strict
// baseline (frontend/hardenconfig_test.go checks that they agree), edited
// by edit.
func strictConfig(edit func(*Config)) Config {
	c := Config{
		Policy:     "strict",
		Levels:     map[string]rules.Level{},
		Distroless: Distroless{Mode: DistrolessRebase},
		Tooling:    Tooling{Keep: []string{}},
		User:       UserInjection{Inject: true, UID: 65532, GID: 65532},
	}
	for _, r := range Rules() {
		c.Levels[r.ID] = rules.LevelEnforce
	}
	if edit != nil {
		edit(&c)
	}
	return c
}

func TestLeaves(t *testing.T) {
	tests := []struct {
		in, want []string
	}{
		{in: []string{"/", "/etc", "/etc/passwd", "/tmp", "/usr", "/usr/bin", "/usr/bin/app"}, want: []string{"/etc/passwd", "/tmp", "/usr/bin/app"}},
		{in: []string{"/a", "/a-b", "/a/c"}, want: []string{"/a-b", "/a/c"}},
		{in: nil, want: nil},
	}
	for _, tt := range tests {
		if got := leaves(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("leaves(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCollapseKept(t *testing.T) {
	dir := func(p string) rootfs.Entry { return rootfs.Entry{Path: p, Mode: fs.ModeDir | 0o755} }
	file := func(p string) rootfs.Entry { return rootfs.Entry{Path: p, Mode: 0o644} }
	final := rootfs.NewTree([]rootfs.Entry{
		dir("/data"), dir("/data/a"), file("/data/a/1"), file("/data/a/2"), dir("/data/b"), file("/data/b/1"),
		dir("/usr"), dir("/usr/bin"), file("/usr/bin/app"), file("/usr/bin/sh"),
		dir("/empty"),
	})
	tests := []struct {
		name string
		kept []string
		want []string
	}{
		{name: "a wholly kept tree is one pattern",
			kept: []string{"/data", "/data/a", "/data/a/1", "/data/a/2", "/data/b", "/data/b/1", "/usr", "/usr/bin", "/usr/bin/app"},
			want: []string{"/data", "/usr/bin/app"}},
		{name: "a dropped file keeps its siblings as leaves, a whole sibling directory collapses",
			kept: []string{"/data", "/data/a", "/data/a/1", "/data/b", "/data/b/1"},
			want: []string{"/data/a/1", "/data/b"}},
		{name: "an empty kept directory stays itself",
			kept: []string{"/empty"},
			want: []string{"/empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept := map[string]bool{}
			for _, p := range tt.kept {
				kept[p] = true
			}
			if got := collapseKept(final, leaves(tt.kept), kept); !slices.Equal(got, tt.want) {
				t.Errorf("collapseKept = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCopyPatternsEscapeMetacharacters(t *testing.T) {
	got := copyPatterns([]string{"/usr/bin/app", "/etc/[odd]*?name", `/back\slash`})
	want := []string{"usr/bin/app", `etc/\[odd]\*\?name`, `back\\slash`}
	if !slices.Equal(got, want) {
		t.Fatalf("copyPatterns = %q, want %q", got, want)
	}
}

func TestCheckBaseAllowedOnlyInRequireMode(t *testing.T) {
	from := []parser.Range{{Start: parser.Position{Line: 4}, End: parser.Position{Line: 4}}}
	base := llbScratchState()
	tests := []struct {
		name    string
		mode    string
		base    bool
		wantErr bool
	}{
		{"rebase ignores the allow-list", DistrolessRebase, true, false},
		{"require rejects an unlisted base", DistrolessRequire, true, true},
		{"require accepts scratch", DistrolessRequire, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{BaseName: "debian:bookworm", Lines: Lines{From: from},
				Config: strictConfig(func(c *Config) { c.Distroless.Mode = tt.mode })}
			if tt.base {
				in.Base = &base
			}
			err := checkBaseAllowed(in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				vs, ok := AsViolations(err)
				if !ok || vs[0].Rule != "HK2010" || vs[0].Ranges[0].Start.Line != 4 {
					t.Fatalf("violation = %+v, want HK2010 at line 4", vs)
				}
			}
		})
	}
}

func TestToolingListsFollowRuleLevels(t *testing.T) {
	p := strictConfig(func(c *Config) {
		c.Levels["HK2023"], c.Levels["HK2021"] = rules.LevelWarn, rules.LevelOff
		c.Tooling.Debuggers = []string{"mydbg"}
	})
	l := toolingLists(p)
	if len(l.Shells) != 0 || len(l.NetworkTools) != 0 {
		t.Errorf("shells/network tools at warn/off are removed: %v %v", l.Shells, l.NetworkTools)
	}
	if !slices.Equal(l.Debuggers, []string{"mydbg"}) {
		t.Errorf("debuggers = %v, want the policy's list", l.Debuggers)
	}
	if !slices.Contains(l.PackageManagers, "apt-get") || len(l.PackageManagerData) == 0 {
		t.Errorf("package managers at enforce use the built-in list: %v", l.PackageManagers)
	}
	w := listsAt(p, rules.LevelWarn)
	if !slices.Contains(w.Shells, "sh") || len(w.NetworkTools) != 0 || len(w.PackageManagers) != 0 {
		t.Errorf("lists at warn = %+v, want only the shells", w)
	}
}

func TestHardenedConfig(t *testing.T) {
	epoch := time.Unix(1700000000, 0)
	created := time.Now()
	in := Input{
		Epoch:  epoch,
		Config: strictConfig(nil),
		Image: &dockerspec.DockerOCIImage{
			Image: ocispecs.Image{
				Created: &created,
				RootFS:  ocispecs.RootFS{Type: "layers", DiffIDs: []digestT{"sha256:a", "sha256:b"}},
				History: []ocispecs.History{{CreatedBy: "a"}, {CreatedBy: "b", EmptyLayer: true}, {CreatedBy: "c"}},
			},
			Config: dockerspec.DockerOCIImageConfig{ImageConfig: ocispecs.ImageConfig{User: "", Env: []string{"PATH=/bin"}}},
		},
	}
	img, err := hardenedConfig(in, "65532:65532", fsPlan{paths: []string{"/a"}})
	if err != nil {
		t.Fatal(err)
	}
	if !img.Created.Equal(epoch) || len(img.History) != 1 || !img.History[0].Created.Equal(epoch) {
		t.Errorf("created %v, history %+v: want one entry at the epoch", img.Created, img.History)
	}
	if img.Config.User != "65532:65532" || len(img.RootFS.DiffIDs) != 0 {
		t.Errorf("user %q diff ids %v", img.Config.User, img.RootFS.DiffIDs)
	}
	if in.Image.Config.User != "" || len(in.Image.History) != 3 {
		t.Error("hardenedConfig modified its input")
	}
}

func TestAsViolationsAndEnvValue(t *testing.T) {
	v := &Violation{Rule: "HK2030", Message: "root"}
	if vs, ok := AsViolations(fmt.Errorf("wrapped: %w", v)); !ok || len(vs) != 1 {
		t.Errorf("AsViolations(single) = %v, %v", vs, ok)
	}
	if vs, ok := AsViolations(Violations{v, v}); !ok || len(vs) != 2 {
		t.Errorf("AsViolations(list) = %v, %v", vs, ok)
	}
	if _, ok := AsViolations(errors.New("other")); ok {
		t.Error("AsViolations(plain error) = ok")
	}
	if !strings.Contains(Violations{v, v}.Error(), "hardening failed (2)") {
		t.Errorf("Violations.Error() = %q", Violations{v, v}.Error())
	}
	env := []string{"PATH=/a", "X=1", "PATH=/b:/c"}
	if got := envValue(env, "PATH"); got != "/b:/c" {
		t.Errorf("envValue = %q, want the last PATH", got)
	}
	if got := envValue(env, "NOPE"); got != "" {
		t.Errorf("envValue(missing) = %q", got)
	}
}

func TestRulesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] || !strings.HasPrefix(r.ID, "HK2") || r.Title == "" || r.Rationale == "" || r.Remediation == "" || r.Stage != rules.StageLLB {
			t.Errorf("bad or duplicate rule %+v", r)
		}
		seen[r.ID] = true
	}
}

func TestPlanSummary(t *testing.T) {
	p := fsPlan{paths: []string{"/a", "/b"}, removed: []tooling.Match{
		{Path: "/usr/bin/curl", Category: tooling.NetworkTool, Reason: tooling.ReasonName},
		{Path: "/bin/sh", Category: tooling.Shell, Reason: tooling.ReasonName},
		{Path: "/var/lib/apt", Category: tooling.PackageManager, Reason: tooling.ReasonPackageManagerData},
	}}
	if got, want := p.summary(), "ship 2 paths; remove 2 tools: curl sh"; got != want {
		t.Errorf("summary() = %q, want %q", got, want)
	}
	if got := (fsPlan{paths: []string{"/a"}}).summary(); got != "ship 1 paths; no tooling to remove" {
		t.Errorf("summary() = %q", got)
	}
}

func TestWarnedToolingIsReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sh", "app"} {
		if err := os.WriteFile(filepath.Join(dir, "bin", name), []byte("#!"+name+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src := rootfs.DirSource(dir)
	tree, err := rootfs.Load(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		level rules.Level
		want  int
	}{{rules.LevelWarn, 1}, {rules.LevelEnforce, 0}, {rules.LevelOff, 0}} {
		p := strictConfig(func(c *Config) { c.Levels["HK2023"] = tt.level })
		fs, err := warnedTooling(context.Background(), p, tree, src)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != tt.want || (tt.want == 1 && (fs[0].Rule != "HK2023" || fs[0].File != "/bin/sh" || fs[0].Level != rules.LevelWarn)) {
			t.Errorf("HK2023 at %s: findings %+v, want %d", tt.level, fs, tt.want)
		}
	}
}
