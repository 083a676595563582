package harden

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// writeTree makes a directory tree: names ending in "/" are directories,
// others files (mode 0755 when their content starts with "#!" or "\x7fELF").
func writeTree(t *testing.T, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, dt := range entries {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(dt, "#!") || strings.HasPrefix(dt, "\x7fELF") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(dt), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// debianBase is the part of a Debian base that matters here.
var debianBase = map[string]string{
	"etc/passwd": debianPasswd, "etc/group": "root:x:0:\napp:x:1000:\n",
	"usr/bin/": "", "var/lib/dpkg/": "", "var/cache/": "", "var/log/": "", "tmp/": "", "run/": "",
	"home/": "", "opt/": "", "srv/": "",
}

// decideStrip runs the analysis in strip mode over final (base as its base).
func decideStrip(t *testing.T, base, final map[string]string, cfg dockerspec.DockerOCIImageConfig) Decision {
	t.Helper()
	all := map[string]string{}
	for k, v := range base {
		all[k] = v
	}
	for k, v := range final {
		all[k] = v
	}
	finalSrc := rootfs.DirSource(writeTree(t, all))
	baseSrc := rootfs.DirSource(writeTree(t, base))
	img := &dockerspec.DockerOCIImage{Config: cfg}
	p := Params{HasBase: true, BaseName: "debian", Image: img,
		Config: strictConfig(func(c *Config) { c.Distroless.Mode = DistrolessStrip })}
	d, err := DecideFS(context.Background(), finalSrc, LoadBase(baseSrc), p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestApplicationStateIsTheUsers: what the shipped stage created outside
// system directories, its WORKDIR and VOLUMEs, become the non-root
// user's with their subtrees; system directories, other users' homes and
// the executables below handed directories do not.
func TestApplicationStateIsTheUsers(t *testing.T) {
	app := map[string]string{
		"data/": "", "app/manage.py": "import django", "app/data/db.sqlite3": "SQLite format 3",
		"app/bin/server": "\x7fELF...", "var/lib/myapp/": "", "var/log/myapp/": "", "usr/local/bin/tool": "#!/bin/sh",
		"etc/myapp/app.conf": "x", "home/other/.profile": "x", "srv/www/index.html": "x", "tmp/build/": "",
	}
	passwdWithOther := debianPasswd + "other:x:1001:1001::/home/other:/bin/sh\n"
	withOther := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		out["etc/passwd"] = passwdWithOther
		return out
	}
	tests := []struct {
		name      string
		cfg       dockerspec.DockerOCIImageConfig
		owner     Owner
		want      []Handover
		rootOwned []string
	}{
		{
			name:  "injected user",
			cfg:   imageConfig("", "/data", "/var/lib/myapp"),
			owner: Owner{UID: 65532, GID: 65532},
			want: []Handover{
				{"/app", whyCreated}, {"/data", whyWorkdir}, {"/srv/www", whyCreated},
				{"/var/lib/myapp", whyVolume}, {"/var/log/myapp", whyCreated},
				{"/home/nonroot", "home of nonroot in /etc/passwd"},
			},
			rootOwned: []string{"/app/bin/server"},
		},
		{
			name:  "named user owns, and its home",
			cfg:   imageConfig("app", "/app", ""),
			owner: Owner{UID: 1000, GID: 1000},
			want: []Handover{
				{"/app", whyWorkdir}, {"/data", whyCreated}, {"/srv/www", whyCreated},
				{"/var/lib/myapp", whyCreated}, {"/var/log/myapp", whyCreated},
				{"/home/app", "home of app in /etc/passwd"},
			},
			rootOwned: []string{"/app/bin/server"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decideStrip(t, withOther(debianBase), app, tt.cfg)
			if d.Owner == nil || *d.Owner != tt.owner {
				t.Fatalf("owner = %+v, want %+v", d.Owner, tt.owner)
			}
			if !slices.Equal(d.Handovers, tt.want) {
				t.Errorf("handovers:\n%v\nwant\n%v", d.Handovers, tt.want)
			}
			if !slices.Equal(d.RootOwned, tt.rootOwned) {
				t.Errorf("executables that stay root's = %v, want %v", d.RootOwned, tt.rootOwned)
			}
			for _, h := range d.Handovers {
				if strings.HasPrefix(h.Why, "home") {
					continue
				}
				if !slices.Contains(d.StateDirs, h.Path) {
					t.Errorf("%s is listed but not handed over (state dirs %v)", h.Path, d.StateDirs)
				}
			}
		})
	}
}

// TestRootImageHandsNothingOver: an image that runs as root (at warn)
// gives nobody anything, but still gets the layout.
func TestRootImageHandsNothingOver(t *testing.T) {
	finalSrc := rootfs.DirSource(writeTree(t, map[string]string{"etc/passwd": debianPasswd, "data/": ""}))
	img := &dockerspec.DockerOCIImage{Config: imageConfig("root", "/data", "")}
	p := Params{Image: img, Config: strictConfig(func(c *Config) {
		c.Distroless.Mode = DistrolessStrip
		c.Levels[ruleRunsAsRoot.ID] = "warn"
	})}
	d, err := DecideFS(context.Background(), finalSrc, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if d.Owner != nil || len(d.Handovers) != 0 || len(d.StateDirs) != 0 {
		t.Errorf("root image: owner %v, handovers %v, state dirs %v; want none", d.Owner, d.Handovers, d.StateDirs)
	}
	if !slices.ContainsFunc(d.Layout, func(e LayoutEntry) bool { return e.Path == "/tmp" && e.Mode == 0o1777 }) {
		t.Errorf("root image has no /tmp 1777 in its layout: %v", d.Layout)
	}
}

func imageConfig(user, workdir, volume string) dockerspec.DockerOCIImageConfig {
	var c dockerspec.DockerOCIImageConfig
	c.User, c.WorkingDir = user, workdir
	if volume != "" {
		c.Volumes = map[string]struct{}{volume: {}}
	}
	return c
}

// TestUnshippedBelowHandedDirs: what the plan left out below a handed
// directory is excluded from its copy, topmost only.
func TestUnshippedBelowHandedDirs(t *testing.T) {
	final, err := rootfs.Load(context.Background(), rootfs.DirSource(writeTree(t, map[string]string{
		"app/server": "\x7fELF", "app/dropped/x": "x", "app/dropped/y/z": "z", "app/keep/a": "a", "other/b": "b",
	})))
	if err != nil {
		t.Fatal(err)
	}
	shipped := map[string]bool{"/": true, "/app": true, "/app/server": true, "/app/keep": true, "/app/keep/a": true, "/other": true}
	got := unshippedBelow(final, shipped, []string{"/app"})
	if want := []string{"/app/dropped"}; !slices.Equal(got, want) {
		t.Errorf("unshippedBelow = %v, want %v", got, want)
	}
}
