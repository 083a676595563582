package smoke

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// hostRunner runs programs of the test's own filesystem; proc holds a
// fake net/tcp table.
func hostRunner(t *testing.T, tcp string) Runner {
	t.Helper()
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "net", "tcp"), []byte(tcp), 0o644); err != nil {
		t.Fatal(err)
	}
	return Runner{Root: "/", Proc: proc}
}

const tcpTable = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0050 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
`

func TestRunner(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin"}
	tests := []struct {
		name  string
		req   Request
		check func(t *testing.T, a Answer)
	}{
		{"exits with its status and output", Request{Args: []string{"sh", "-c", "echo starting; echo failed >&2; exit 3"}, Env: env},
			func(t *testing.T, a Answer) {
				if !a.Started || a.Running || a.ExitCode != 3 || !slices.Equal(a.Output, []string{"starting", "failed"}) {
					t.Errorf("got %+v, want exit 3 with both lines", a)
				}
			}},
		{"not in the image's PATH is 127", Request{Args: []string{"sh", "-c", "exit 0"}, Env: []string{"PATH=/nonexistent"}},
			func(t *testing.T, a Answer) {
				if a.Started || a.ExitCode != 127 || !strings.Contains(a.StartError, `"sh": executable file not found`) {
					t.Errorf("got %+v, want not started, 127", a)
				}
			}},
		{"a missing absolute path is 127", Request{Args: []string{"/nonexistent/app"}, Env: env},
			func(t *testing.T, a Answer) {
				if a.Started || a.ExitCode != 127 {
					t.Errorf("got %+v, want not started, 127", a)
				}
			}},
		{"killed by a signal", Request{Args: []string{"sh", "-c", "kill -SEGV $$"}, Env: env},
			func(t *testing.T, a Answer) {
				if a.Running || a.Signal != "segmentation fault" || a.ExitCode != 139 {
					t.Errorf("got %+v, want SIGSEGV, 139", a)
				}
			}},
		{"still running after the window, with its ports", Request{Args: []string{"sleep", "30"}, Env: env, WindowMillis: 300},
			func(t *testing.T, a Answer) {
				if !a.Running || !slices.Equal(a.Ports, []int{8080}) || a.Millis > 5000 {
					t.Errorf("got %+v, want running, port 8080, stopped within the window", a)
				}
			}},
		{"working directory and environment", Request{Args: []string{"sh", "-c", "pwd; echo $GREETING; exit 0"}, Env: append(env, "GREETING=hello"), WorkDir: "/tmp"},
			func(t *testing.T, a Answer) {
				if a.ExitCode != 0 || !slices.Equal(a.Output, []string{"/tmp", "hello"}) {
					t.Errorf("got %+v, want /tmp and hello", a)
				}
			}},
		{"healthy ends the run", Request{Args: []string{"sleep", "30"}, Env: env, Probe: []string{"true"}, LimitMillis: 10000},
			func(t *testing.T, a Answer) {
				if a.Health != Healthy || !a.Running || a.Millis > 5000 {
					t.Errorf("got %+v, want healthy soon", a)
				}
			}},
		{"a probe that never passes is unhealthy at the limit", Request{Args: []string{"sleep", "30"}, Env: env, Probe: []string{"sh", "-c", "echo refused; exit 1"}, LimitMillis: 800},
			func(t *testing.T, a Answer) {
				if a.Health != Unhealthy || !slices.Contains(a.ProbeOutput, "refused") {
					t.Errorf("got %+v, want unhealthy with the probe's output", a)
				}
			}},
		{"expected ports keep watching until the limit", Request{Args: []string{"sleep", "30"}, Env: env, WindowMillis: 100, LimitMillis: 1200, ExpectPorts: []int{9090}},
			func(t *testing.T, a Answer) {
				if !a.Running || a.Millis < 1200 {
					t.Errorf("got %+v, want watched until the limit", a)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, hostRunner(t, tcpTable).Run(context.Background(), tt.req))
		})
	}
}

func TestRunnerStopsTheProcessGroup(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "child-alive")
	start := time.Now()
	a := hostRunner(t, "").Run(context.Background(), Request{
		Args: []string{"sh", "-c", "(sleep 3; touch " + marker + ") & sleep 30"}, Env: []string{"PATH=/usr/bin:/bin"}, WindowMillis: 200})
	if !a.Running || time.Since(start) > 5*time.Second {
		t.Fatalf("got %+v after %s", a, time.Since(start))
	}
	time.Sleep(3500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Error("a child of the program outlived the run")
	}
}

func TestLastLines(t *testing.T) {
	var b strings.Builder
	for i := range 50 {
		b.WriteString(strings.Repeat("x", i*10) + "\r\n\n")
	}
	lines := lastLines([]byte(b.String() + "\xff tail"))
	if len(lines) != maxOutputLines {
		t.Fatalf("%d lines, want %d", len(lines), maxOutputLines)
	}
	for _, l := range lines {
		if len(l) > maxLineBytes+len(" …") {
			t.Errorf("line of %d bytes", len(l))
		}
	}
	if lines[len(lines)-1] != "? tail" {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	tl := &tail{max: 8}
	_, _ = tl.Write([]byte("0123456789"))
	_, _ = tl.Write([]byte("ab"))
	if got := string(tl.bytes()); got != "456789ab" {
		t.Errorf("tail = %q", got)
	}
}

func TestParseListening(t *testing.T) {
	tcp6 := `  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:C350 06 00000000:00000000
