package keep

import (
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs/rootfstest"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

// metaPkg is a package with the metadata pkgtools.go reads.
type metaPkg struct {
	name, section, summary string
	files                  []string
}

// writeMetaDpkg writes a dpkg database with sections and summaries.
func writeMetaDpkg(l *rootfstest.Layout, pkgs []metaPkg) {
	var status strings.Builder
	for _, p := range pkgs {
		status.WriteString("Package: " + p.name + "\nStatus: install ok installed\nArchitecture: all\nSection: " + p.section +
			"\nVersion: 1\nDescription: " + p.summary + "\n long description\n\n")
		l.File("/var/lib/dpkg/info/"+p.name+".list", []byte("/.\n"+strings.Join(p.files, "\n")+"\n"), 0o644)
	}
	l.File("/var/lib/dpkg/status", []byte(status.String()), 0o644)
}

func TestPackageToolMatches(t *testing.T) {
	const dp = "/usr/lib/python3/dist-packages"
	l := rootfstest.New(t).Debian()
	files := map[string]string{
		"/usr/bin/xonsh": "#!/usr/bin/python3\n", dp + "/xonsh/__init__.py": "", dp + "/xonsh/__pycache__/x.pyc": "",
		"/usr/bin/scapy": "#!/usr/bin/python3\n", dp + "/scapy/__init__.py": "",
		dp + "/flask/__init__.py": "", "/usr/bin/flask": "#!/usr/bin/python3\n",
		"/etc/mime.types": "", "/usr/share/publicsuffix/list.dat": "",
		"/usr/bin/ip": "ip", "/usr/bin/gdbserver": "elf", "/usr/bin/tmux": "elf",
		"/usr/bin/nodejs": "elf", "/usr/bin/curl": "elf", "/usr/sbin/haproxy": "elf", "/etc/shells": "/bin/sh\n# comment\n/usr/bin/tmux\n",
	}
	for p, c := range files {
		l.File(p, []byte(c), 0o755)
	}
	writeMetaDpkg(l, []metaPkg{
		{"xonsh", "shells", "Python-powered shell", []string{"/usr/bin/xonsh", dp, dp + "/xonsh", dp + "/xonsh/__init__.py"}},
		{"python3-scapy", "python", "Packet generator/sniffer and network scanner/discovery (Python 3)", []string{"/usr/bin/scapy", dp, dp + "/scapy", dp + "/scapy/__init__.py"}},
		{"python3-flask", "python", "micro web framework based on Werkzeug and Jinja2 - Python 3.x", []string{"/usr/bin/flask", dp, dp + "/flask", dp + "/flask/__init__.py"}},
		{"media-types", "net", "List of standard media types and their usual file extension", []string{"/etc/mime.types"}},
		{"publicsuffix", "net", "accurate, machine-readable list of domain name suffixes", []string{"/usr/share/publicsuffix/list.dat"}},
		{"iproute2", "net", "networking and traffic control tools", []string{"/usr/bin/ip"}},
		{"gdbserver", "devel", "GNU Debugger (remote server)", []string{"/usr/bin/gdbserver"}},
		{"tmux", "admin", "terminal multiplexer", []string{"/usr/bin/tmux"}},
		{"nodejs", "web", "evented I/O for V8 javascript - runtime executable", []string{"/usr/bin/nodejs"}},
		{"haproxy", "net", "fast and reliable load balancing reverse proxy", []string{"/usr/sbin/haproxy"}},
		{"curl", "web", "command line tool for transferring data with URL syntax", []string{"/usr/bin/curl"}},
	})
	tree, src := l.Load()
	in := RebaseInput{Final: tree, Src: src, Tooling: tooling.DefaultLists(), Entrypoint: []string{"/usr/bin/tini", "--", "haproxy", "-f", "/etc/haproxy.cfg"}}
	got, notes, err := packageToolMatches(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]tooling.Match{}
	for _, m := range got {
		byPath[m.Path] = m
	}
	want := map[string]tooling.Category{
		"/usr/bin/xonsh": tooling.Shell, dp + "/xonsh": tooling.Shell, dp + "/xonsh/__pycache__/x.pyc": tooling.Shell,
		"/usr/bin/scapy": tooling.NetworkTool, dp + "/scapy/__init__.py": tooling.NetworkTool,
		"/usr/bin/ip": tooling.NetworkTool, "/usr/bin/gdbserver": tooling.Debugger, "/usr/bin/tmux": tooling.Shell,
	}
	for p, cat := range want {
		if m, ok := byPath[p]; !ok || m.Category != cat || !strings.HasPrefix(m.Reason, tooling.ReasonPackage) {
			t.Errorf("%s: got %+v, want a %s by package", p, m, cat)
		}
	}
	// Runtime and data stay: the interpreter's libraries, data in "net",
	// a runtime filed under "web", a directory other packages share.
	for _, p := range []string{dp, dp + "/flask/__init__.py", "/usr/bin/flask", "/etc/mime.types", "/usr/share/publicsuffix/list.dat", "/usr/bin/nodejs", "/etc/shells", "/usr/sbin/haproxy"} {
		if m, ok := byPath[p]; ok {
			t.Errorf("%s matched: %+v", p, m)
		}
	}
	if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, "package xonsh is a shell (section shells)") }) {
		t.Errorf("no note names xonsh: %q", notes)
	}
	// A category the policy does not remove is not looked for.
	in.Tooling = tooling.Lists{Shells: []string{"sh"}}
	got, _, err = packageToolMatches(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range got {
		if m.Category != tooling.Shell {
			t.Errorf("%s matched as %s although only shells are removed", m.Path, m.Category)
		}
	}
}

