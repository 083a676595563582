package harden

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

func rng(start, end int) []parser.Range {
	return []parser.Range{{Start: parser.Position{Line: start}, End: parser.Position{Line: end}}}
}

// adviceDockerfile is the Dockerfile the fixes below are applied to; its
// ranges are adviceLines.
const adviceDockerfile = `FROM debian:bookworm
COPY docker-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["python3", \
  "/app/server.py"]
`

var adviceLines = Lines{From: rng(1, 1), Entrypoint: rng(3, 3), Cmd: rng(4, 5), Last: rng(4, 5)}

// followFix parses the fix out of a message and applies it.
func followFix(t *testing.T, msg string) (string, rules.Fix) {
	t.Helper()
	f, ok, err := rules.ParseFix(msg)
	if err != nil || !ok {
		t.Fatalf("no fix in (ok=%v err=%v):\n%s", ok, err, msg)
	}
	out, err := f.Apply([]byte(adviceDockerfile))
	if err != nil {
		t.Fatalf("applying %s: %v", f, err)
	}
	return string(out), f
}

func TestScriptRemedyFollowed(t *testing.T) {
	const head = "FROM debian:bookworm\nCOPY docker-entrypoint.sh /usr/local/bin/\n"
	tests := []struct {
		name, script string
		want         string // the Dockerfile after the fix
		manual       string // in the fix's not-applicable part, "" for none
	}{
		{name: "exec $@ after mkdir", script: "#!/bin/sh\nset -e\nmkdir -p /tmp/app-data\nexec \"$@\"\n",
			want: head + "ENTRYPOINT [\"python3\", \"/app/server.py\"]\nRUN mkdir -p /tmp/app-data\n"},
		{name: "gosu re-exec: chown for the user, USER after the RUN steps",
			script: "#!/bin/sh\nif [ \"$(id -u)\" = '0' ]; then\n\tfind . \\! -user app -exec chown app:app '{}' +\n\texec gosu app \"$0\" \"$@\"\nfi\nexec \"$@\"\n",
			want:   head + "ENTRYPOINT [\"python3\", \"/app/server.py\"]\nRUN find . '!' -user app -exec chown app:app '{}' +\nUSER app\n"},
		{name: "a fixed exec drops the CMD it ignored", script: "#!/bin/sh\nexec /usr/bin/app --serve\n",
			want: head + "ENTRYPOINT [\"/usr/bin/app\", \"--serve\"]\n"},
		{name: "an argument that could be a value is not repeated", script: "#!/bin/sh\nsetup-db --password hunter2\nexec \"$@\"\n",
			want: head + "ENTRYPOINT [\"python3\", \"/app/server.py\"]\n", manual: "setup-db with arguments the advice does not repeat"},
		{name: "computed exec", script: "#!/bin/sh\nexec \"$APP\"\n", want: adviceDockerfile, manual: "computed at run time"},
		{name: "a file written by a redirection is not a bare command",
			script: "#!/bin/bash\nmkdir -p /etc/greeter\ncat > /etc/greeter/greeter.conf <<CONF\ngreeting=${GREETING}\nCONF\nexec \"$@\"\n",
			want:   head + "ENTRYPOINT [\"python3\", \"/app/server.py\"]\nRUN mkdir -p /etc/greeter\n", manual: "cat with a redirection (it writes or reads a file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			advice, fix := scriptRemedy(tt.script, true, []string{"docker-entrypoint.sh", "python3", "/app/server.py"}, adviceLines)
			if strings.Contains(fix, "hunter2") {
				t.Fatalf("the fix repeats a value:\n%s", fix)
			}
			got, f := followFix(t, advice+fix)
			if tt.manual == "" && tt.want == adviceDockerfile {
				t.Fatal("bad case")
			}
			if got != tt.want {
				t.Errorf("following%s\ngives\n%s\nwant\n%s", fix, got, tt.want)
			}
			if !strings.Contains(f.Manual, tt.manual) || (tt.manual == "") != (f.Manual == "") {
				t.Errorf("manual part %q, want %q", f.Manual, tt.manual)
			}
		})
	}
	if _, fix := scriptRemedy("#!/bin/sh\nexec \"$@\"\n", true, []string{"e", "x"}, Lines{}); fix != "" {
		t.Errorf("a fix without the Dockerfile's lines: %q", fix)
	}
}

func TestSwitchingEntrypointFixFollowed(t *testing.T) {
	var cfg dockerspec.DockerOCIImageConfig
	cfg.Entrypoint, cfg.Cmd = []string{"docker-entrypoint.sh"}, []string{"python3", "/app/server.py"}
	cfg.Entrypoint = []string{"su-exec", "web"}
	in := Input{Image: &dockerspec.DockerOCIImage{Config: cfg}, Config: strictConfig(nil), Lines: adviceLines}
	v, ok := AsViolations(checkSwitchingEntrypoint(in))
	if !ok {
		t.Fatal("no violation")
	}
	got, f := followFix(t, v[0].Message)
	want := "FROM debian:bookworm\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT [\"python3\", \"/app/server.py\"]\nUSER web\n"
	if got != want || !f.Applicable() {
		t.Errorf("following%s\ngives\n%s\nwant\n%s", f, got, want)
	}
}

func TestProbeRemedyFollowed(t *testing.T) {
	const df = "FROM debian:bookworm\nHEALTHCHECK --interval=15s \\\n  CMD curl --silent http://127.0.0.1:8080/health || exit 1\nCMD [\"app\"]\n"
	hc := &dockerspec.HealthcheckConfig{Test: []string{"CMD-SHELL", "curl --silent http://127.0.0.1:8080/health || exit 1"}, Interval: 15 * time.Second, Retries: 2}
	in := Input{Image: &dockerspec.DockerOCIImage{}, Lines: Lines{Healthcheck: rng(2, 3), Last: rng(4, 4)}}
	in.Image.Config.Healthcheck = hc
	f, ok, err := rules.ParseFix(probeRemedy(in, hc.Test[1]))
	if err != nil || !ok || !f.Applicable() {
		t.Fatalf("fix %+v ok=%v err=%v", f, ok, err)
	}
	out, err := f.Apply([]byte(df))
	if err != nil {
		t.Fatal(err)
	}
	want := "FROM debian:bookworm\nHEALTHCHECK --interval=15s --retries=2 CMD curl -f --silent http://127.0.0.1:8080/health || exit 1\nCMD [\"app\"]\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// A check the probe cannot take over with -f: the fix says so.
	hc.Test[1] = "pg_isready -U postgres"
	f, _, _ = rules.ParseFix(probeRemedy(in, hc.Test[1]))
	if f.Applicable() || !strings.Contains(f.Manual, "# syntax=") {
		t.Errorf("pg_isready: %+v", f)
	}
}
