package frontend

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/dockerfilecheck"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// TestCheckTriggers: the static rules see a parent image's ONBUILD
// triggers, and report them at the child's FROM line with the trigger text.
func TestCheckTriggers(t *testing.T) {
	b64Token := base64.StdEncoding.EncodeToString([]byte(secretstest.Generate(t).GitHubToken))
	tests := []struct {
		name     string
		triggers []string
		want     []string // rule ids found
		text     string   // in every message
	}{
		{name: "download without checksum", triggers: []string{"ADD http://example.com/tool.tgz /opt/"}, want: []string{"HK1010"}, text: `"ADD http://example.com/tool.tgz /opt/"`},
		{name: "curl piped to a shell", triggers: []string{"RUN echo ok", "RUN curl -fsSL https://example.com/i.sh | sh"}, want: []string{"HK1020"}, text: "curl -fsSL"},
		{name: "base64 token", triggers: []string{"RUN echo " + b64Token + " | base64 -d > /x"}, want: []string{"HK1061"}, text: `"RUN echo ****`},
		{name: "harmless triggers", triggers: []string{"COPY --chown=65532 app.conf /etc/app.conf", "RUN echo ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := checkTriggers(tt.triggers, dockerfilemodel.ImageBase{Image: "registry.example/base:1", FromLine: 3, Stage: "app"}, dockerfilecheck.Options{Filename: "Dockerfile", Target: "app"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.Rule)
				if strings.Contains(f.Message, b64Token) {
					t.Errorf("message %q quotes the base64 of a token", f.Message)
				}
				if f.File != "Dockerfile" || f.Line != 3 || f.EndLine != 3 || f.StageName != "app" {
					t.Errorf("finding placed at %s:%d-%d stage %q, want the FROM line 3 of stage app", f.File, f.Line, f.EndLine, f.StageName)
				}
				if !strings.Contains(f.Message, "ONBUILD trigger of base image registry.example/base:1") || !strings.Contains(f.Message, tt.text) {
					t.Errorf("message %q does not name the base and the trigger", f.Message)
				}
				if f.Level != rules.LevelEnforce {
					t.Errorf("%s level %s under strict", f.Rule, f.Level)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.Join(got, " "), w) {
					t.Errorf("findings %v lack %s", got, w)
				}
			}
			if len(tt.want) == 0 && len(got) > 0 {
				t.Errorf("harmless triggers found %v: %+v", got, fs)
			}
		})
	}
}
