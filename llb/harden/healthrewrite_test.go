package harden

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

func TestProbeTest(t *testing.T) {
	const p = probeInstallPath
	tests := []struct {
		script  string
		timeout time.Duration
		want    []string // nil: keeps HK2024
	}{
		{"curl -f http://localhost:8080/health", 0, []string{"CMD", p, "-timeout", "30s", "http", "http://localhost:8080/health"}},
		{"curl -fsS http://127.0.0.1:8000/ || exit 1", 5 * time.Second, []string{"CMD", p, "-timeout", "5s", "http", "http://127.0.0.1:8000/"}},
		{"curl --fail --silent --max-time 2 http://localhost/ready >/dev/null 2>&1 || exit 1", 10 * time.Second, []string{"CMD", p, "-timeout", "2s", "http", "http://localhost/ready"}},
		{"curl -sf -o /dev/null 'http://localhost:3000/healthz?deep=1' || false", 0, []string{"CMD", p, "-timeout", "30s", "http", "http://localhost:3000/healthz?deep=1"}},
		{"/usr/bin/curl -m 3 -f https://localhost:8443/", 0, []string{"CMD", p, "-timeout", "3s", "http", "https://localhost:8443/"}},
		{"wget -q --spider http://localhost:8080/ || exit 1", 0, []string{"CMD", p, "-timeout", "30s", "http", "http://localhost:8080/"}},
		{"wget -qO- http://127.0.0.1:5000/health", 0, []string{"CMD", p, "-timeout", "30s", "http", "http://127.0.0.1:5000/health"}},
		{"wget --quiet --tries=1 --output-document=- http://localhost/ > /dev/null || exit 1", 0, []string{"CMD", p, "-timeout", "30s", "http", "http://localhost/"}},
		{"wget -q -T 4 -O /dev/null http://localhost/", 0, []string{"CMD", p, "-timeout", "4s", "http", "http://localhost/"}},
		{"nc -z 127.0.0.1 6379", 0, []string{"CMD", p, "-timeout", "30s", "tcp", "127.0.0.1:6379"}},
		{"nc -zv -w 2 localhost 5432 || exit 1", 0, []string{"CMD", p, "-timeout", "2s", "tcp", "localhost:5432"}},

		// A different meaning, or one the probe cannot have: HK2024.
		{"curl http://localhost:8080/", 0, nil},            // no -f: a 500 is healthy for curl, not for the probe
		{"curl -fL http://localhost/", 0, nil},             // follows redirects
		{"curl -fk https://localhost/", 0, nil},            // no certificate check
		{"curl -fI http://localhost/", 0, nil},             // HEAD
		{"curl -f -H 'Host: x' http://localhost/", 0, nil}, // a header
		{"curl -f http://localhost:$PORT/", 0, nil},        // known only at run time
		{"curl -f http://admin:pw@localhost/", 0, nil},     // credentials
		{"curl -f http://localhost/ | grep ok", 0, nil},    // the body matters
		{"curl -f http://localhost/ && exit 1", 0, nil},    // inverted
		{"curl -f http://localhost/; exit 0", 0, nil},      // always healthy
		{"curl -f http://a/ http://b/", 0, nil},            // two URLs
		{"curl -f ftp://localhost/", 0, nil},               // not http
		{"wget http://localhost/", 0, nil},                 // keeps the page in a file
		{"wget -q -O /tmp/x http://localhost/", 0, nil},    // writes a file
		{"wget -q --spider --no-check-certificate https://x/", 0, nil},
		{"nc 127.0.0.1 6379", 0, nil},     // sends stdin, not -z
		{"nc -z 127.0.0.1 redis", 0, nil}, // a service name
		{"pg_isready -U postgres", 0, nil},
		{"redis-cli ping", 0, nil},
	}
	for _, tt := range tests {
		got, ok := ProbeTest(tt.script, tt.timeout)
		if ok != (tt.want != nil) || !slices.Equal(got, tt.want) {
			t.Errorf("ProbeTest(%q) = %q, %v; want %q", tt.script, got, ok, tt.want)
		}
	}
}

func TestWithHealthProbe(t *testing.T) {
	probe := llb.Image("example.com/hardenkit/frontend:test")
	img := func(test ...string) *dockerspec.DockerOCIImage {
		i := &dockerspec.DockerOCIImage{}
		i.Config.Healthcheck = &dockerspec.HealthcheckConfig{Test: test}
		return i
	}
	tests := []struct {
		name     string
		in       Input
		wantTest []string
	}{
		{"rewritten", Input{Probe: &probe, Image: img("CMD-SHELL", "curl -f http://localhost:8080/ || exit 1")},
			[]string{"CMD", probeInstallPath, "-timeout", "30s", "http", "http://localhost:8080/"}},
		{"in-process: no probe to copy", Input{Image: img("CMD-SHELL", "curl -f http://localhost:8080/")}, nil},
		{"shells kept by the policy", Input{Probe: &probe, Config: Config{Levels: map[string]rules.Level{ruleShell.ID: rules.LevelOff}},
			Image: img("CMD-SHELL", "curl -f http://localhost:8080/")}, nil},
		{"not the same meaning", Input{Probe: &probe, Image: img("CMD-SHELL", "curl http://localhost:8080/")}, nil},
		{"exec form already", Input{Probe: &probe, Image: img("CMD", "/app", "health")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.in.Image.Config.Healthcheck.Test)
			out, fs := withHealthProbe(tt.in)
			if !slices.Equal(tt.in.Image.Config.Healthcheck.Test, before) {
				t.Errorf("the caller's config was changed: %q", tt.in.Image.Config.Healthcheck.Test)
			}
			if tt.wantTest == nil {
				if len(fs) != 0 || out.Image != tt.in.Image {
					t.Errorf("rewritten, want unchanged: %v", fs)
				}
				return
			}
			if got := out.Image.Config.Healthcheck.Test; !slices.Equal(got, tt.wantTest) {
				t.Errorf("Test = %q, want %q", got, tt.wantTest)
			}
			if len(fs) != 1 || fs[0].Rule != "HK2024" || fs[0].Level != rules.LevelWarn || !strings.Contains(fs[0].Message, "rewritten to the static probe") {
				t.Errorf("findings = %+v, want one HK2024 warning recording the rewrite", fs)
			}
		})
	}
}
