package harden

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

func specialTree() *rootfs.Tree {
	return rootfs.NewTree([]rootfs.Entry{
		{Path: "/", Mode: fs.ModeDir | 0o755},
		{Path: "/app", Mode: fs.ModeDir | 0o755},
		{Path: "/app/server", Mode: 0o755, Size: 10},
		{Path: "/dev", Mode: fs.ModeDir | 0o755},
		{Path: "/dev/mem", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o644},
		{Path: "/dev/sda", Mode: fs.ModeDevice | 0o600},
		{Path: "/app/pipe", Mode: fs.ModeNamedPipe | 0o644},
		{Path: "/app/sock", Mode: fs.ModeSocket | 0o755},
	})
}

func TestDropSpecialFiles(t *testing.T) {
	all := []string{"/app", "/app/pipe", "/app/server", "/app/sock", "/dev", "/dev/mem", "/dev/sda"}
	tests := []struct {
		level     rules.Level
		wantErr   []string
		wantPaths []string
		findings  int
	}{
		{level: rules.LevelEnforce, wantErr: []string{"HK2042", "/dev/mem (character device", "/dev/sda (block device", "/app/pipe (FIFO", "/app/sock (socket"}},
		{level: rules.LevelWarn, wantPaths: []string{"/app", "/app/server", "/dev"}, findings: 4},
		{level: rules.LevelOff, wantPaths: all},
	}
	for _, tc := range tests {
		t.Run(string(tc.level), func(t *testing.T) {
			p := strictConfig(func(c *Config) { c.Levels["HK2042"] = tc.level })
			plan := fsPlan{paths: slices.Clone(all), include: slices.Clone(all)}
			err := dropSpecialFiles(Input{Config: p}, specialTree(), &plan)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(plan.paths, tc.wantPaths) || !slices.Equal(plan.include, tc.wantPaths) {
				t.Errorf("paths %v include %v, want %v", plan.paths, plan.include, tc.wantPaths)
			}
			if len(plan.findings) != tc.findings {
				t.Errorf("%d findings, want %d: %v", len(plan.findings), tc.findings, plan.findings)
			}
		})
	}
}

// TestWorldWritableStickyOnly: the sticky directory itself is exempt,
// nothing below it is.
func TestWorldWritableStickyOnly(t *testing.T) {
	tree := rootfs.NewTree([]rootfs.Entry{
		{Path: "/", Mode: fs.ModeDir | 0o755},
		{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Path: "/var", Mode: fs.ModeDir | 0o755},
		{Path: "/var/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Path: "/var/tmp/app", Mode: 0o777, Size: 3},
		{Path: "/var/tmp/lib", Mode: fs.ModeDir | 0o777},
		{Path: "/var/lib", Mode: fs.ModeDir | 0o755},
		{Path: "/var/lib/sessions", Mode: fs.ModeDir | fs.ModeSticky | 0o733},
		{Path: "/run", Mode: fs.ModeDir | 0o755},
		{Path: "/run/lock", Mode: fs.ModeDir | 0o777},
		{Path: "/app", Mode: fs.ModeSymlink | 0o777, Linkname: "/var/tmp"},
	})
	var got []string
	for _, f := range worldWritable(tree, rules.LevelWarn) {
		got = append(got, f.File)
		if f.File == "/run/lock" && !strings.Contains(f.Message, "drwxrwxrwx") {
			t.Errorf("message does not show the directory bit: %s", f.Message)
		}
	}
	if want := []string{"/run/lock", "/var/tmp/app", "/var/tmp/lib"}; !slices.Equal(got, want) {
		t.Errorf("world-writable %v, want %v", got, want)
	}
}

// TestSpecialFilesViolationNamesPaths: the HK2042 violation carries the
// paths it is about, and they survive the JSON the in-build analysis step
// answers with, so the frontend can name the instructions that wrote them.
func TestSpecialFilesViolationNamesPaths(t *testing.T) {
	p := strictConfig(func(c *Config) { c.Levels["HK2042"] = rules.LevelEnforce })
	all := []string{"/app", "/app/pipe", "/app/server", "/dev", "/dev/mem"}
	plan := fsPlan{paths: all, include: all}
	err := dropSpecialFiles(Input{Config: p}, specialTree(), &plan)
	vs, ok := AsViolations(err)
	if !ok || len(vs) != 1 {
		t.Fatalf("dropSpecialFiles() = %v, want one violation", err)
	}
	if want := []string{"/app/pipe", "/dev/mem"}; !slices.Equal(vs[0].Paths, want) {
		t.Errorf("Paths = %v, want %v", vs[0].Paths, want)
	}
	dt, err := json.Marshal(vs)
	if err != nil {
		t.Fatal(err)
	}
	var back Violations
	if err := json.Unmarshal(dt, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || !slices.Equal(back[0].Paths, vs[0].Paths) || back[0].Message != vs[0].Message {
		t.Errorf("after JSON: %+v, want %+v", back, vs)
	}
}
