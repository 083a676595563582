package keep

// Python distributions that are tools, by their own metadata.
//
// pip installs what apt would, without a dpkg database: a distribution's
// METADATA carries Trove classifiers, and the two that name a tool's job
// are precise — "Topic :: System :: Shells" (xonsh, IPython's shell) and
// "Topic :: Software Development :: Debuggers" (pdbpp, ipdb, debugpy) —
// while the networking topics are not (psutil files itself under
// "System :: Networking :: Monitoring"), so network tools are left to the
// name lists and to dpkg metadata. A tool distribution that installs a
// console script (entry_points.txt) leaves the image with every file its
// RECORD lists and its byte code.

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// pyToolClassifiers map Trove classifiers to the tool category they name.
var pyToolClassifiers = map[string]tooling.Category{
	"Topic :: System :: Shells":                  tooling.Shell,
	"Topic :: Software Development :: Debuggers": tooling.Debugger,
}

// pythonToolMatches returns the matches for the Python distributions of t
// that are tools (see above), with a note per distribution.
func pythonToolMatches(ctx context.Context, t *rootfs.Tree, src rootfs.Source, l tooling.Lists) ([]tooling.Match, []string, error) {
	pm := pkgMeta{ctx: ctx, t: t, src: src}
	var out []tooling.Match
	var notes []string
	for _, e := range t.Entries() {
		if !e.IsDir() || !strings.HasSuffix(e.Path, ".dist-info") {
			continue
		}
		cat, why, err := pythonTool(pm, e.Path)
		if err != nil {
			return nil, nil, err
		}
		if cat == "" || !l.Enabled(cat) {
			continue
		}
		name := strings.SplitN(strings.TrimSuffix(path.Base(e.Path), ".dist-info"), "-", 2)[0]
		paths, err := recordPaths(pm, e.Path)
		if err != nil {
			return nil, nil, err
		}
		reason := tooling.ReasonPackage + name + " (" + why + ")"
		for _, p := range paths {
			out = append(out, tooling.Match{Path: p, Category: cat, Reason: reason, Tool: name})
		}
		notes = append(notes, fmt.Sprintf("Python distribution %s is a %s (%s): its %d paths leave the image; "+
			"list a path in controls.tooling.keep to keep it deliberately", name, cat, why, len(paths)))
	}
	return out, notes, nil
}

// pythonTool reads a dist-info directory's METADATA and entry points: a
// distribution with a tool's classifier and a console script is a tool.
func pythonTool(pm pkgMeta, dir string) (tooling.Category, string, error) {
	if !pm.exists(dir+"/METADATA") || !pm.exists(dir+"/entry_points.txt") {
		return "", "", nil
	}
	eps, err := pm.read(dir + "/entry_points.txt")
	if err != nil || !strings.Contains(eps, "[console_scripts]") && !strings.Contains(eps, "[gui_scripts]") {
		return "", "", err
	}
	meta, err := pm.read(dir + "/METADATA")
	if err != nil {
		return "", "", err
	}
	head, _, _ := strings.Cut(meta, "\n\n") // the headers, not the description
	for _, line := range strings.Split(head, "\n") {
		v, ok := strings.CutPrefix(line, "Classifier:")
		if !ok {
			continue
		}
		if cat, ok := pyToolClassifiers[strings.TrimSpace(v)]; ok {
			return cat, "classifier " + strings.TrimSpace(v) + ", with a console script", nil
		}
	}
	return "", "", nil
}

// recordPaths are the existing paths a dist-info RECORD lists (relative to
// the directory holding the dist-info), the dist-info itself, and the
// __pycache__ directories next to listed modules.
func recordPaths(pm pkgMeta, dir string) ([]string, error) {
	out := []string{dir}
	out = append(out, pm.t.Below(dir)...)
	if !pm.exists(dir + "/RECORD") {
		return out, nil
	}
	text, err := pm.read(dir + "/RECORD")
	if err != nil {
		return nil, err
	}
	root := path.Dir(dir)
	for _, line := range strings.Split(text, "\n") {
		rel, _, _ := strings.Cut(line, ",")
		if rel == "" {
			continue
		}
		p := rootfs.Clean(path.Join(root, rel))
		if e, ok := pm.t.Lookup(p); ok && !e.IsDir() {
			out = append(out, p)
			out = append(out, byteCode(pm.t, p)...)
		}
	}
	return out, nil
}

// byteCode returns the compiled forms of the module p that exist
// (__pycache__/<stem>.<tag>.pyc): RECORD does not list what was compiled
// after installation.
func byteCode(t *rootfs.Tree, p string) []string {
	stem, ok := strings.CutSuffix(path.Base(p), ".py")
	if !ok {
		return nil
	}
	var out []string
	for _, c := range t.Children(path.Join(path.Dir(p), "__pycache__")) {
		if strings.HasPrefix(path.Base(c.Path), stem+".") && strings.HasSuffix(c.Path, ".pyc") {
			out = append(out, c.Path)
		}
	}
	return out
}