// TestRebaseDropsToolPackagesFromARuntime: xonsh and scapy installed by
// apt next to a Python application leave the image although their modules
// live in the interpreter's runtime directories; flask stays.
func TestRebaseDropsToolPackagesFromARuntime(t *testing.T) {
	const dp = "/usr/lib/python3/dist-packages"
	l := rootfstest.New(t).Debian()
	l.File("/usr/bin/python3.11", rootfstest.ELF(rootfstest.ELFSpec{Payload: []byte("python")}), 0o755)
	l.File("/usr/lib/python3.11/os.py", nil, 0o644)
	for _, p := range []string{dp + "/xonsh/__init__.py", dp + "/xonsh/__main__.py", dp + "/scapy/__init__.py", dp + "/flask/__init__.py"} {
		l.File(p, nil, 0o644)
	}
	l.File(dp+"/xonsh/__pycache__/__init__.cpython-311.pyc", nil, 0o644)
	l.File("/usr/bin/xonsh", []byte("#!/usr/bin/python3.11\n"), 0o755)
	l.File("/usr/bin/scapy", []byte("#!/usr/bin/python3.11\n"), 0o755)
	l.File("/app/main.py", []byte("import flask\n"), 0o644)
	writeMetaDpkg(l, []metaPkg{
		{"python3.11", "python", "Interactive high-level object-oriented language (version 3.11)", []string{"/usr/bin/python3.11", "/usr/lib/python3.11/os.py"}},
		{"xonsh", "shells", "Python-powered shell", []string{"/usr/bin/xonsh", dp, dp + "/xonsh", dp + "/xonsh/__init__.py", dp + "/xonsh/__main__.py"}},
		{"python3-scapy", "python", "Packet generator/sniffer and network scanner/discovery (Python 3)", []string{"/usr/bin/scapy", dp, dp + "/scapy", dp + "/scapy/__init__.py"}},
		{"python3-flask", "python", "micro web framework based on Werkzeug and Jinja2 - Python 3.x", []string{dp, dp + "/flask", dp + "/flask/__init__.py"}},
	})
	ft, src := l.Load()
	ks, err := Rebase(t.Context(), RebaseInput{Final: ft, Src: src, Entrypoint: []string{"/usr/bin/python3.11", "/app/main.py"}, Tooling: tooling.DefaultLists()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dp + "/xonsh/__main__.py", dp + "/xonsh/__pycache__/__init__.cpython-311.pyc", dp + "/scapy/__init__.py", "/usr/bin/xonsh"} {
		if slices.Contains(ks.Paths, p) {
			t.Errorf("%s ships (%s)", p, ks.Reasons[p])
		}
	}
	for _, p := range []string{dp + "/flask/__init__.py", "/usr/lib/python3.11/os.py", "/app/main.py"} {
		if !slices.Contains(ks.Paths, p) {
			t.Errorf("%s does not ship", p)
		}
	}
	if !slices.ContainsFunc(ks.Notes, func(n string) bool { return strings.Contains(n, "python3-scapy is a network-tool") }) {
		t.Errorf("no note names scapy: %q", ks.Notes)
	}
	// The policy keeps one deliberately.
	ks, err = Rebase(t.Context(), RebaseInput{Final: ft, Src: src, Entrypoint: []string{"/usr/bin/python3.11", "/app/main.py"},
		Tooling: tooling.DefaultLists(), Keep: []string{dp + "/scapy/**", dp + "/scapy"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ks.Paths, dp+"/scapy/__init__.py") {
		t.Errorf("scapy kept by policy does not ship")
	}
}

// TestPythonToolMatches: pip-installed distributions whose classifiers
// name a shell or a debugger and that install a console script are tools;
// a library with networking topics (psutil) is not.
func TestPythonToolMatches(t *testing.T) {
	const sp = "/usr/local/lib/python3.11/site-packages"
	l := rootfstest.New(t)
	dist := func(name, classifiers, record string, files ...string) {
		d := sp + "/" + name + "-1.0.dist-info"
		l.File(d+"/METADATA", []byte("Metadata-Version: 2.1\nName: "+name+"\n"+classifiers+"\nTopic :: System :: Shells in the description\n"), 0o644)
		l.File(d+"/entry_points.txt", []byte("[console_scripts]\n"+name+" = "+name+".main:main\n"), 0o644)
		l.File(d+"/RECORD", []byte(record), 0o644)
		for _, f := range files {
			l.File(f, nil, 0o644)
		}
	}
	dist("xonsh", "Classifier: Topic :: System :: Shells", "xonsh/__init__.py,sha256=x,1\n../../../bin/xonsh,,\n",
		sp+"/xonsh/__init__.py", sp+"/xonsh/__pycache__/__init__.cpython-311.pyc", "/usr/local/bin/xonsh")
	dist("pdbpp", "Classifier: Topic :: Software Development :: Debuggers", "pdbpp.py,,\n", sp+"/pdbpp.py", sp+"/__pycache__/pdbpp.cpython-311.pyc")
	dist("psutil", "Classifier: Topic :: System :: Networking :: Monitoring\nClassifier: Topic :: System :: Networking", "psutil/__init__.py,,\n", sp+"/psutil/__init__.py")
	l.File(sp+"/__pycache__/six.cpython-311.pyc", nil, 0o644)
	tree, src := l.Load()
	got, notes, err := pythonToolMatches(t.Context(), tree, src, tooling.DefaultLists())
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]tooling.Category{}
	for _, m := range got {
		byPath[m.Path] = m.Category
	}
	for p, cat := range map[string]tooling.Category{
		sp + "/xonsh/__init__.py": tooling.Shell, "/usr/local/bin/xonsh": tooling.Shell, sp + "/xonsh/__pycache__/__init__.cpython-311.pyc": tooling.Shell,
		sp + "/pdbpp.py": tooling.Debugger, sp + "/__pycache__/pdbpp.cpython-311.pyc": tooling.Debugger,
	} {
		if byPath[p] != cat {
			t.Errorf("%s: %q, want %s", p, byPath[p], cat)
		}
	}
	for _, p := range []string{sp + "/psutil/__init__.py", sp + "/__pycache__/six.cpython-311.pyc", sp + "/__pycache__"} {
		if c, ok := byPath[p]; ok {
			t.Errorf("%s matched as %s", p, c)
		}
	}
	if len(notes) != 2 {
		t.Errorf("notes = %q, want one for xonsh and one for pdbpp", notes)
	}
}
