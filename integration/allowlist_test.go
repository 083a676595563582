package integration

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allowlistDockerfile installs, in the shipped stage, shells, network
// tools, a debugger and package installers that no tooling list names
// (or names only by a name Debian does not use), copies a patched shell in
// with mode 0644, a BusyBox whose marker string was edited, a relocated
// pip, symlinks into /usr and /bin, and a world-writable binary under
// /var/tmp; the application is a Python program. One build serves every
// assertion of TestAllowlist.
const allowlistDockerfile = `FROM busybox:1.35 AS bb
RUN cp /bin/busybox /bb && sed -i 's/BusyBox v/BusyBoy v/g' /bb

FROM debian:bookworm AS build
RUN cp /bin/dash /x-shell && printf '\0' >> /x-shell

FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      python3-minimal python3-pip-whl mksh zsh yash posh socat ncat openssh-client wget2 lftp \
      openssl bind9-dnsutils gpg rr cpanminus \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /x-shell /app/x
COPY --from=bb /bb /app/bb-patched
COPY app.py /app/app.py
RUN chmod 0644 /app/x \
    && python3 -m zipfile -e /usr/share/python-wheels/pip-*.whl /app/dist-packages/ \
    && ln -s /usr /opt/usr && ln -s /bin /app/binlink \
    && cp /app/x /var/tmp/run-me && chmod 0777 /var/tmp/run-me \
    && cp /app/app.py /var/tmp/shared.py && chmod 0666 /var/tmp/shared.py
ENV LANG=C.UTF-8
USER 65532:65532
ENTRYPOINT ["python3", "/app/app.py"]
`

// allowlistApp checks what a Python program needs at run time: its
// standard library, the C.UTF-8 locale and a writable /tmp.
const allowlistApp = `import locale, os
locale.setlocale(locale.LC_ALL, "")
assert locale.getpreferredencoding() == "UTF-8", locale.getpreferredencoding()
p = "/tmp/selftest-%d" % os.getpid()
with open(p, "w") as f:
    f.write("x")
os.remove(p)
print("uid", os.getuid())
print("selftest ok")
`

const allowlistPolicy = `apiVersion: hardenkit.dev/v1alpha1
kind: Policy
name: allowlist
baseline: strict
rules:
  HK1001: warn
  HK1030: warn
  HK1040: warn
  HK2041: warn
  HK3012: warn
`