`
	if got := parseListening([]byte(tcpTable)); !slices.Equal(got, []int{8080}) {
		t.Errorf("tcp: %v, want [8080] (the established socket on 80 is not listening)", got)
	}
	if got := parseListening([]byte(tcp6)); !slices.Equal(got, []int{443}) {
		t.Errorf("tcp6: %v, want [443]", got)
	}
}

func TestCompare(t *testing.T) {
	running := func(ports ...int) Answer { return Answer{Started: true, Running: true, Ports: ports, Millis: 3000} }
	exited := func(code int) Answer { return Answer{Started: true, ExitCode: code, Ports: []int{}, Millis: 100} }
	notStarted := Answer{StartError: `exec: "python3": executable file not found in $PATH`, ExitCode: 127}
	healthy, unhealthy := running(8080), running(8080)
	healthy.Health, unhealthy.Health = Healthy, Unhealthy
	segv := exited(139)
	segv.Signal = "segmentation fault"
	tests := []struct {
		name            string
		plain, hardened Answer
		worse           string // a part of the reason; "" for not worse
		missing         []int
	}{
		{"both listen on the same port", running(8080), running(8080), "", nil},
		{"plain listens, hardened exits 127", running(8080), exited(127), "exited with 127 after 0.1s while the plain image's kept running", nil},
		{"hardened cannot start", running(8080), notStarted, "could not be started (exec: \"python3\"", nil},
		{"plain exits 0, hardened 1", exited(0), exited(1), "exited with 1 after 0.1s, the plain image's exited 0", nil},
		{"both exit 1 offline", exited(1), exited(1), "", nil},
		{"plain exits 1 offline, hardened 127", exited(1), exited(127), "exited with 127 after 0.1s, the plain image's exited with 1", nil},
		{"plain exits 1 offline, hardened segfaults", exited(1), segv, "was killed by segmentation fault", nil},
		{"plain exits 1, hardened exits 2", exited(1), exited(2), "", nil},
		{"plain 127 too", exited(127), exited(127), "", nil},
		{"healthy vs not", healthy, unhealthy, "health check never passed", nil},
		{"both healthy", healthy, healthy, "", nil},
		{"plain unhealthy offline, hardened runs", unhealthy, running(), "", []int{8080}},
		{"hardened not yet listening", running(8080, 9090), running(9090), "", []int{8080}},
		{"hardened listens on more", running(), running(8080), "", nil},
		{"plain exits 0, hardened still runs", exited(0), running(), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Compare(tt.plain, tt.hardened)
			if v.Worse != (tt.worse != "") || !strings.Contains(v.Reason, tt.worse) {
				t.Errorf("Compare = %+v, want worse containing %q", v, tt.worse)
			}
			if !slices.Equal(v.MissingPorts, tt.missing) {
				t.Errorf("missing ports %v, want %v", v.MissingPorts, tt.missing)
			}
		})
	}
}

func TestComparePorts(t *testing.T) {
	plain := Answer{Started: true, Running: true, Ports: []int{8080}}
	tests := []struct {
		name   string
		second Answer
		worse  string
	}{
		{"listens on the second look", Answer{Started: true, Running: true, Ports: []int{8080}, Millis: 9000}, ""},
		{"still not listening", Answer{Started: true, Running: true, Ports: []int{}, Millis: 20000}, "does not listen on TCP 8080 after 20.0s"},
		{"exited meanwhile", Answer{Started: true, ExitCode: 1, Ports: []int{}, Millis: 5000}, "exited with 1 after 5.0s while the plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ComparePorts(plain, tt.second, []int{8080})
			if v.Worse != (tt.worse != "") || !strings.Contains(v.Reason, tt.worse) {
				t.Errorf("ComparePorts = %+v, want worse containing %q", v, tt.worse)
			}
		})
	}
}

func TestNamedPaths(t *testing.T) {
	removed := []string{"/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/bin/python3", "/bin/sh", "/usr/lib/python3/dist-packages/yaml/__init__.py", "/usr/share/doc"}
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"loader error names a library", []string{"./app: error while loading shared libraries: libz.so.1: cannot open shared object file: No such file or directory"}, []string{"/usr/lib/x86_64-linux-gnu/libz.so.1"}},
		{"dlerror at a sentence end", []string{"dlopen failed: missing libz.so.1."}, []string{"/usr/lib/x86_64-linux-gnu/libz.so.1"}},
		{"exec of a removed program", []string{`exec python3 failed: No such file or directory`}, []string{"/usr/bin/python3"}},
		{"a full path", []string{"open /usr/lib/python3/dist-packages/yaml/__init__.py: no such file"}, []string{"/usr/lib/python3/dist-packages/yaml/__init__.py"}},
		{"part of a word is no mention", []string{"shared object python3.11 libz.so.1.2.13 is fine", "bash: nothing"}, nil},
		{"nothing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NamedPaths(tt.lines, removed); !slices.Equal(got, tt.want) {
				t.Errorf("NamedPaths = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunnerAsTheImageUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to the image's user needs root, as the in-build runner is")
	}
	// The program's working directory is the root: the image user must be
	// able to enter it.
	root, err := os.MkdirTemp("", "hardenkit-smoke-root-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345:app:/home/app:/sbin/nologin\n",
		"etc/group":  "root:x:0:\napp:x:2345:\nextra:x:3456:app\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := Runner{Root: root, Proc: t.TempDir()}
	a := r.Run(context.Background(), Request{Args: []string{"/bin/sh", "-c", "id -u; id -g; id -G; echo $HOME"}, Env: []string{"PATH=/usr/bin:/bin"}, User: "app"})
	if want := []string{"1234", "2345", "2345 3456", "/home/app"}; !slices.Equal(a.Output, want) {
		t.Errorf("output %q, want %q (%+v)", a.Output, want, a)
	}
	a = r.Run(context.Background(), Request{Args: []string{"/bin/true"}, User: "ghost"})
	if a.Started || !strings.Contains(a.StartError, "unable to find user ghost") {
		t.Errorf("unknown user: %+v", a)
	}
}
