package elfdeps

import (
	"context"
	"debug/elf"
	"fmt"
	"path"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// maxIncludeDepth bounds nested ld.so.conf includes; ldconfig has no limit
// but a cycle must not hang the build.
const maxIncludeDepth = 16

// multiarch lists the Debian multiarch tuples a machine's libraries live
// under, most common first.
func multiarch(id ident) []string {
	switch id.machine {
	case elf.EM_X86_64:
		if id.class == elf.ELFCLASS32 {
			return []string{"x86_64-linux-gnux32"}
		}
		return []string{"x86_64-linux-gnu"}
	case elf.EM_386:
		return []string{"i386-linux-gnu"}
	case elf.EM_AARCH64:
		return []string{"aarch64-linux-gnu"}
	case elf.EM_ARM:
		return []string{"arm-linux-gnueabihf", "arm-linux-gnueabi"}
	case elf.EM_PPC64:
		if id.data == elf.ELFDATA2LSB {
			return []string{"powerpc64le-linux-gnu"}
		}
		return []string{"powerpc64-linux-gnu"}
	case elf.EM_S390:
		return []string{"s390x-linux-gnu"}
	case elf.EM_RISCV:
		return []string{"riscv64-linux-gnu"}
	case elf.EM_MIPS:
		if id.class == elf.ELFCLASS64 {
			return []string{"mips64el-linux-gnuabi64"}
		}
		return []string{"mipsel-linux-gnu"}
	case elf.EM_LOONGARCH:
		return []string{"loongarch64-linux-gnu"}
	}
	return nil
}

// platform is glibc's $PLATFORM for a machine.
func platform(id ident) string {
	switch id.machine {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_386:
		return "i686"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_ARM:
		return "v7l"
	case elf.EM_PPC64:
		return "power8"
	case elf.EM_S390:
		return "z900"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return ""
}

// libDirs are $LIB's possible expansions: Debian uses the multiarch
// directory, Fedora-style distributions lib64 for 64-bit objects.
func libDirs(id ident) []string {
	var out []string
	for _, t := range multiarch(id) {
		out = append(out, "lib/"+t)
	}
	if id.class == elf.ELFCLASS64 {
		out = append(out, "lib64")
	} else {
		out = append(out, "lib32")
	}
	return append(out, "lib")
}

// defaultDirs are the directories glibc's loader searches after the cache,
// for every layout a distribution might use.
func defaultDirs(id ident) []string {
	var out []string
	for _, t := range multiarch(id) {
		out = append(out, "/lib/"+t, "/usr/lib/"+t)
	}
	if id.class == elf.ELFCLASS64 {
		out = append(out, "/lib64", "/usr/lib64")
	} else {
		out = append(out, "/lib32", "/usr/lib32")
	}
	return append(out, "/lib", "/usr/lib")
}

// muslDefaultDirs is musl's search path when /etc/ld-musl-ARCH.path is
// absent.
var muslDefaultDirs = []string{"/lib", "/usr/local/lib", "/usr/lib"}

// expandDSTs expands the dynamic string tokens of one RPATH/RUNPATH entry.
// $LIB can mean several directories, so the result may have more than one
// candidate; an entry with an unknown token yields nothing, as glibc
// ignores it.
func expandDSTs(dir, origin string, id ident) []string {
	out := []string{dir}
	for _, tok := range []struct {
		name   string
		values []string
	}{
		{"ORIGIN", []string{origin}},
		{"PLATFORM", []string{platform(id)}},
		{"LIB", libDirs(id)},
	} {
		var next []string
		for _, d := range out {
			if !strings.Contains(d, "$") {
				next = append(next, d)
				continue
			}
			for _, v := range tok.values {
				r := strings.ReplaceAll(d, "${"+tok.name+"}", v)
				r = replaceToken(r, "$"+tok.name, v)
				next = append(next, r)
			}
		}
		out = rootfs.Unique(next)
	}
	var valid []string
	for _, d := range out {
		if !strings.Contains(d, "$") && d != "" {
			valid = append(valid, d)
		}
	}
	return valid
}

// replaceToken replaces $NAME only where it is not followed by more
// identifier characters ("$ORIGINAL" is not "$ORIGIN" + "AL").
func replaceToken(s, tok, v string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, tok)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(tok)
		if end < len(s) && isIdent(s[end]) {
			b.WriteString(s[:end])
			s = s[end:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[end:]
	}
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// splitPathList splits an RPATH, RUNPATH, LD_LIBRARY_PATH or musl path
// file into directories; ":" and, for the files, newlines separate them.
func splitPathList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '\n' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// readText reads a whole small file of the tree, following symlinks.
// ok is false when the file does not exist or is not a regular file.
func readText(ctx context.Context, t *rootfs.Tree, src rootfs.Source, p string) (string, bool, error) {
	phys, ok := t.Resolve(p)
	if !ok {
		return "", false, nil
	}
	if e, _ := t.Lookup(phys); !e.IsRegular() {
		return "", false, nil
	}
	b, err := src.ReadFile(ctx, phys, 0, 0)
	if err != nil {
		return "", false, fmt.Errorf("reading %s: %w", p, err)
	}
	return string(b), true, nil
}

// ldSoConfDirs returns the directories listed by /etc/ld.so.conf and the
// files it includes, in the order ldconfig would put them in its cache.
func ldSoConfDirs(ctx context.Context, t *rootfs.Tree, src rootfs.Source) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var read func(file string, depth int) error
	read = func(file string, depth int) error {
		if depth > maxIncludeDepth || seen[file] {
			return nil
		}
		seen[file] = true
		text, ok, err := readText(ctx, t, src, file)
		if err != nil || !ok {
			return err
		}
		for _, line := range strings.Split(text, "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			switch fields[0] {
			case "include":
				for _, pat := range fields[1:] {
					if !path.IsAbs(pat) {
						pat = path.Join(path.Dir(file), pat)
					}
					for _, inc := range glob(t, pat) {
						if err := read(inc, depth+1); err != nil {
							return err
						}
					}
				}
				continue
			case "hwcap":
				continue
			}
			for _, f := range fields {
				for _, d := range strings.FieldsFunc(f, func(r rune) bool { return r == ':' || r == ',' }) {
					// "dir=TYPE" is a legacy library-type suffix.
					if i := strings.IndexByte(d, '='); i >= 0 {
						d = d[:i]
					}
					if path.IsAbs(d) {
						out = append(out, path.Clean(d))
					}
				}
			}
		}
		return nil
	}
	if err := read("/etc/ld.so.conf", 0); err != nil {
		return nil, err
	}
	return rootfs.Unique(out), nil
}

// glob expands a path pattern against the tree, component by component,
// following symlinked directories, and returns the matches sorted, as
// glob(3) does.
func glob(t *rootfs.Tree, pattern string) []string {
	cur := []string{"/"}
	for _, c := range strings.Split(strings.Trim(path.Clean(pattern), "/"), "/") {
		if c == "" {
			continue
		}
		var next []string
		for _, dir := range cur {
			if !strings.ContainsAny(c, "*?[") {
				next = append(next, path.Join(dir, c))
				continue
			}
			phys, ok := t.Resolve(dir)
			if !ok {
				continue
			}
			for _, e := range t.Children(phys) {
				if m, _ := path.Match(c, path.Base(e.Path)); m {
					next = append(next, path.Join(dir, path.Base(e.Path)))
				}
			}
		}
		cur = next
	}
	var out []string
	for _, p := range cur {
		if _, ok := t.Resolve(p); ok {
			out = append(out, p)
		}
	}
	return out
}
