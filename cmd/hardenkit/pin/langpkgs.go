package pin

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// fsReader is what reading installed packages needs from a built stage.
type fsReader interface {
	// ReadFile returns a file's content; ok is false when it does not
	// exist.
	ReadFile(ctx context.Context, p string) (dt []byte, ok bool, err error)
	// ReadDir returns the names in a directory; none when it does not
	// exist.
	ReadDir(ctx context.Context, dir string) ([]string, error)
}

// stageEnv is what the stage's image config says about where language
// packages go.
type stageEnv struct {
	workdir string
	env     map[string]string
}

// languageVersions finds the installed versions of the named packages of
// a language manager (pip, npm, gem) in the places those managers install
// to: the image's WORKDIR, the global prefixes of the official and the
// Debian images, a virtualenv named by $VIRTUAL_ENV, $GEM_HOME. A package
// found at two different versions has no single pin and is an error.
func languageVersions(ctx context.Context, fs fsReader, se stageEnv, manager string, names []string) (map[string]string, error) {
	var find func(context.Context, fsReader, stageEnv, string) ([]string, error)
	switch manager {
	case "npm":
		find = npmVersions
	case "pip":
		find = pipVersions
	case "gem":
		find = gemVersions
	default:
		return nil, fmt.Errorf("no installed-package reader for %s", manager)
	}
	out := map[string]string{}
	for _, n := range names {
		vs, err := find(ctx, fs, se, n)
		if err != nil {
			return nil, fmt.Errorf("%s package %s: %w", manager, n, err)
		}
		slices.Sort(vs)
		vs = slices.Compact(vs)
		switch len(vs) {
		case 0:
		case 1:
			out[n] = vs[0]
		default:
			return nil, fmt.Errorf("%s package %s is installed at %s: one pin cannot name all of them", manager, n, strings.Join(vs, " and "))
		}
	}
	return out, nil
}

// npmVersions reads <prefix>/node_modules/<name>/package.json: the
// WORKDIR's (npm install) and the global ones (npm install -g).
func npmVersions(ctx context.Context, fs fsReader, se stageEnv, name string) ([]string, error) {
	dirs := []string{"/usr/local/lib/node_modules", "/usr/lib/node_modules"}
	if se.workdir != "" {
		dirs = append([]string{path.Join(se.workdir, "node_modules")}, dirs...)
	}
	var out []string
	for _, d := range dirs {
		dt, ok, err := fs.ReadFile(ctx, path.Join(d, name, "package.json"))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		var pj struct{ Name, Version string }
		if err := json.Unmarshal(dt, &pj); err != nil {
			return nil, fmt.Errorf("%s/%s/package.json: %w", d, name, err)
		}
		if pj.Name == name && pj.Version != "" {
			out = append(out, pj.Version)
		}
	}
	return out, nil
}

// pipNormalize is PEP 503's name normalization.
var pipNormalize = regexp.MustCompile(`[-_.]+`)

func normalizePip(name string) string {
	return strings.ToLower(pipNormalize.ReplaceAllString(name, "-"))
}

// pipVersions reads the <name>-<version>.dist-info (and legacy .egg-info)
// directories of every site directory: /usr/local/lib/python3.X (the
// official image), /usr/lib/python3 (Debian), a virtualenv, ~/.local.
func pipVersions(ctx context.Context, fs fsReader, se stageEnv, name string) ([]string, error) {
	want := normalizePip(name)
	prefixes := []string{"/usr/local/lib", "/usr/lib", "/root/.local/lib"}
	if v := se.env["VIRTUAL_ENV"]; v != "" {
		prefixes = append(prefixes, path.Join(v, "lib"))
	}
	if h := se.env["HOME"]; h != "" && h != "/root" {
		prefixes = append(prefixes, path.Join(h, ".local/lib"))
	}
	// A virtualenv activated only through PATH (ENV PATH=/opt/venv/bin:…,
	// the common Dockerfile idiom): the pip that ran is the first on PATH,
	// and its site directories are under the same prefix.
	for _, dir := range strings.Split(se.env["PATH"], ":") {
		if prefix, ok := strings.CutSuffix(path.Clean(dir), "/bin"); ok && prefix != "" && prefix != "/usr" && prefix != "/usr/local" {
			if lib := path.Join(prefix, "lib"); !slices.Contains(prefixes, lib) {
				prefixes = append(prefixes, lib)
			}
		}
	}
	var sites []string
	for _, p := range prefixes {
		entries, err := fs.ReadDir(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e == "python3" || strings.HasPrefix(e, "python3.") {
				sites = append(sites, path.Join(p, e, "site-packages"), path.Join(p, e, "dist-packages"))
			}
		}
	}
	var out []string
	for _, s := range sites {
		entries, err := fs.ReadDir(ctx, s)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			base, ok := strings.CutSuffix(e, ".dist-info")
			if !ok {
				base, ok = strings.CutSuffix(e, ".egg-info")
			}
			if !ok {
				continue
			}
			// name and version are escaped so that neither holds a "-".
			n, v, ok := strings.Cut(base, "-")
			if !ok || normalizePip(n) != want {
				continue
			}
			v, _, _ = strings.Cut(v, "-") // egg-info: name-version-pyX.Y
			out = append(out, v)
		}
	}
	return out, nil
}

// gemVersions reads the <name>-<version>[-<platform>].gemspec files of the
// gem specification directories.
func gemVersions(ctx context.Context, fs fsReader, se stageEnv, name string) ([]string, error) {
	dirs := []string{"/usr/local/bundle/specifications", "/usr/share/rubygems-integration/all/specifications"}
	if g := se.env["GEM_HOME"]; g != "" {
		dirs = append(dirs, path.Join(g, "specifications"))
	}
	for _, parent := range []string{"/var/lib/gems", "/usr/local/lib/ruby/gems"} {
		entries, err := fs.ReadDir(ctx, parent)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			dirs = append(dirs, path.Join(parent, e, "specifications"))
		}
	}
	var out []string
	for _, d := range dirs {
		entries, err := fs.ReadDir(ctx, d)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			rest, ok := strings.CutPrefix(strings.TrimSuffix(e, ".gemspec"), name+"-")
			if !ok || !strings.HasSuffix(e, ".gemspec") || rest == "" || rest[0] < '0' || rest[0] > '9' {
				continue
			}
			v, _, _ := strings.Cut(rest, "-") // a platform may follow
			out = append(out, v)
		}
	}
	return out, nil
}

// pipOperand matches a bare distribution name with optional extras: the
// only pip operand a version can be appended to.
var pipOperand = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9,._ -]+\])?$`)

// languageLookupName is the package name an operand is looked up under,
// or a reason why a version cannot be appended to it.
func languageLookupName(manager, operand string) (string, string) {
	switch manager {
	case "pip":
		if !pipOperand.MatchString(operand) {
			return "", fmt.Sprintf("pip operand %q carries a version specifier or is not a package name: write name==version", operand)
		}
		name, _, _ := strings.Cut(operand, "[")
		return name, ""
	case "npm":
		if strings.LastIndex(operand, "@") > 0 {
			return "", fmt.Sprintf("npm operand %q names a tag or range: replace it with an exact version", operand)
		}
		return operand, ""
	case "gem":
		return operand, ""
	}
	return operand, ""
}
