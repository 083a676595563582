package harden

import (
	"strings"
	"testing"
)

func TestScriptAdvice(t *testing.T) {
	const official = `#!/bin/sh
set -e
mkdir -p /data
if [ "${1#-}" != "$1" ]; then
	set -- app "$@"
fi
chown -R app /data
exec "$@"
`
	tests := []struct {
		name          string
		script        string
		hasEntrypoint bool
		argv          []string
		want          []string
		notWant       []string
	}{
		{
			name: "exec $@ hands over to CMD", script: official, hasEntrypoint: true,
			argv: []string{"docker-entrypoint.sh", "python3", "/app/server.py"},
			want: []string{
				"ENTRYPOINT docker-entrypoint.sh is a shell script",
				`write ENTRYPOINT ["python3", "/app/server.py"] here and remove the CMD`,
				"it runs mkdir, chown, which the hardened image does not ship",
			},
			notWant: []string{"/data", "-R", "set,", "[,"},
		},
		{
			name: "exec $@ without a CMD", script: "#!/bin/sh\nexec \"$@\"\n", hasEntrypoint: true,
			argv: []string{"/entry.sh"},
			want: []string{`ends in exec "$@" but the image gives it no command`},
		},
		{
			name: "fixed program before $@", script: "#!/bin/sh\nexport HOME=/tmp\nexec /usr/bin/app --serve \"$@\"\n", hasEntrypoint: true,
			argv:    []string{"/entry.sh", "--port", "80"},
			want:    []string{`replace it with ENTRYPOINT ["/usr/bin/app", "--serve"] and keep CMD ["--port", "80"]`},
			notWant: []string{"Before that"},
		},
		{
			name: "script as CMD with a fixed exec", script: "#!/bin/bash\nsleep 1\nexec node server.js\n",
			argv: []string{"./start.sh"},
			want: []string{"CMD ./start.sh is a shell script", `replace it with CMD ["node", "server.js"]`, "it runs sleep"},
		},
		{
			name: "computed exec", script: "#!/bin/sh\nexec \"$APP\" --x\n", hasEntrypoint: true,
			argv: []string{"/entry.sh"},
			want: []string{"computed at run time"},
		},
		{
			name: "no exec", script: "#!/bin/sh\ncd /app\nnode server.js\n", hasEntrypoint: true,
			argv: []string{"/entry.sh"},
			want: []string{`write the program it starts as the ENTRYPOINT in exec form`, "it runs node"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scriptAdvice(tt.script, tt.hasEntrypoint, tt.argv)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("advice lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("advice has %q:\n%s", w, got)
				}
			}
		})
	}
}
