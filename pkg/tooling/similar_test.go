package tooling

import (
	"bytes"
	"debug/elf"
	"path"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
)

// userShell is a shell the user wrote and compiled: no tool's code, no
// shell signature. It is the inherent case docs/distroless.md names.
const userShell = `package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) > 0 {
			c := exec.Command(f[0], f[1:]...)
			c.Stdout, c.Stderr = os.Stdout, os.Stderr
			_ = c.Run()
		}
	}
}
`

// patchText returns b with n bytes overwritten in the middle of its .text
// section.
func patchText(t *testing.T, b []byte, n int) []byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Section(".text")
	if s == nil {
		t.Fatal("no .text")
	}
	out := bytes.Clone(b)
	mid := int(s.Offset + s.Size/2)
	for i := range n {
		out[mid+i] ^= 0xff
	}
	return out
}

// knownFrom fingerprints a host file as a tool of another stage.
func knownFrom(t *testing.T, hostPath string, cat Category) Known {
	t.Helper()
	l := rootfstest.New(t)
	l.File("/usr/bin/tool", rootfstest.HostFile(t, hostPath), 0o755)
	tree, src := l.Load()
	e, _ := tree.Lookup("/usr/bin/tool")
	fp, err := FingerprintFile(t.Context(), src, e)
	if err != nil {
		t.Fatal(err)
	}
	return Known{Tool: path.Base(hostPath), Category: cat, Origin: "stage builder " + hostPath, Print: fp}
}

func TestDetectSimilar(t *testing.T) {
	strace := rootfstest.HostFile(t, "/usr/bin/strace")
	gdb := rootfstest.HostFile(t, "/usr/bin/gdb")
	l := rootfstest.New(t).Debian()
	l.File("/usr/bin/strace", strace, 0o755)
	l.File("/app/x", append(bytes.Clone(strace), 0), 0o755)
	l.File("/app/patched", patchText(t, strace, 256), 0o755)
	l.File("/usr/local/bin/y", append(bytes.Clone(gdb), 0), 0o755)
	l.File("/usr/local/bin/copy", gdb, 0o755)
	l.CopyELF("/usr/bin/ls", "/usr/bin/ls", 0o755)
	l.GoBinary("/usr/local/bin/mysh", userShell)
	tree, src := l.Load()
	lists := DefaultLists()
	lists.Known = []Known{knownFrom(t, "/usr/bin/gdb", Debugger)}
	got, err := Detect(t.Context(), tree, src, lists)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Match{}
	for _, m := range got {
		byPath[m.Path] = m
	}
	tests := []struct {
		path, tool, reason string
		cat                Category
	}{
		{"/app/x", "strace", ReasonSimilarTo + "/usr/bin/strace (code, 100%)", Debugger},
		{"/app/patched", "strace", ReasonSimilarTo + "/usr/bin/strace (code, ", Debugger},
		{"/usr/local/bin/y", "gdb", ReasonSimilarTo + "stage builder /usr/bin/gdb (code, 100%)", Debugger},
		{"/usr/local/bin/copy", "gdb", ReasonSimilarTo + "stage builder /usr/bin/gdb", Debugger},
	}
	for _, tc := range tests {
		m, ok := byPath[tc.path]
		if !ok {
			t.Errorf("%s (%s) not detected", tc.path, tc.tool)
			continue
		}
		if m.Tool != tc.tool || m.Category != tc.cat || !strings.HasPrefix(m.Reason, tc.reason) {
			t.Errorf("%s = %+v; want tool %s, category %s, reason %q…", tc.path, m, tc.tool, tc.cat, tc.reason)
		}
	}
	// Not tools: another program, and a shell the user wrote (inherent:
	// no tool's code and no shell signature to recognise).
	for _, p := range []string{"/usr/bin/ls", "/usr/local/bin/mysh"} {
		if m, ok := byPath[p]; ok {
			t.Errorf("%s detected as %+v", p, m)
		}
	}
}

func TestKnownNeedsItsCategory(t *testing.T) {
	gdb := rootfstest.HostFile(t, "/usr/bin/gdb")
	l := rootfstest.New(t).Debian()
	l.File("/usr/local/bin/y", append(bytes.Clone(gdb), 0), 0o755)
	tree, src := l.Load()
	lists := Lists{Shells: []string{"sh"}, Known: []Known{knownFrom(t, "/usr/bin/gdb", Debugger)}}
	got, err := Detect(t.Context(), tree, src, lists)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("debuggers are not looked for, yet %+v", got)
	}
}

func TestCompare(t *testing.T) {
	base := Fingerprint{Size: 10000, SHA256: "a", TextSize: 8192, TextBlocks: []uint64{1, 2, 3, 4},
		Sections: map[string]Section{".rodata": {4096, "r"}, ".dynstr": {600, "d"}, ".dynsym": {100, "s"}}}
	with := func(f func(*Fingerprint)) Fingerprint {
		c := base
		c.TextBlocks = append([]uint64(nil), base.TextBlocks...)
		c.Sections = map[string]Section{}
		for k, v := range base.Sections {
			c.Sections[k] = v
		}
		f(&c)
		return c
	}
	tests := []struct {
		name string
		b    Fingerprint
		how  string
		same bool
	}{
		{"identical", with(func(*Fingerprint) {}), "identical", true},
		{"appended", with(func(f *Fingerprint) { f.SHA256, f.Size = "b", 10001 }), "code", true},
		{"half the blocks patched", with(func(f *Fingerprint) { f.SHA256, f.TextBlocks[0], f.TextBlocks[1] = "b", 9, 9 }), "code", true},
		{"code rewritten, data kept", with(func(f *Fingerprint) { f.SHA256, f.TextBlocks = "b", []uint64{9, 9, 9, 4} }), "data", true},
		{"one small data section only", with(func(f *Fingerprint) {
			f.SHA256, f.TextBlocks = "b", []uint64{9, 9, 9, 4}
			f.Sections[".rodata"] = Section{4096, "other"}
		}), "", false},
		{"other text size", with(func(f *Fingerprint) {
			f.SHA256, f.TextSize = "b", 8193
			f.Sections = nil
		}), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			how, _, same := Compare(base, tc.b)
			if how != tc.how || same != tc.same {
				t.Errorf("Compare = %q, %v; want %q, %v", how, same, tc.how, tc.same)
			}
		})
	}
}
