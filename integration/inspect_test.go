package integration

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/errdefs"

	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// inspectVariants are the two ways the inspection step runs: in-process
// (gateway reads, as `hardenkit build` does) and in the frontend image
// (the in-build scanner step, as `# syntax=` does).
var inspectVariants = []variant{inProcess, gateway}

// plantedFiles are the context files of testdata/inspect/planted: one
// planted case per image inspection rule, with fresh secrets from p.
func plantedFiles(p secretstest.Planted) map[string]contextFile {
	exe := fs0755
	return map[string]contextFile{
		"app": {content: "#!/app/run\n", mode: exe},
		// Tooling, by name (HK3001-3003); busybox comes from the tools
		// stage (HK3004).
		"bin/apt-get": {content: "#!/app/run apt-get\n", mode: exe},
		"bin/curl":    {content: "#!/app/run curl\n", mode: exe},
		"bin/strace":  {content: "#!/app/run strace\n", mode: exe},
		// HK3011: the Dockerfile gives it cap_net_bind_service=ep.
		"caps/netbind-helper": {content: "#!/app/run netbind\n", mode: exe},
		// HK3010: COPY --chmod=4755 asks for a setuid file.
		"suid/helper": {content: "#!/app/run suid\n", mode: exe},
		// HK3012: COPY --chmod=0666.
		"data/shared.txt": {content: "shared\n"},
		// HK3020 (app has no password), HK3021 (UID and GID 1000 twice);
		// /bin/sh and /bin/bash are not in the image (HK3022).
		"etc/passwd": {content: "root:x:0:0:root:/root:/bin/sh\n" +
			"app:x:1000:1000:app:/home/app:/bin/bash\n" +
			"alias:x:1000:1000:alias of app:/home/app:/usr/sbin/nologin\n"},
		"etc/group":  {content: "root:x:0:\napp:x:1000:\nstaff:x:1000:\n"},
		"etc/shadow": {content: "root:*:19700:0:99999:7:::\napp::19700:0:99999:7:::\nalias:!:19700:0:99999:7:::\n"},
		// HK3030: credential stores.
		"home/.ssh/authorized_keys": {content: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHardenkitIntegrationTestPublicKeyOnly app@example\n"},
		"home/.aws/config":          {content: "[default]\nregion = eu-west-1\n"},
		"home/.docker/config.json":  {content: "{\"auths\": {}}\n"},
		"home/.npmrc":               {content: "//registry.npmjs.org/:_authToken=" + p.NPMToken + "\n"},
		"home/.env":                 {content: "APP_MODE=production\n"},
		// HK3031: repository metadata, a build file and an editor swap file.
		"repo/.git/HEAD":     {content: "ref: refs/heads/main\n"},
		"repo/.git/config":   {content: "[core]\n\tbare = false\n"},
		"repo/Dockerfile":    {content: "FROM scratch\n"},
		"repo/.main.go.swp":  {content: "b0VIM 9.0\n"},
		"repo/main.go":       {content: "package main\n"},
		"secret/key.pem":     {content: p.PrivateKeyPEM},
		"unused/ignored.txt": {content: "not copied\n"},
	}
}

const fs0755 fs.FileMode = 0o755

// plantedCase is what one inspection rule must report about the planted
// image: a finding at file (an image path, "" for the config, or a
// scanner place such as env:NAME) whose message contains each of want.
type plantedCase struct {
	rule string
	file string
	want []string
}

func plantedCases() []plantedCase {
	return []plantedCase{
		{rule: "HK3001", file: "/usr/bin/apt-get", want: []string{"apt-get"}},
		{rule: "HK3002", file: "/usr/bin/curl", want: []string{"curl"}},
		{rule: "HK3003", file: "/usr/bin/strace", want: []string{"strace"}},
		{rule: "HK3004", file: "/opt/tools/busybox", want: []string{"busybox"}},
		{rule: "HK3011", file: "/usr/local/bin/netbind-helper", want: []string{"cap_net_bind_service"}},
		{rule: "HK3012", file: "/data/shared.txt", want: []string{"world-writable"}},
		{rule: "HK3020", file: "/etc/shadow", want: []string{"app", "empty password"}},
		{rule: "HK3021", file: "/etc/passwd", want: []string{"UID 1000", "app", "alias"}},
		{rule: "HK3021", file: "/etc/group", want: []string{"GID 1000", "app", "staff"}},
		{rule: "HK3030", file: "/home/app/.ssh", want: []string{".ssh"}},
		{rule: "HK3030", file: "/home/app/.aws", want: []string{".aws"}},
		{rule: "HK3030", file: "/home/app/.docker/config.json", want: []string{"config.json"}},
		{rule: "HK3030", file: "/home/app/.npmrc", want: []string{"npm"}},
		{rule: "HK3030", file: "/home/app/.env", want: []string{".env"}},
		{rule: "HK3031", file: "/src/.git", want: []string{".git"}},
		{rule: "HK3031", file: "/src/Dockerfile", want: []string{"Dockerfile"}},
		{rule: "HK3031", file: "/src/.main.go.swp", want: []string{".swp"}},
		{rule: "HK3040", file: "", want: []string{"root"}},
		{rule: "HK3041", file: "", want: []string{"22"}},
		{rule: "HK3042", file: "", want: []string{"/sys/fs/cgroup"}},
		{rule: "HK3050", file: "env:API_TOKEN", want: []string{"API_TOKEN"}},
		{rule: "HK3050", file: "label:com.example.deploy-key-id", want: []string{"com.example.deploy-key-id"}},
		{rule: "HK3052", file: "/app/key.pem", want: []string{"/app/key.pem"}},
		{rule: "HK3052", file: "/home/app/.npmrc", want: []string{".npmrc"}},
		{rule: "HK3053", file: "build-arg:API_TOKEN", want: []string{"API_TOKEN"}},
	}
}

// buildPlanted builds the planted image with policy (a file of
// testdata/inspect/planted) through v.
func buildPlanted(t *testing.T, v variant, p secretstest.Planted, policy string) (string, *buildResult, error) {
	t.Helper()
	dir := inspectContext(t, "planted", plantedFiles(p))
	copySetcap(t, filepath.Join(dir, "setcap"))
	df := filepath.Join(dir, "Dockerfile")
	res, err := build(context.Background(), t, v, buildRequest{
		contextDir: dir, dockerfile: df,
		attrs: map[string]string{
			"build-arg:HARDENKIT_MODE":   "enforce",
			"build-arg:HARDENKIT_POLICY": policy,
			"build-arg:API_TOKEN":        p.GitHubToken,
			"build-arg:DEPLOY_KEY_ID":    p.AWSAccessKeyID,
		},
	})
	return df, res, err
}

// TestInspectPlantedCases builds one image that ships a planted case for
// every image inspection rule, with a policy that lets each case through
// the static rules and the hardening controls and has the inspection
// warn: every rule must report its case, in the compliance attestation and
// as a build warning.
func TestInspectPlantedCases(t *testing.T) {
	for _, v := range inspectVariants {
		t.Run(string(v), func(t *testing.T) {
			p := secretstest.Generate(t)
			df, res, err := buildPlanted(t, v, p, "hardenkit.yaml")
			if err != nil {
				t.Fatalf("build with every image rule at warn: %v\n%s", err, res.progress)
			}
			comp := complianceOf(t, res.oci)
			if got := inspectionScanner(t, res.oci); got != wantScanner[v] {
				t.Errorf("inspection scanner %q, want %q", got, wantScanner[v])
			}
			// The harness's progress leaves out warnings that come after
			// their vertex is done; a user's client lists them all.
			shown := plantedThroughClient(t, v, df, p)
			for _, c := range plantedCases() {
				r, ok := comp[c.rule]
				if !ok {
					t.Errorf("%s: not in the compliance attestation", c.rule)
					continue
				}
				if r.Result != "warn" {
					t.Errorf("%s: result %q, want warn:\n  %s", c.rule, r.Result, r)
				}
				var hit *complianceFinding
				for _, f := range r.findingsAt(c.file) {
					if containsAll(f.Message, c.want) {
						hit = &f
						break
					}
				}
				if hit == nil {
					t.Errorf("%s: no finding at %q mentioning %q:\n  %s", c.rule, c.file, c.want, r)
					continue
				}
				if hit.Level != "warn" {
					t.Errorf("%s %s: level %q, want warn", c.rule, c.file, hit.Level)
				}
				if strings.HasPrefix(c.rule, "HK305") && !fingerprintRe.MatchString(hit.Fingerprint) {
					t.Errorf("%s %s: fingerprint %q, want 16 hex digits", c.rule, c.file, hit.Fingerprint)
				}
				// The user sees it as a build warning too.
				if ws := warnings(shown, c.rule); len(ws) == 0 {
					t.Errorf("%s: no build warning in the client's output", c.rule)
				} else if c.file != "" && !slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, warnedName(c.file)) }) {
					t.Errorf("%s: no build warning names %s:\n  %s", c.rule, c.file, strings.Join(ws, "\n  "))
				}
			}

			// HK3054 is reported at the COPY lines of the Dockerfile that
			// bring a secret in (secret/key.pem, home/.npmrc), and only
			// there: unused/ignored.txt is in the context, copied by
			// nothing.
			r54 := comp["HK3054"]
			at := copyFindings(t, r54)
			for _, prefix := range []string{"COPY secret/key.pem", "COPY home/"} {
				line := instructionLine(t, df, prefix)
				f, ok := at[line]
				if !ok || r54.Result != "warn" || f.Level != "warn" || !fingerprintRe.MatchString(f.Fingerprint) {
					t.Errorf("HK3054: want a warning with a 16-hex fingerprint at line %d (%s): %s", line, prefix, r54)
				}
			}
			for _, f := range r54.Findings {
				if strings.Contains(f.Message, "ignored.txt") {
					t.Errorf("HK3054 reports a context file no COPY brings in: %+v", f)
				}
			}
			if len(warnings(shown, "HK3054")) == 0 {
				t.Error("HK3054: no build warning in the client's output")
			}

			_, img := readOCI(t, res.oci)
			files, err := img.Files()
			if err != nil {
				t.Fatal(err)
			}
			// What could not be planted, checked for the reason why: the
			// hardened layer strips every setuid bit whatever the policy
			// (HK3010 has nothing left to find), the hardened passwd names
			// nologin for every login shell that does not ship (HK3022),
			// and the hardened config has one history entry of its own
			// (HK3051 sees no RUN line).
			suid, ok := files["/usr/local/bin/suid-helper"]
			if !ok {
				t.Error("/usr/local/bin/suid-helper (COPY --chmod=4755) does not ship")
			} else if suid.Mode&0o6000 != 0 {
				if comp["HK3010"].Result != "warn" || len(comp["HK3010"].findingsAt("/usr/local/bin/suid-helper")) == 0 {
					t.Errorf("/usr/local/bin/suid-helper ships setuid (mode %o) and HK3010 did not report it: %s", suid.Mode, comp["HK3010"])
				}
			} else if comp["HK3010"].Result != "pass" {
				t.Errorf("no file ships setuid, yet %s", comp["HK3010"])
			}
			passwd := string(files["/etc/passwd"].Content)
			if strings.Contains(passwd, ":/bin/bash") || strings.Contains(passwd, ":/bin/sh") {
				if comp["HK3022"].Result != "warn" || len(comp["HK3022"].findingsAt("/etc/passwd")) == 0 {
					t.Errorf("/etc/passwd ships login shells the image lacks and HK3022 did not report them: %s\n%s", comp["HK3022"], passwd)
				}
			} else if !strings.Contains(passwd, "app:x:1000:1000:app:/home/app:/usr/sbin/nologin") {
				t.Errorf("/etc/passwd neither keeps nor rewrites app's missing login shell:\n%s", passwd)
			} else if comp["HK3022"].Result != "pass" {
				t.Errorf("every login shell is nologin, yet %s", comp["HK3022"])
			}
			history, _ := img.Config["history"].([]any)
			if len(history) != 1 {
				t.Errorf("hardened config has %d history entries, want hardenkit's one", len(history))
			}
			if comp["HK3051"].Result != "pass" {
				t.Errorf("HK3051 on a one-entry history: %s", comp["HK3051"])
			}
			for _, planted := range []string{"/home/app/.ssh/authorized_keys", "/src/.git/HEAD", "/app/key.pem", "/data/shared.txt"} {
				if _, ok := files[planted]; !ok {
					t.Errorf("%s does not ship, so its rule could not see it", planted)
				}
			}
			if string(files["/app/key.pem"].Content) != p.PrivateKeyPEM {
				t.Error("/app/key.pem does not hold the planted key")
			}
		})
	}
}

