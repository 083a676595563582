package harden

import (
	"context"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// apache2ctl and envvars as Debian bookworm ships them (the parts that
// build the environment).
const (
	apache2ctlScript = `#!/bin/sh
ARGV="$@"
if test -z "$APACHE_CONFDIR" ; then
    if test "${0##*apache2ctl-}" != "$0" ; then
        APACHE_CONFDIR="/etc/apache2-${0##*apache2ctl-}"
    else
        APACHE_CONFDIR=/etc/apache2
    fi
fi
test -z "$APACHE_ENVVARS" && APACHE_ENVVARS="$APACHE_CONFDIR/envvars"
if test -f $APACHE_ENVVARS; then
  . $APACHE_ENVVARS
fi
HTTPD=${APACHE_HTTPD:-/usr/sbin/apache2}
mkdir_chown "$APACHE_RUN_USER" "$APACHE_RUN_DIR"
$HTTPD ${APACHE_ARGUMENTS} -k "$ARGV"
`
	apacheEnvvars = `unset HOME
if [ "${APACHE_CONFDIR##/etc/apache2-}" != "${APACHE_CONFDIR}" ] ; then
	SUFFIX="-${APACHE_CONFDIR##/etc/apache2-}"
else
	SUFFIX=
fi
export APACHE_RUN_USER=www-data
export APACHE_RUN_GROUP=www-data
export APACHE_PID_FILE=/var/run/apache2$SUFFIX/apache2.pid
export APACHE_RUN_DIR=/var/run/apache2$SUFFIX
export APACHE_LOCK_DIR=/var/lock/apache2$SUFFIX
export APACHE_LOG_DIR=/var/log/apache2$SUFFIX
export LANG=C
export LANG
export APACHE_ULIMIT="$(ulimit -n)"
`
)

// TestSourcedEnvAdvice: the advice for a control script that sources its
// program's environment spells that environment out as ENV, so that
// following it gives the program what the script gave it.
func TestSourcedEnvAdvice(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		imageEnv []string
		files    map[string]string
		want     []string
		notWant  []string
	}{
		{
			name: "apache2ctl", script: apache2ctlScript,
			files: map[string]string{"etc/apache2/envvars": apacheEnvvars},
			want: []string{". It sources /etc/apache2/envvars, which sets the environment the program reads: add ENV " +
				"APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data APACHE_PID_FILE=/var/run/apache2/apache2.pid " +
				"APACHE_RUN_DIR=/var/run/apache2 APACHE_LOCK_DIR=/var/lock/apache2 APACHE_LOG_DIR=/var/log/apache2 LANG=C",
				"; it computes APACHE_ULIMIT at run time: set them with ENV too"},
			notWant: []string{"SUFFIX", "HOME"},
		},
		{
			name: "the image's ENV names another file", script: apache2ctlScript, imageEnv: []string{"APACHE_ENVVARS=/srv/env"},
			files:   map[string]string{"srv/env": "export PORT=8080 GREETING='hello world'\n", "etc/apache2/envvars": apacheEnvvars},
			want:    []string{"It sources /srv/env", `add ENV PORT=8080 GREETING="hello world"`},
			notWant: []string{"/etc/apache2/envvars"},
		},
		{
			name: "a sourced file the image lacks says nothing", script: apache2ctlScript,
			files:   map[string]string{"etc/other": ""},
			notWant: []string{"sources"},
		},
		{
			name: "no source, no advice", script: "#!/bin/sh\nexport X=1\nexec app\n",
			files: map[string]string{"etc/x": ""}, notWant: []string{"ENV"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			src := rootfs.DirSource(dir)
			final, err := rootfs.Load(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			got := sourcedEnvAdvice(context.Background(), tt.script, tt.imageEnv, final, src)
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