// TestAllowlist builds the hostile Dockerfile through # syntax=, then
// proves from the exported image, by running candidates under runc, that
// none of the shells, network tools, debuggers and package installers the
// stage installed or copied runs — and that the application does.
func TestAllowlist(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"Dockerfile": allowlistDockerfile, "app.py": allowlistApp, "hardenkit.yaml": allowlistPolicy,
		".dockerignore": ".git\n.env\n**/*.key\n**/*.pem\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := buildWithBuildctl(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, nil)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	oci, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	bundle := unpackImage(t, oci, "")

	t.Run("app runs", func(t *testing.T) {
		got, err := bundle.runImage(ctx, t, runSpec{})
		if err != nil || !strings.Contains(got, "selftest ok") {
			t.Errorf("the Python app under runc: %v\n%s", err, got)
		}
	})

	// Every tool the stage installed or copied, under every name a user
	// would try, including through the symlinks into /usr and /bin.
	candidates := []string{
		"/bin/sh", "/bin/dash", "/bin/bash", "/usr/bin/mksh", "/bin/mksh", "/usr/bin/zsh", "/bin/zsh", "/usr/bin/yash",
		"/bin/posh", "/usr/bin/posh", "/usr/bin/socat", "/usr/bin/ncat", "/usr/bin/ssh", "/usr/bin/scp", "/usr/bin/wget2",
		"/usr/bin/lftp", "/usr/bin/openssl", "/usr/bin/dig", "/usr/bin/nslookup", "/usr/bin/gpg", "/usr/bin/rr",
		"/usr/bin/cpanm", "/usr/bin/perl", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/mawk", "/usr/bin/nsenter",
		"/usr/bin/unshare", "/usr/sbin/chroot", "/usr/bin/script", "/app/x", "/app/bb-patched", "/var/tmp/run-me",
		"/opt/usr/bin/perl", "/opt/usr/bin/mksh", "/app/binlink/sh", "/app/binlink/zsh",
	}
	t.Run("no tool runs", func(t *testing.T) {
		for _, c := range candidates {
			got, err := bundle.runImage(ctx, t, runSpec{args: []string{c, "-c", pwnCmd}})
			if err == nil || strings.Contains(got, pwned) {
				t.Errorf("%s runs in the hardened image: %v\n%s", c, err, got)
			}
		}
	})
	t.Run("no shell through the loader", func(t *testing.T) {
		for _, c := range []string{"/app/x", "/var/tmp/run-me", "/app/bb-patched"} {
			got, err := bundle.runImage(ctx, t, runSpec{args: []string{"/lib64/ld-linux-x86-64.so.2", c, "-c", pwnCmd}})
			if err == nil || strings.Contains(got, pwned) {
				t.Errorf("ld.so %s runs: %v\n%s", c, err, got)
			}
		}
	})
	t.Run("no relocated pip", func(t *testing.T) {
		got, err := bundle.runImage(ctx, t, runSpec{args: []string{"python3", "-m", "pip", "--version"}, env: []string{"PYTHONPATH=/app/dist-packages"}})
		if err == nil || strings.Contains(got, "pip 2") {
			t.Errorf("python3 -m pip runs: %v\n%s", err, got)
		}
	})
	// Whatever else is executable in the image — every ELF executable and
	// script, whatever its mode — is given a shell command; none may run
	// it. The list is read from the exported rootfs, not from hardenkit.
	t.Run("no executable is a shell", func(t *testing.T) {
		exes := executablesIn(t, bundle.rootfs())
		if len(exes) == 0 || len(exes) > 40 {
			t.Fatalf("%d executables in the image: %v", len(exes), exes)
		}
		t.Logf("executables shipped: %v", exes)
		for _, x := range exes {
			if got, err := bundle.runImage(ctx, t, runSpec{args: []string{x, "-c", pwnCmd}}); strings.Contains(got, pwned) {
				t.Errorf("%s runs a shell command: %v\n%s", x, err, got)
			}
		}
	})
	t.Run("symlinks ship as symlinks", func(t *testing.T) {
		root := bundle.rootfs()
		for _, p := range []string{"/opt/usr", "/app/binlink"} {
			if fi, err := os.Lstat(filepath.Join(root, p)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("%s: %v %v, want a symlink", p, fi, err)
			}
		}
		for _, p := range []string{"/usr/bin/perl", "/usr/bin/mawk", "/usr/share/perl5", "/usr/lib/x86_64-linux-gnu/libzsh-5.9.so"} {
			if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
				t.Errorf("%s ships", p)
			}
		}
	})
	t.Run("world-writable under /var/tmp is a finding", func(t *testing.T) {
		comp := complianceOf(t, oci)
		for _, rule := range []string{"HK2041", "HK3012"} {
			if len(comp[rule].findingsAt("/var/tmp/shared.py")) == 0 {
				t.Errorf("%s does not name /var/tmp/shared.py: %s", rule, comp[rule])
			}
		}
	})
	t.Run("evidence names removals and shipped executables", func(t *testing.T) {
		var st struct {
			Predicate struct {
				Distroless struct {
					Removed     []struct{ Path, Why, Detail string }
					Executables []struct{ Path, Reason string }
				}
			}
		}
		l, img := readOCI(t, oci)
		atts, err := l.Attestations(img.Descriptor.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(atts["https://hardenkit.dev/attestations/compliance/v1"][0], &st); err != nil {
			t.Fatal(err)
		}
		d := st.Predicate.Distroless
		why := map[string]string{}
		for _, r := range d.Removed {
			why[r.Path] = r.Why
		}
		for p, w := range map[string]string{"/app/x": "content", "/app/bb-patched": "content", "/usr/bin/bash": "name", "package:mksh": "allowlist", "package:socat": "allowlist"} {
			if why[p] != w {
				t.Errorf("evidence: %s removed as %q, want %q", p, why[p], w)
			}
		}
		exes := map[string]string{}
		for _, e := range d.Executables {
			exes[e.Path] = e.Reason
		}
		if !strings.HasPrefix(exes["/usr/bin/python3.11"], "entrypoint python3") {
			t.Errorf("evidence: python3.11 shipped for %q (executables %v)", exes["/usr/bin/python3.11"], exes)
		}
	})
}