// plantedThroughClient builds the planted context of dockerfile the way a
// user reaches v — hardenkit build for in-process, docker buildx with a
// `# syntax=` line for the frontend image — and returns what it printed.
func plantedThroughClient(t *testing.T, v variant, dockerfile string, p secretstest.Planted) string {
	t.Helper()
	dir := filepath.Dir(dockerfile)
	args := []string{"HARDENKIT_POLICY=hardenkit.yaml", "API_TOKEN=" + p.GitHubToken, "DEPLOY_KEY_ID=" + p.AWSAccessKeyID}
	buildWith := buildWithCLI
	if v == gateway {
		buildWith = buildWithBuildx
	}
	out, err := buildWith(context.Background(), t, dir, dockerfile, filepath.Join(t.TempDir(), "image.tar"), args)
	if err != nil {
		t.Fatalf("building the planted image through the client: %v\n%s", err, out)
	}
	secretstest.AssertNoLeak(t, p, "client output", out)
	return out
}

// warnedName is the part of a finding's place a warning names: the image
// path, or the variable, label or build argument name.
func warnedName(place string) string {
	for _, p := range []string{"env:", "label:", "build-arg:"} {
		place = strings.TrimPrefix(place, p)
	}
	return place
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestInspectEnforcedFailsBuild builds the planted image with the image
// rules at the strict baseline's enforce: the build fails, exports
// nothing, and its error names each rule with the image path, and points
// HK3054 at the COPY line that brings the secret in.
func TestInspectEnforcedFailsBuild(t *testing.T) {
	for _, v := range inspectVariants {
		t.Run(string(v), func(t *testing.T) {
			p := secretstest.Generate(t)
			df, res, err := buildPlanted(t, v, p, "enforce.yaml")
			if err == nil {
				t.Fatalf("build with planted cases at enforce succeeded:\n%s", res.progress)
			}
			if len(res.oci) != 0 {
				t.Errorf("a failed build exported %d bytes", len(res.oci))
			}
			msg := err.Error()
			for _, want := range []string{
				"HK3012 /data/shared.txt",
				"HK3020 /etc/shadow",
				"HK3030 /home/app/.ssh",
				"HK3031 /src/.git",
				"HK3052 /app/key.pem",
				"HK3011 /usr/local/bin/netbind-helper",
			} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			if !strings.Contains(msg, "HK3054") {
				t.Errorf("error lacks HK3054:\n%s", msg)
			}
			want := fmt.Sprintf("Dockerfile:%d", instructionLine(t, df, "COPY secret/key.pem"))
			if lines := sourceLines(err); !slices.Contains(lines, want) {
				t.Errorf("error points at %v, want %s (the COPY of secret/key.pem)", lines, want)
			}
			secretstest.AssertNoLeak(t, p, "error", msg)
			secretstest.AssertNoLeak(t, p, "progress", res.progress)
		})
	}
}

// TestInspectMultiStage: a builder stage copies a private key from the
// build context and the final stage copies only the built artefact. The
// key does not ship, so HK3052 has nothing to report; HK3054 reports it at
// the builder's COPY line, and fails the build there when enforced.
func TestInspectMultiStage(t *testing.T) {
	for _, v := range inspectVariants {
		t.Run(string(v), func(t *testing.T) {
			p := secretstest.Generate(t)
			dir := inspectContext(t, "multistage", map[string]contextFile{
				"deploy.pem": {content: p.PrivateKeyPEM},
				"app":        {content: "#!/app/run\n", mode: fs0755},
			})
			df := filepath.Join(dir, "Dockerfile")
			copyLine := instructionLine(t, df, "COPY deploy.pem")
			req := buildRequest{contextDir: dir, dockerfile: df, attrs: map[string]string{"build-arg:HARDENKIT_MODE": "enforce"}}

			res, err := build(context.Background(), t, v, req)
			if err != nil {
				t.Fatalf("build with HK3054 at warn: %v\n%s", err, res.progress)
			}
			comp := complianceOf(t, res.oci)
			if r := comp["HK3052"]; r.Result != "pass" || len(r.Findings) != 0 {
				t.Errorf("the key only the builder copies is reported as shipped: %s", r)
			}
			r := comp["HK3054"]
			if r.Result != "warn" || len(r.Findings) != 1 {
				t.Fatalf("HK3054, want one warning at Dockerfile:%d: %s", copyLine, r)
			}
			f, ok := copyFindings(t, r)[copyLine]
			if !ok || f.Level != "warn" || !fingerprintRe.MatchString(f.Fingerprint) {
				t.Errorf("HK3054 finding %+v, want Dockerfile:%d at warn with a 16-hex fingerprint", r.Findings[0], copyLine)
			}
			_, img := readOCI(t, res.oci)
			files, err := img.Files()
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := files["/src/deploy.pem"]; ok {
				t.Error("/src/deploy.pem ships")
			}
			if _, ok := files["/app/artefact.txt"]; !ok {
				t.Error("/app/artefact.txt, the built artefact, does not ship")
			}
			for p, file := range files {
				if strings.Contains(string(file.Content), "PRIVATE KEY") {
					t.Errorf("%s holds a private key", p)
				}
			}
			secretstest.AssertNoLeak(t, p, "progress", res.progress)

			// Enforced (strict), the build fails at the builder's COPY.
			req.attrs["build-arg:HARDENKIT_POLICY"] = "strict.yaml"
			res, err = build(context.Background(), t, v, req)
			if err == nil {
				t.Fatalf("build with HK3054 enforced succeeded:\n%s", res.progress)
			}
			if !strings.Contains(err.Error(), "HK3054") {
				t.Errorf("error does not name HK3054: %v", err)
			}
			want := fmt.Sprintf("Dockerfile:%d", copyLine)
			if lines := sourceLines(err); !slices.Contains(lines, want) {
				t.Errorf("error points at %v, want %s", lines, want)
			}
			if len(errdefs.Sources(err)) == 0 {
				t.Errorf("error carries no Dockerfile source: %v", err)
			}
			if strings.Contains(err.Error(), "HK3052") {
				t.Errorf("error reports the builder-only key as shipped (HK3052): %v", err)
			}
			secretstest.AssertNoLeak(t, p, "error", err.Error())
		})
	}
}

// TestInspectCleanExamples builds each example with its strict policy:
// the inspection runs (every image rule is evaluated) and finds nothing.
func TestInspectCleanExamples(t *testing.T) {
	ids := imageRuleIDs()
	for _, ex := range []string{"debian-app", "python-app", "static-site"} {
		for _, v := range inspectVariants {
			t.Run(ex+"/"+string(v), func(t *testing.T) {
				dir, err := filepath.Abs(filepath.Join("..", "examples", ex))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(filepath.Join(dir, "hardenkit.yaml")); err != nil {
					t.Fatalf("the example's policy: %v", err)
				}
				res, err := build(context.Background(), t, v, buildRequest{contextDir: dir, dockerfile: filepath.Join(dir, "Dockerfile"),
					attrs: map[string]string{"build-arg:HARDENKIT_MODE": "enforce"}})
				if err != nil {
					t.Fatalf("build: %v\n%s", err, res.progress)
				}
				comp := complianceOf(t, res.oci)
				if got := inspectionScanner(t, res.oci); got != wantScanner[v] {
					t.Errorf("inspection scanner %q, want %q", got, wantScanner[v])
				}
				for _, id := range ids {
					r, ok := comp[id]
					switch {
					case !ok:
						t.Errorf("%s is not in the compliance attestation", id)
					case r.Result != "pass":
						t.Errorf("%s", r)
					}
				}
				for _, id := range ids {
					if ws := warnings(res.progress, id); len(ws) > 0 {
						t.Errorf("build warnings for %s:\n  %s", id, strings.Join(ws, "\n  "))
					}
				}
			})
		}
	}
}
