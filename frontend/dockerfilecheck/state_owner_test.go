package dockerfilecheck

import (
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

func TestStateHandedToUser(t *testing.T) {
	from := "FROM debian@" + testDigest + "\n"
	runRuleCases(t, "HK1051", []ruleCase{
		{name: "redis WORKDIR and VOLUME, injected user", df: from + "WORKDIR /data\nVOLUME /data /var/lib/app\nCMD [\"redis-server\"]\n",
			want: []int{2, 3}, msg: "the injected user 65532:65532"},
		{name: "absolute WORKDIR after another", df: from + "WORKDIR /srv\nWORKDIR /data\nCMD [\"x\"]\n", want: []int{3}, msg: "/data (WORKDIR)"},
		{name: "django: WORKDIR, COPY, RUN mkdir", df: from + "WORKDIR /app\nCOPY . .\nRUN mkdir -p -m 0750 /app/data /srv/uploads\nCMD [\"python3\", \"manage.py\"]\n",
			want: []int{2, 4, 4}, msg: "will belong to"},
		{name: "named user is the owner", df: from + "RUN mkdir /data\nUSER app\nCMD [\"app\"]\n",
			want: []int{2}, msg: "USER app"},
		{name: "system directories are never named", df: from + "WORKDIR /usr/share/app\nCOPY nginx.conf /etc/nginx/nginx.conf\nRUN mkdir -p /var/lib /tmp/x\nCOPY --from=busybox /bin/x /x\nCMD [\"x\"]\n"},
		{name: "root image hands nothing over", df: from + "WORKDIR /data\nUSER root\nCMD [\"x\"]\n"},
		{name: "builder stages are not the image", df: "FROM debian@" + testDigest + " AS build\nWORKDIR /src\nRUN mkdir /out\n" + from + "COPY --from=build /out/app /usr/local/bin/app\nCMD [\"app\"]\n"},
		{name: "relative WORKDIR", df: from + "WORKDIR /srv\nWORKDIR www\nCMD [\"x\"]\n", want: []int{3}, msg: "/srv/www (WORKDIR)"},
	})
}

// TestStateHandedToUserNeverFails: a policy that enforces everything
// still gets a note, never a failure.
func TestStateHandedToUserNeverFails(t *testing.T) {
	fs, err := Check([]byte("FROM debian@"+testDigest+"\nWORKDIR /data\nCMD [\"x\"]\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fs {
		if f.Rule == "HK1051" {
			found = true
			if f.Level != rules.LevelWarn {
				t.Errorf("HK1051 at %s, want warn", f.Level)
			}
		}
	}
	if !found {
		t.Errorf("no HK1051 note:\n%s", dump(fs))
	}
}
