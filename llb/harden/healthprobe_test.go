package harden

import (
	"strings"
	"testing"
)

func TestProbeAdvice(t *testing.T) {
	tests := []struct {
		name    string
		command string
		want    string
		notWant string
	}{
		{"curl URL", "curl -fs http://localhost:8080/health || exit 1",
			`HEALTHCHECK CMD ["/usr/local/bin/hardenkit-probe", "http", "http://localhost:8080/health"]`, ""},
		{"wget URL", "wget -qO- https://127.0.0.1/ready",
			`["/usr/local/bin/hardenkit-probe", "http", "https://127.0.0.1/ready"]`, ""},
		{"exec form joined", "curl -f http://127.0.0.1:3000/",
			`"http", "http://127.0.0.1:3000/"]`, ""},
		{"no URL", "pg_isready -U postgres",
			`"http", "http://127.0.0.1:<port>/<path>"]`, ""},
		{"curl without -f says why it was not rewritten", "curl -s http://127.0.0.1:3000/ || exit 1",
			"without -f curl counts any answer, a 500 included, as healthy", ""},
		{"curl -L is not explained as -f", "curl -sL http://127.0.0.1:3000/",
			`"http", "http://127.0.0.1:3000/"]`, "without -f"},
		{"credentials are not repeated", "curl -f http://admin:hunter2@localhost/health",
			`"http://127.0.0.1:<port>/<path>"`, "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := probeAdvice(tt.command)
			for _, w := range []string{tt.want, "COPY --from=", "/bin/hardenkit-probe /usr/local/bin/hardenkit-probe"} {
				if !strings.Contains(got, w) {
					t.Errorf("advice lacks %q:\n%s", w, got)
				}
			}
			if tt.notWant != "" && strings.Contains(got, tt.notWant) {
				t.Errorf("advice repeats %q:\n%s", tt.notWant, got)
			}
		})
	}
}
