package harden

// The environment an entrypoint script sources (part of HK2011's advice,
// entrypointscript.go).
//
// A control script often builds the program's environment from a file of
// the image before it starts it: Debian's apache2ctl does
// `. $APACHE_ENVVARS` (/etc/apache2/envvars), whose APACHE_RUN_USER,
// APACHE_RUN_DIR, APACHE_LOCK_DIR, … the configuration reads as
// ${APACHE_RUN_DIR}. "Write the program as the CMD" alone then gives an
// image where apache2 stops at its first line of configuration. So the
// advice names the sourced file and spells out, as an ENV instruction, the
// variables it sets whose values are fixed (literal, or built from other
// fixed variables); the ones computed at run time are named for the user
// to set. The image's own ENV wins over the script's defaults, as it does
// when the script runs.

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// maxSourceDepth bounds how deep sourced files are followed.
const maxSourceDepth = 2

// shellVarRef matches $NAME and ${NAME}: the only expansions resolved.
var shellVarRef = regexp.MustCompile(`\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})`)

// sourcedEnv is what an entrypoint script's sourced files set.
type sourcedEnv struct {
	files    []string
	set      []shellscript.Assign // fixed values, in order, each name once
	computed []string             // names whose value is computed at run time
}

// sourcedEnvAdvice returns the advice sentence for the environment the
// script sources from files of the image; "" when it sources none.
func sourcedEnvAdvice(ctx context.Context, script string, imageEnv []string, final *rootfs.Tree, src rootfs.Source) string {
	vars := map[string]string{}
	for _, kv := range imageEnv {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	se := &sourcedEnv{}
	se.follow(ctx, script, vars, final, src, 0)
	if len(se.files) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, ". It sources %s, which sets the environment the program reads", strings.Join(se.files, ", "))
	var words []string
	for _, a := range se.set {
		// An empty value (SUFFIX=) is what an unset variable expands to.
		if a.Value != "" {
			words = append(words, a.Name+"="+envWord(a.Value))
		}
	}
	if len(words) > 0 {
		fmt.Fprintf(&b, ": add ENV %s", strings.Join(words, " "))
	}
	if len(se.computed) > 0 {
		fmt.Fprintf(&b, "; it computes %s at run time: set them with ENV too", strings.Join(se.computed, ", "))
	}
	return b.String()
}

// follow reads script. At the top (the entrypoint script itself) an
// assignment does not override a value already set — the image's ENV wins
// over `test -z "$X" && X=default` — while a sourced file's first fixed
// assignment of a name is what the program gets. Each file it sources that
// the image holds is read the same way, its variables recorded.
func (se *sourcedEnv) follow(ctx context.Context, script string, vars map[string]string, final *rootfs.Tree, src rootfs.Source, depth int) {
	s := shellscript.Parse(script)
	record := depth > 0
	for _, a := range s.Assigns {
		if a.Name == "" || se.recorded(a.Name) {
			continue
		}
		if _, set := vars[a.Name]; set && !record {
			continue
		}
		v, ok := expandFixed(a.Value, vars)
		switch {
		case ok && record:
			vars[a.Name] = v
			se.set = append(se.set, shellscript.Assign{Name: a.Name, Value: v})
		case ok:
			vars[a.Name] = v
		case record && !slices.Contains(se.computed, a.Name):
			se.computed = append(se.computed, a.Name)
		}
	}
	se.computed = slices.DeleteFunc(se.computed, se.recorded)
	if depth >= maxSourceDepth {
		return
	}
	for _, c := range s.Calls {
		if len(c.Args) < 2 || c.Args[0] != "." && c.Args[0] != "source" {
			continue
		}
		p, ok := expandFixed(c.Args[1], vars)
		if !ok || !path.IsAbs(p) || slices.Contains(se.files, p) {
			continue
		}
		e, found := final.Lookup(p)
		if !found || !e.IsRegular() {
			continue
		}
		data, err := src.ReadFile(ctx, p, 0, maxEntrypointScript)
		if err != nil {
			continue
		}
		se.files = append(se.files, p)
		se.follow(ctx, string(data), vars, final, src, depth+1)
	}
}

// recorded reports whether a sourced file already gave name a fixed value.
func (se *sourcedEnv) recorded(name string) bool {
	return slices.ContainsFunc(se.set, func(a shellscript.Assign) bool { return a.Name == name })
}

// expandFixed expands $NAME and ${NAME} in w from vars; ok is false when w
// holds any other expansion or a name vars lacks.
func expandFixed(w string, vars map[string]string) (string, bool) {
	ok := true
	out := shellVarRef.ReplaceAllStringFunc(w, func(ref string) string {
		m := shellVarRef.FindStringSubmatch(ref)
		v, set := vars[m[1]+m[2]]
		ok = ok && set
		return v
	})
	if !ok || strings.ContainsAny(out, "$`") {
		return "", false
	}
	return out, true
}

// envWord writes v as the value of a Dockerfile ENV key=value pair.
func envWord(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"'\\$") {
		return v
	}
	return strconv.Quote(v)
}
