package users

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const passwd = `# system users
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

app:x:1000:1000:App:/home/app:/bin/sh
broken line
toor:x:0:0::/root:
svc:x:1001:1001:svc:/srv:/bin/false
+::::::
bad:x:abc:1::/:/bin/sh
`

const group = `root:x:0:
daemon:x:1:
app:x:1000:app,other
staff:x:50:
wheel:x:10:root
dupe:x:50:
broken
`

func TestParse(t *testing.T) {
	users, errs := ParsePasswd([]byte(passwd))
	var names []string
	for _, u := range users {
		names = append(names, u.Name)
	}
	if want := []string{"root", "daemon", "app", "toor", "svc"}; !reflect.DeepEqual(names, want) {
		t.Errorf("users = %q, want %q", names, want)
	}
	if len(errs) != 2 || errs[0].Line != 6 || errs[1].Line != 10 {
		t.Errorf("passwd errors = %v, want lines 6 and 10", errs)
	}
	if users[2].Line != 5 || users[2].Home != "/home/app" {
		t.Errorf("app = %+v", users[2])
	}
	groups, gerrs := ParseGroup([]byte(group))
	if len(groups) != 6 || !reflect.DeepEqual(groups[2].Members, []string{"app", "other"}) {
		t.Errorf("groups = %+v", groups)
	}
	if len(gerrs) != 1 || gerrs[0].Line != 7 || !strings.Contains(gerrs[0].Error(), "group line 7") {
		t.Errorf("group errors = %v", gerrs)
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		user      string
		uid, gid  uint32
		defaulted bool
		root      bool
		wantErr   error
		errText   string
	}{
		{user: "", uid: 0, gid: 0, root: true},
		{user: "root", uid: 0, gid: 0, root: true},
		{user: "0", uid: 0, gid: 0, root: true},
		{user: "0:0", uid: 0, gid: 0, root: true},
		{user: "root:root", uid: 0, gid: 0, root: true},
		{user: "toor", uid: 0, gid: 0, root: true},
		{user: "app", uid: 1000, gid: 1000},
		{user: "1000", uid: 1000, gid: 1000},
		{user: "app:staff", uid: 1000, gid: 50},
		{user: "app:50", uid: 1000, gid: 50},
		{user: "1000:staff", uid: 1000, gid: 50},
		{user: "1000:4242", uid: 1000, gid: 4242},
		{user: "65532:65532", uid: 65532, gid: 65532},
		{user: "65532", uid: 65532, gid: 0, defaulted: true, root: true},
		{user: "app:root", uid: 1000, gid: 0, root: true},
		{user: "nobody", wantErr: ErrUnknownUser},
		{user: "app:nogroup", wantErr: ErrUnknownGroup},
		{user: "bad", wantErr: ErrUnknownUser},
		{user: "4294967296", errText: "out of range"},
		{user: "2147483648", errText: "out of range"},
		{user: "app:99999999999", errText: "out of range"},
		{user: "a:b:c", errText: "more than one"},
		{user: "app:", errText: "empty group"},
		{user: ":app", errText: "empty user"},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			id, err := ResolveIdentity(tc.user, []byte(passwd), []byte(group))
			if tc.wantErr != nil || tc.errText != "" {
				if err == nil {
					t.Fatalf("ResolveIdentity(%q) = %+v, want an error", tc.user, id)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("err = %v, want %v", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("err = %v, want it to mention %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.UID != tc.uid || id.GID != tc.gid || id.GIDDefaulted != tc.defaulted {
				t.Errorf("ResolveIdentity(%q) = %+v, want %d:%d defaulted=%v", tc.user, id, tc.uid, tc.gid, tc.defaulted)
			}
			if got := IsRoot(id.UID, id.GID); got != tc.root {
				t.Errorf("IsRoot = %v, want %v", got, tc.root)
			}
			uid, gid, err := Resolve(tc.user, []byte(passwd), []byte(group))
			if err != nil || uid != id.UID || gid != id.GID {
				t.Errorf("Resolve disagrees with ResolveIdentity: %d:%d %v", uid, gid, err)
			}
		})
	}
}

func TestResolveWithoutFiles(t *testing.T) {
	// FROM scratch: no passwd at all. Numeric users still work.
	if uid, gid, err := Resolve("65532:65532", nil, nil); err != nil || uid != 65532 || gid != 65532 {
		t.Errorf("Resolve = %d:%d %v", uid, gid, err)
	}
	if _, _, err := Resolve("nonroot", nil, nil); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("err = %v, want ErrUnknownUser", err)
	}
}

