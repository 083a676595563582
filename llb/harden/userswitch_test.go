package harden

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// applyAdvice follows HK2011's advice mechanically on an image config, as
// a user editing the Dockerfile would: ENTRYPOINT/CMD as written, CMD
// removed or kept, USER added.
func applyAdvice(t *testing.T, advice string, cfg dockerspec.DockerOCIImageConfig) dockerspec.DockerOCIImageConfig {
	t.Helper()
	m := regexp.MustCompile(`(?:write|replace it with) (ENTRYPOINT|CMD) (\[[^\]]*\])`).FindStringSubmatch(advice)
	if m == nil {
		t.Fatalf("advice names no exec-form instruction:\n%s", advice)
	}
	var argv []string
	if err := json.Unmarshal([]byte(m[2]), &argv); err != nil {
		t.Fatalf("advice's %s %s is not exec form: %v", m[1], m[2], err)
	}
	if m[1] == "ENTRYPOINT" {
		cfg.Entrypoint = argv
		if strings.Contains(advice, "remove the CMD") {
			cfg.Cmd = nil
		}
	} else {
		cfg.Entrypoint, cfg.Cmd = nil, argv
	}
	if u := regexp.MustCompile(`add USER (\S+) `).FindStringSubmatch(advice); u != nil {
		cfg.User = u[1]
	}
	return cfg
}

// TestUserSwitchAdviceWorksWhenFollowed: for a gosu/su-exec entrypoint the
// advice, applied as written, gives an image that runs the program as the
// user the script switched to, and that user owns the data directory the
// script chowned.
func TestUserSwitchAdviceWorksWhenFollowed(t *testing.T) {
	const redisStyle = `#!/bin/sh
set -e
if [ "$1" = 'app-server' -a "$(id -u)" = '0' ]; then
	find . \! -user app -exec chown app '{}' +
	exec gosu app "$0" "$@"
fi
exec "$@"
`
	tests := []struct {
		name    string
		script  string
		argv    []string
		wantRun []string
		user    string
	}{
		{name: "gosu re-exec, then exec $@", script: redisStyle, argv: []string{"docker-entrypoint.sh", "app-server", "--port", "80"},
			wantRun: []string{"app-server", "--port", "80"}, user: "app"},
		{name: "exec gosu user $@", script: "#!/bin/sh\nchown -R app:app /data\nexec gosu app:app \"$@\"\n",
			argv: []string{"/entry.sh", "python3", "/app/server.py"}, wantRun: []string{"python3", "/app/server.py"}, user: "app:app"},
		{name: "su-exec with a fixed program", script: "#!/bin/sh\nexec su-exec app /usr/bin/app --serve \"$@\"\n",
			argv: []string{"/entry.sh", "--port", "80"}, wantRun: []string{"/usr/bin/app", "--serve", "--port", "80"}, user: "app"},
		{name: "setpriv", script: "#!/bin/sh\nexec setpriv --reuid=app --regid=app --init-groups \"$@\"\n",
			argv: []string{"/entry.sh", "python3", "/app/server.py"}, wantRun: []string{"python3", "/app/server.py"}, user: "app"},
		{name: "no switch: no USER", script: "#!/bin/sh\nexec \"$@\"\n",
			argv: []string{"/entry.sh", "python3", "/app/server.py"}, wantRun: []string{"python3", "/app/server.py"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			advice := scriptAdvice(tt.script, true, tt.argv)
			var cfg dockerspec.DockerOCIImageConfig
			cfg.Entrypoint, cfg.Cmd = tt.argv[:1], tt.argv[1:]
			cfg.Volumes = map[string]struct{}{"/data": {}}
			cfg = applyAdvice(t, advice, cfg)
			if got := append(slices.Clone(cfg.Entrypoint), cfg.Cmd...); !slices.Equal(got, tt.wantRun) {
				t.Errorf("following the advice runs %q, want %q\n%s", got, tt.wantRun, advice)
			}
			if cfg.User != tt.user {
				t.Fatalf("following the advice sets USER %q, want %q\n%s", cfg.User, tt.user, advice)
			}
			if tt.user == "" {
				return
			}
			// The image that results runs as app, which owns /data.
			d := decideStrip(t, debianBase, map[string]string{"data/": "", "usr/bin/app": "\x7fELF"}, cfg)
			if d.Owner == nil || d.Owner.UID != 1000 || d.User != "1000:1000" {
				t.Fatalf("the advised image runs as %q (owner %+v), want app 1000:1000", d.User, d.Owner)
			}
			if !slices.Contains(d.StateDirs, "/data") {
				t.Errorf("the advised image does not give /data to app: %v", d.Handovers)
			}
		})
	}
}

// TestSwitchingEntrypointFailsWithAdviceThatWorks: ENTRYPOINT ["gosu", …]
// cannot work in a non-root image; the build fails, and its advice,
// followed, runs the program as the user gosu named.
func TestSwitchingEntrypointFailsWithAdviceThatWorks(t *testing.T) {
	var cfg dockerspec.DockerOCIImageConfig
	cfg.Entrypoint, cfg.Cmd = []string{"gosu", "app"}, []string{"/usr/bin/app", "--serve"}
	in := Input{Image: &dockerspec.DockerOCIImage{Config: cfg}, Config: strictConfig(nil)}
	err := checkSwitchingEntrypoint(in)
	v, ok := AsViolations(err)
	if !ok || v[0].Rule != ruleRebase.ID {
		t.Fatalf("checkSwitchingEntrypoint = %v, want an HK2011 violation", err)
	}
	fixed := applyAdvice(t, v[0].Message, cfg)
	if !slices.Equal(fixed.Entrypoint, []string{"/usr/bin/app", "--serve"}) || fixed.Cmd != nil || fixed.User != "app" {
		t.Errorf("following %q gives ENTRYPOINT %q CMD %q USER %q", v[0].Message, fixed.Entrypoint, fixed.Cmd, fixed.User)
	}
	d := decideStrip(t, debianBase, map[string]string{"usr/bin/app": "\x7fELF"}, fixed)
	if d.User != "1000:1000" {
		t.Errorf("the advised image runs as %q, want app's 1000:1000", d.User)
	}
	// As root (a policy that allows it) the switch works: no error.
	in.Image.Config.User = "root"
	if err := checkSwitchingEntrypoint(in); err != nil {
		t.Errorf("root image: %v", err)
	}
}