// pwnCmd is the shell command every candidate is given; only a shell
// prints pwned (an interpreter that echoes its source in an error shows
// the unexpanded text).
const (
	pwnCmd = "echo PWNED$((6*7))"
	pwned  = "PWNED42"
)

// executablesIn lists the files of root a process could execute: an
// execute bit, an ELF executable header (ET_EXEC, or ET_DYN with an entry
// point) or a #! line.
func executablesIn(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		head := make([]byte, 64)
		n, _ := f.Read(head)
		f.Close()
		head = head[:n]
		exec := fi.Mode()&0o111 != 0 || bytes.HasPrefix(head, []byte("#!"))
		if ef, err := elf.Open(p); err == nil {
			exec = exec || ef.Type == elf.ET_EXEC || ef.Type == elf.ET_DYN && ef.Entry != 0
			ef.Close()
		}
		if exec {
			out = append(out, "/"+strings.TrimPrefix(p, root+"/"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAllowlistScratchAndRefusals: a FROM scratch stage that copies in a
// renamed BusyBox, one with its marker edited and a patched shell ships
// none of them; device nodes and FIFOs fail the build naming them; a path
// the policy keeps whose content is BusyBox fails the build naming it.
func TestAllowlistScratchAndRefusals(t *testing.T) {
	const stages = "FROM busybox:1.35 AS bb\n" +
		"RUN cp /bin/busybox /helper && cp /bin/busybox /bb && sed -i 's/BusyBox v/BusyBoy v/g' /bb && cp /bin/busybox /sh-plus && printf '\\0' >> /sh-plus\n\n"
	tests := []struct {
		name       string
		dockerfile string
		policy     string
		wantErr    []string
		gone       []string
		kept       []string
	}{
		{
			name: "scratch",
			dockerfile: stages + "FROM scratch\nCOPY --from=bb /helper /helper\nCOPY --from=bb /bb /usr/local/bin/tool\n" +
				"COPY --from=bb /sh-plus /app/x\nCOPY data.txt /app/data.txt\n",
			gone: []string{"/helper", "/usr/local/bin/tool", "/app/x"},
			kept: []string{"/app/data.txt"},
		},
		{
			name:       "device node and FIFO",
			dockerfile: "FROM busybox:1.35\nRUN mkdir -p /app && mknod /app/mem c 1 1 && mkfifo /app/fifo\nCOPY x /x\nUSER 65532:65532\nENTRYPOINT [\"/x\"]\n",
			// The error names the instruction that made them and shows it.
			wantErr: []string{"HK2042", "/app/mem (character device", "/app/fifo (FIFO",
				// (line 3: buildWithBuildctl puts a # syntax= line first)
				"[/app/fifo, /app/mem: written or changed by RUN mkdir -p /app && mknod /app/mem c 1 1 && mkfifo /app/fifo (Dockerfile:3)",
				">>> RUN mkdir -p /app && mknod /app/mem c 1 1 && mkfifo /app/fifo"},
		},
		{
			name:       "policy keep with a shell's content",
			dockerfile: stages + "FROM busybox:1.35\nCOPY --from=bb /bb /usr/bin/tini\nCOPY x /x\nUSER 65532:65532\nENTRYPOINT [\"/x\"]\n",
			policy:     "controls:\n  tooling:\n    keep: [/usr/bin/tini]\n",
			wantErr:    []string{"/usr/bin/tini is kept by policy keep /usr/bin/tini, but its content is a shell"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			for name, content := range map[string]string{
				"Dockerfile": tc.dockerfile, "data.txt": "data\n", "hardenkit.yaml": allowlistPolicy + tc.policy,
				".dockerignore": ".git\n.env\n**/*.key\n**/*.pem\n", "x": "#!/x\n",
			} {
				mode := fs.FileMode(0o644)
				if name == "x" {
					mode = 0o755
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
					t.Fatal(err)
				}
			}
			dest := filepath.Join(t.TempDir(), "image.tar")
			out, err := buildWithBuildctl(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, nil)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("build succeeded, want %v", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(out, w) {
						t.Errorf("output does not say %q:\n%s", w, tail(out, 60))
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("build: %v\n%s", err, out)
			}
			oci, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			root := unpackImage(t, oci, "").rootfs()
			for _, p := range tc.gone {
				if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
					t.Errorf("%s ships", p)
				}
			}
			for _, p := range tc.kept {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s does not ship: %v", p, err)
				}
			}
		})
	}
}

// TestAllowlistRuntimes: Node.js and Java from Debian packages, hardened
// through # syntax= with the allowlist, still run under runc from the
// exported image (the Python runtime is TestAllowlist's application).
func TestAllowlistRuntimes(t *testing.T) {
	tests := []struct {
		name, dockerfile, want string
		files                  map[string]string
	}{
		{
			name: "node",
			dockerfile: "FROM debian:bookworm\n" +
				"RUN apt-get update && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*\n" +
				"COPY app.js /app/app.js\nUSER 65532:65532\nENTRYPOINT [\"node\", \"/app/app.js\"]\n",
			files: map[string]string{"app.js": `const crypto = require("crypto"), zlib = require("zlib"), http = require("http");
const h = crypto.createHash("sha256").update("x").digest("hex");
const z = zlib.gunzipSync(zlib.gzipSync("hello")).toString();
const d = new Intl.DateTimeFormat("en-US", {timeZone: "UTC"}).format(new Date(0));
if (h.length !== 64 || z !== "hello" || !d) process.exit(1);
const s = http.createServer((q, r) => r.end("ok")).listen(0, "127.0.0.1", () => {
  http.get({port: s.address().port, host: "127.0.0.1"}, r => { r.on("data", b => { console.log("selftest " + b); s.close(); }); });
});
`},
			want: "selftest ok",
		},
		{
			name: "java",
			dockerfile: "FROM debian:bookworm\n" +
				"RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/*\n" +
				"USER 65532:65532\nENTRYPOINT [\"java\", \"-XshowSettings:properties\", \"-version\"]\n",
			// The JVM starts, loads its modules and its CA store, and
			// reports its home: the runtime a Java application runs on.
			want: "java.home = /usr/lib/jvm/java-17-openjdk",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			// Debian's node typings and java.security trip the generic
			// secret detector (precision on package files is issue 12's);
			// the runtime's behaviour is what this test is about.
			files := map[string]string{"Dockerfile": tc.dockerfile, "hardenkit.yaml": allowlistPolicy + "  HK3052: warn\n", ".dockerignore": ".git\n.env\n**/*.key\n**/*.pem\n"}
			for k, v := range tc.files {
				files[k] = v
			}
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dest := filepath.Join(t.TempDir(), "image.tar")
			out, err := buildWithBuildctl(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, nil)
			if err != nil {
				t.Fatalf("build: %v\n%s", err, tail(out, 80))
			}
			oci, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			bundle := unpackImage(t, oci, "")
			got, err := bundle.runImage(ctx, t, runSpec{})
			if err != nil || !strings.Contains(got, tc.want) {
				t.Errorf("%s under runc: %v\n%s", tc.name, err, tail(got, 60))
			}
			for _, c := range []string{"/bin/sh", "/usr/bin/apt-get", "/usr/bin/perl"} {
				if got, err := bundle.runImage(ctx, t, runSpec{args: []string{c, "-c", pwnCmd}}); err == nil || strings.Contains(got, pwned) {
					t.Errorf("%s runs: %s", c, got)
				}
			}
		})
	}
}