func TestInjectNonroot(t *testing.T) {
	tests := []struct {
		name               string
		passwd, group      string
		wantPass, wantGrop string
	}{
		{
			name:     "adds both",
			passwd:   "root:x:0:0:root:/root:/bin/sh\n",
			group:    "root:x:0:\n",
			wantPass: "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
			wantGrop: "root:x:0:\nnonroot:x:65532:\n",
		},
		{
			name:     "terminates last line",
			passwd:   "root:x:0:0:root:/root:/bin/sh",
			group:    "root:x:0:",
			wantPass: "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
			wantGrop: "root:x:0:\nnonroot:x:65532:\n",
		},
		{
			name:     "empty files",
			wantPass: "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
			wantGrop: "nonroot:x:65532:\n",
		},
		{
			name:     "uid taken keeps existing user",
			passwd:   "distroless:x:65532:65532::/home/nonroot:/sbin/nologin\n",
			group:    "nonroot:x:65532:\n",
			wantPass: "distroless:x:65532:65532::/home/nonroot:/sbin/nologin\n",
			wantGrop: "nonroot:x:65532:\n",
		},
		{
			name:     "name taken with another uid",
			passwd:   "nonroot:x:1000:1000::/:/sbin/nologin\n",
			group:    "users:x:100:\n",
			wantPass: "nonroot:x:1000:1000::/:/sbin/nologin\n",
			wantGrop: "users:x:100:\nnonroot:x:65532:\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, g := InjectNonroot([]byte(tc.passwd), []byte(tc.group), 65532, 65532, "nonroot")
			if string(p) != tc.wantPass || string(g) != tc.wantGrop {
				t.Fatalf("InjectNonroot =\n%q\n%q\nwant\n%q\n%q", p, g, tc.wantPass, tc.wantGrop)
			}
			p2, g2 := InjectNonroot(p, g, 65532, 65532, "nonroot")
			if string(p2) != string(p) || string(g2) != string(g) {
				t.Error("second InjectNonroot changed the files")
			}
			if uid, gid, err := Resolve("65532:65532", p, g); err != nil || IsRoot(uid, gid) {
				t.Errorf("injected user resolves to %d:%d, %v", uid, gid, err)
			}
		})
	}
	in := []byte("root:x:0:0:root:/root:/bin/sh")
	InjectNonroot(in[:len(in):len(in)], nil, 1, 1, "x")
	if string(in) != "root:x:0:0:root:/root:/bin/sh" {
		t.Error("InjectNonroot modified its input")
	}
}

func TestEmptyPasswords(t *testing.T) {
	shadow := "root:*:19000:0:99999:7:::\nopen::19000:0:99999:7:::\n# c\nlocked:!:1::::::\nhashed:$6$abc$def:1::::::\nalso::\nshort\n"
	if got, want := EmptyPasswords([]byte(shadow)), []string{"open", "also"}; !reflect.DeepEqual(got, want) {
		t.Errorf("EmptyPasswords = %q, want %q", got, want)
	}
}

func TestDuplicateIDs(t *testing.T) {
	got := DuplicateIDs([]byte(passwd), []byte(group))
	want := []Duplicate{
		{Kind: "gid", ID: 50, Names: []string{"staff", "dupe"}, Lines: []int{4, 6}},
		{Kind: "uid", ID: 0, Names: []string{"root", "toor"}, Lines: []int{2, 7}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DuplicateIDs = %+v\nwant %+v", got, want)
	}
}

func TestMissingShells(t *testing.T) {
	exists := func(p string) bool { return p == "/bin/bash" }
	got := MissingShells([]byte(passwd), exists)
	want := []MissingShell{{User: "app", Shell: "/bin/sh", Line: 5}, {User: "toor", Shell: "/bin/sh", Line: 7}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MissingShells = %+v\nwant %+v", got, want)
	}
}

func TestReplaceMissingShells(t *testing.T) {
	exists := func(p string) bool { return p == "/bin/bash" }
	got, changed := ReplaceMissingShells([]byte(passwd), exists)
	want := strings.NewReplacer(
		"app:x:1000:1000:App:/home/app:/bin/sh", "app:x:1000:1000:App:/home/app:/usr/sbin/nologin",
		"toor:x:0:0::/root:\n", "toor:x:0:0::/root:/usr/sbin/nologin\n",
	).Replace(passwd)
	if !changed || string(got) != want {
		t.Errorf("ReplaceMissingShells = %v\n%s\nwant\n%s", changed, got, want)
	}
	if m := MissingShells(got, exists); len(m) != 0 {
		t.Errorf("after ReplaceMissingShells, MissingShells = %+v", m)
	}
	if again, changed := ReplaceMissingShells(got, exists); changed || string(again) != string(got) {
		t.Error("second ReplaceMissingShells changed the file")
	}

	none := func(string) bool { return false }
	for _, tc := range []struct{ in, want string }{
		{"root:x:0:0:root:/root:/bin/bash\r\nsync:x:4:65534:sync:/bin:/bin/sync", "root:x:0:0:root:/root:/usr/sbin/nologin\r\nsync:x:4:65534:sync:/bin:/usr/sbin/nologin"},
		{"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2::/bin:/bin/false\n", "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2::/bin:/bin/false\n"},
		{"", ""},
	} {
		in := []byte(tc.in)
		got, changed := ReplaceMissingShells(in[:len(in):len(in)], none)
		if string(got) != tc.want || changed != (tc.in != tc.want) {
			t.Errorf("ReplaceMissingShells(%q) = %q, %v; want %q", tc.in, got, changed, tc.want)
		}
		if string(in) != tc.in {
			t.Errorf("ReplaceMissingShells modified its input %q", tc.in)
		}
	}
}

func TestIsSystemPath(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/", true}, {"/usr", true}, {"/usr/lib/python3", true}, {"/etc/nginx", true}, {"/lib64", true},
		{"/var", true}, {"/var/lib", true}, {"/var/log", true}, {"/home", true}, {"/opt", true}, {"/srv", true},
		{"/tmp", true}, {"/tmp/x", true}, {"/run/app", true}, {"/var/run", true}, {"/root/.cache", true},
		{"/usr/src", true}, {"/usr/local/src", true}, {"/usr/local/bin", true},
		{"/app", false}, {"/data", false}, {"/app/data", false}, {"/var/lib/redis", false},
		{"/var/cache/app", false}, {"/var/log/app", false}, {"/srv/www", false}, {"/opt/app", false},
		{"/home/app", false}, {"/usr/src/app", false}, {"/usr/local/src/app/data", false}, {"/variable", false},
		{"/usrdata", false}, {"/var/www/html", false},
	}
	for _, tc := range tests {
		if got := IsSystemPath(tc.path); got != tc.want {
			t.Errorf("IsSystemPath(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
