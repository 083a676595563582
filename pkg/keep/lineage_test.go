package keep

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// TestLineage: a builder's tools, known by name or by their package's
// metadata, are tools in the final image under any name and with a byte
// appended; a server the builder's "net" section holds is not.
func TestLineage(t *testing.T) {
	strace := rootfstest.HostFile(t, "/usr/bin/strace")
	gdb := rootfstest.HostFile(t, "/usr/bin/gdb")
	python := rootfstest.HostFile(t, "/usr/bin/python3")
	builder := rootfstest.New(t).Debian()
	// sash's stand-in: a program without the shell signature that only
	// its package's section says is a shell.
	builder.File("/usr/bin/sash", strace, 0o755)
	builder.File("/usr/bin/socat", gdb, 0o755)
	builder.File("/usr/sbin/haproxy", python, 0o755)
	builder.File("/etc/shells", []byte("/bin/sh\n/usr/bin/sash\n"), 0o644)
	writeMetaDpkg(builder, []metaPkg{
		{"sash", "shells", "Stand-alone shell", []string{"/usr/bin/sash"}},
		{"socat", "net", "multipurpose relay for bidirectional data transfer", []string{"/usr/bin/socat"}},
		{"haproxy", "net", "fast and reliable load balancing reverse proxy", []string{"/usr/sbin/haproxy"}},
	})
	bt, bsrc := builder.Load()
	known, err := IndexSource(t.Context(), bt, bsrc, "stage builder", tooling.DefaultLists())
	if err != nil {
		t.Fatal(err)
	}
	final := rootfstest.New(t)
	final.File("/usr/local/bin/x", append(bytes.Clone(gdb), 0), 0o755)
	final.File("/bin/s", append(bytes.Clone(strace), 0), 0o755)
	final.File("/usr/sbin/haproxy", python, 0o755)
	ft, fsrc := final.Load()
	l := tooling.DefaultLists()
	l.Known = known
	ms, err := tooling.Detect(t.Context(), ft, fsrc, l)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]tooling.Match{}
	for _, m := range ms {
		got[m.Path] = m
	}
	tests := []struct {
		path, tool, origin string
		cat                tooling.Category
	}{
		{"/usr/local/bin/x", "socat", "stage builder /usr/bin/socat: name (package socat)", tooling.NetworkTool},
		{"/bin/s", "sash", "stage builder /usr/bin/sash: package sash, section shells (package sash)", tooling.Shell},
	}
	for _, tc := range tests {
		m := got[tc.path]
		if m.Tool != tc.tool || m.Category != tc.cat || !strings.Contains(m.Reason, tc.origin) {
			t.Errorf("%s = %+v; want %s %s from %q", tc.path, m, tc.cat, tc.tool, tc.origin)
		}
	}
	if m, ok := got["/usr/sbin/haproxy"]; ok {
		t.Errorf("a server of the builder's net section is a tool in the final image: %+v", m)
	}
}
