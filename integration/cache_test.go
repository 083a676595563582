package integration

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vertexLine is a plain-progress line naming a vertex ("#12 [hardenkit] …")
// or giving its outcome ("#12 CACHED", "#12 DONE 0.3s").
var vertexLine = regexp.MustCompile(`^#(\d+) (.*)$`)

// hardenkitSteps returns, for each [hardenkit] step of a build's plain
// progress, whether the build cache answered it (CACHED) or it ran (DONE).
func hardenkitSteps(progress string) map[string]bool {
	names := map[string]string{}
	cached := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(progress))
	for sc.Scan() {
		m := vertexLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		id, rest := m[1], m[2]
		switch {
		case strings.HasPrefix(rest, "[hardenkit] "):
			names[id] = rest
		case rest == "CACHED":
			if n, ok := names[id]; ok {
				cached[n] = true
			}
		case strings.HasPrefix(rest, "DONE"):
			if n, ok := names[id]; ok {
				if _, seen := cached[n]; !seen {
					cached[n] = false
				}
			}
		}
	}
	return cached
}

// stepOutcome finds the one step whose name starts with prefix.
func stepOutcome(t *testing.T, steps map[string]bool, prefix string) bool {
	t.Helper()
	for name, cached := range steps {
		if strings.HasPrefix(name, prefix) {
			return cached
		}
	}
	t.Fatalf("no [hardenkit] step %q in the progress; steps: %v", prefix, steps)
	return false
}

// TestCacheReuse builds a Debian image that ships one program through
// `# syntax=` three times: the same source again, where every hardenkit
// analysis step must come from the build cache, then with the
// application changed, where the analysis of the shipped stage runs again
// but the base image is not listed again. Issue 16's promise that a cached
// build costs what BuildKit's cache lookup costs rests on this.
func TestCacheReuse(t *testing.T) {
	if env.BaseDebian == "" {
		t.Fatal("the dev environment has no Debian base image")
	}
	ctx := context.Background()
	dir := t.TempDir()
	app, err := os.ReadFile("/usr/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), data, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("app", app, 0o755)
	// A fresh marker per run keeps the first build from hitting the cache
	// of an earlier test run.
	write("data.txt", []byte(t.Name()+" "+strconv.FormatInt(time.Now().UnixNano(), 10)+"\n"), 0o644)
	debian := "debian@" + digestOf(t, env.BaseDebian)
	write("Dockerfile", []byte("FROM "+debian+"\nCOPY data.txt /srv/data.txt\nCOPY app /usr/local/bin/app\nUSER 65532:65532\nENTRYPOINT [\"/usr/local/bin/app\"]\n"), 0o644)
	df := filepath.Join(dir, "Dockerfile")

	buildOnce := func(what string) map[string]bool {
		t.Helper()
		out, err := buildWithBuildctl(ctx, t, dir, df, filepath.Join(t.TempDir(), "image.tar"), nil)
		if err != nil {
			t.Fatalf("%s build: %v\n%s", what, err, tail(out, 60))
		}
		return hardenkitSteps(out)
	}
	first := buildOnce("first")
	// The base's listing may come from any earlier build on the same base;
	// the shipped stage is new.
	stepOutcome(t, first, "[hardenkit] list the base")
	for _, step := range []string{"[hardenkit] decide what ships", "[hardenkit] verify the hardened filesystem"} {
		if stepOutcome(t, first, step) {
			t.Errorf("first build: %q came from the cache of a build of different source", step)
		}
	}

	again := buildOnce("unchanged")
	for _, step := range []string{"[hardenkit] list the base", "[hardenkit] decide what ships", "[hardenkit] verify the hardened filesystem",
		"[hardenkit] inspect the hardened image", "[hardenkit] SBOM of the hardened image"} {
		if !stepOutcome(t, again, step) {
			t.Errorf("unchanged rebuild: %q ran again instead of coming from the cache", step)
		}
	}

	write("data.txt", []byte(t.Name()+" changed "+strconv.FormatInt(time.Now().UnixNano(), 10)+"\n"), 0o644)
	changed := buildOnce("changed application")
	if !stepOutcome(t, changed, "[hardenkit] list the base") {
		t.Error("changed application: the base image was listed again")
	}
	for _, step := range []string{"[hardenkit] decide what ships", "[hardenkit] verify the hardened filesystem", "[hardenkit] inspect the hardened image"} {
		if stepOutcome(t, changed, step) {
			t.Errorf("changed application: %q came from the cache, though what ships changed", step)
		}
	}
}
