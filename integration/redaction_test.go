package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

// clientPath is one way a user runs a build, with everything the client
// receives kept: the command's stdout and stderr (progress, warnings, the
// error), the --metadata-file and the exported OCI tarball.
type clientPath struct {
	name string
	// rawjson says the progress on stderr is a --progress=rawjson stream.
	rawjson bool
	// syntax says the Dockerfile gets a `# syntax=` line (gateway path).
	syntax bool
	run    func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest, metadata string, buildArgs []string) captured
}

var redactionPaths = []clientPath{
	{name: "hardenkit-cli-plain", run: hardenkitCLI("plain")},
	{name: "hardenkit-cli-rawjson", rawjson: true, run: hardenkitCLI("rawjson")},
	{name: "syntax-buildctl-plain", syntax: true, run: syntaxBuildctl("plain")},
	{name: "syntax-buildctl-rawjson", rawjson: true, syntax: true, run: syntaxBuildctl("rawjson")},
	{name: "syntax-buildx-rawjson", rawjson: true, syntax: true, run: syntaxBuildx("rawjson")},
}

func hardenkitCLI(progress string) func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest, metadata string, buildArgs []string) captured {
	return func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest, metadata string, buildArgs []string) captured {
		// Provenance is on by default (mode=max).
		args := []string{"build", "--addr", env.BuildkitAddr, "--progress", progress, "--metadata-file", metadata,
			"-f", dockerfile, "--output", "type=oci,dest=" + dest}
		for _, a := range buildArgs {
			args = append(args, "--build-arg", a)
		}
		return runCaptured(ctx, nil, binaries.hardenkit, append(args, contextDir)...)
	}
}

func syntaxBuildctl(progress string) func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest, metadata string, buildArgs []string) captured {
	return func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest, metadata string, buildArgs []string) captured {
		args := []string{"--addr", env.BuildkitAddr, "build", "--progress", progress, "--frontend", "dockerfile.v0",
			"--local", "context=" + contextDir,
			"--local", "dockerfile=" + filepath.Dir(withSyntax(t, dockerfile)),
			"--opt", "attest:provenance=mode=max",
			"--metadata-file", metadata,
			"--output", "type=oci,dest=" + dest}
		for _, a := range buildArgs {
			args = append(args, "--opt", "build-arg:"+a)
		}
		return runCaptured(ctx, nil, binaries.buildctl, args...)
	}
}

func syntaxBuildx(progress string) func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest, metadata string, buildArgs []string) captured {
	return func(ctx context.Context, t *testing.T, contextDir, dockerfile, dest, metadata string, buildArgs []string) captured {
		envv := buildxConfig(ctx, t)
		args := []string{"buildx", "build", "--builder", "hardenkit-it", "--progress", progress,
			"--provenance", "mode=max", "--metadata-file", metadata,
			"-f", withSyntax(t, dockerfile), "--output", "type=oci,dest=" + dest}
		for _, a := range buildArgs {
			args = append(args, "--build-arg", a)
		}
		return runCaptured(ctx, envv, "docker", append(args, contextDir)...)
	}
}

// assertClientClean checks everything the client showed: stdout, stderr
// and, for a rawjson stream, the text its JSON carries base64-encoded.
func assertClientClean(t *testing.T, p clientPath, secrets []secretstest.Planted, out captured, metadata string) {
	t.Helper()
	texts := map[string]string{"stdout": out.stdout, "stderr": out.stderr}
	if out.err != nil {
		texts["error"] = out.err.Error()
	}
	if p.rawjson {
		messages, sources, n := decodeRawJSON(out.stderr)
		if n == 0 {
			t.Errorf("%s: stderr holds no rawjson solve status:\n%.2000s", p.name, out.stderr)
		}
		texts["rawjson progress (decoded messages)"] = messages
		texts["rawjson progress (source files of warnings, decoded)"] = sources
	}
	if dt, err := os.ReadFile(metadata); err == nil {
		texts["--metadata-file"] = string(dt)
	}
	for what, s := range texts {
		for _, pl := range secrets {
			secretstest.AssertNoLeak(t, pl, p.name+" "+what, s)
		}
	}
}

// everywhereSecrets are the two sets of secrets of the first redaction
// build: shipped is written into the file that ships and the Dockerfile,
// builder into the context file only the builder stage copies.
type everywhereSecrets struct{ shipped, builder secretstest.Planted }

// TestRedactionSecretsEverywhere plants a distinct secret in every place a
// build can carry one — a file of the final image, a context file only a
// builder stage copies, ENV, a LABEL, a RUN command line and a secret
// --build-arg — and builds with the default policy through each user path.
// The build fails; nothing is exported, and nothing the client receives
// holds a secret or its base64.
func TestRedactionSecretsEverywhere(t *testing.T) {
	for _, p := range redactionPaths {
		t.Run(p.name, func(t *testing.T) {
			ctx := context.Background()
			s := everywhereSecrets{shipped: secretstest.Generate(t), builder: secretstest.Generate(t)}
			tmpl, err := os.ReadFile(filepath.Join(inspectTestdata, "redaction-everywhere", "Dockerfile.tmpl"))
			if err != nil {
				t.Fatal(err)
			}
			df := strings.NewReplacer(
				"{{JWT}}", s.shipped.JWT,
				"{{GITHUB_TOKEN}}", s.shipped.GitHubToken,
				"{{AWS_ACCESS_KEY_ID}}", s.shipped.AWSAccessKeyID,
			).Replace(string(tmpl))
			dir := inspectContext(t, "redaction-everywhere", map[string]contextFile{
				"Dockerfile":       {content: df},
				"shipped.pem":      {content: s.shipped.PrivateKeyPEM},
				"builder-only.pem": {content: s.builder.PrivateKeyPEM},
				"app":              {content: "#!/app/run\n", mode: fs0755},
			})
			dest := filepath.Join(t.TempDir(), "image.tar")
			metadata := filepath.Join(t.TempDir(), "metadata.json")
			out := p.run(ctx, t, dir, filepath.Join(dir, "Dockerfile"), dest, metadata, []string{"NPM_TOKEN=" + s.shipped.NPMToken})
			if out.err == nil {
				t.Fatalf("build with secrets everywhere and the default policy succeeded:\n%s%s", out.stdout, out.stderr)
			}
			// It failed for the secrets: the user is told which rule.
			shown := out.stdout + out.stderr
			if p.rawjson {
				messages, _, _ := decodeRawJSON(out.stderr)
				shown += messages
			}
			for _, rule := range []string{"HK1061", "HK1062"} {
				if !strings.Contains(shown, rule) {
					t.Errorf("the output does not name %s:\n%s", rule, shown)
				}
			}
			if p.syntax && !strings.Contains(shown, env.Frontend) {
				t.Errorf("the output never mentions the frontend image %s, so it did not run:\n%s", env.Frontend, shown)
			}
			// (buildctl creates the destination before the build; empty
			// is nothing exported.)
			if st, err := os.Stat(dest); err == nil && st.Size() > 0 {
				t.Errorf("the failed build exported %s (%d bytes)", dest, st.Size())
			}
			assertClientClean(t, p, []secretstest.Planted{s.shipped, s.builder}, out, metadata)
		})
	}
}

// TestRedactionSecretsInFiles builds with secrets only in files — one that
// ships and one only a builder stage copies — and a policy that warns about
// them, through each user path. The build exports; the evidence (SPDX,
// CycloneDX, compliance, provenance), every other exported blob and
// everything the client shows hold no secret, while the compliance
// attestation records each finding by rule, place and fingerprint, and
// the image layer holds the shipped file.
func TestRedactionSecretsInFiles(t *testing.T) {
	for _, p := range redactionPaths {
		t.Run(p.name, func(t *testing.T) {
			ctx := context.Background()
			shipped, builder := secretstest.Generate(t), secretstest.Generate(t)
			dir := inspectContext(t, "redaction-files", map[string]contextFile{
				"shipped.pem":      {content: shipped.PrivateKeyPEM},
				"builder-only.pem": {content: builder.PrivateKeyPEM},
				"app":              {content: "#!/app/run\n", mode: fs0755},
			})
			df := filepath.Join(dir, "Dockerfile")
			dest := filepath.Join(t.TempDir(), "image.tar")
			metadata := filepath.Join(t.TempDir(), "metadata.json")
			out := p.run(ctx, t, dir, df, dest, metadata, nil)
			if out.err != nil {
				t.Fatalf("build: %v\n%s%s", out.err, out.stdout, out.stderr)
			}
			all := []secretstest.Planted{shipped, builder}
			if dt, err := os.ReadFile(metadata); err != nil || !json.Valid(dt) {
				t.Errorf("--metadata-file of a successful build: %v %.200s", err, dt)
			}
			assertClientClean(t, p, all, out, metadata)

			oci, err := os.ReadFile(dest)
			if err != nil {
				t.Fatal(err)
			}
			// Every exported blob but the image's layer: index, manifests,
			// config, attestations.
			texts, layers := exportedTexts(t, oci)
			if len(layers) != 1 {
				t.Errorf("%d image layers, want hardenkit's one", len(layers))
			}
			for name, s := range texts {
				for _, pl := range all {
					secretstest.AssertNoLeak(t, pl, "exported "+name, s)
				}
			}

			// The evidence is all there (so the check above read it).
			l, img := readOCI(t, oci)
			atts, err := l.Attestations(img.Descriptor.Digest)
			if err != nil {
				t.Fatal(err)
			}
			for _, pt := range []string{"https://spdx.dev/Document", "https://cyclonedx.org/bom", compliance.PredicateType} {
				if len(atts[pt]) != 1 {
					t.Errorf("%d %s attestations, want 1", len(atts[pt]), pt)
				}
			}
			provenance := 0
			for pt, sts := range atts {
				if strings.HasPrefix(pt, "https://slsa.dev/provenance/") {
					provenance += len(sts)
				}
			}
			if provenance != 1 {
				t.Errorf("%d SLSA provenance attestations, want 1 (types %v)", provenance, keysOfAtts(atts))
			}

			// The compliance attestation records the findings by rule,
			// place and fingerprint.
			comp := complianceOf(t, oci)
			lineOffset := 0
			if p.syntax {
				lineOffset = 1 // the `# syntax=` line
			}
			shippedCopy := instructionLine(t, df, "COPY shipped.pem") + lineOffset
			builderCopy := instructionLine(t, df, "COPY builder-only.pem") + lineOffset
			r52 := comp["HK3052"]
			f52 := r52.findingsAt("/app/key.pem")
			if r52.Result != "warn" || len(f52) != 1 || !fingerprintRe.MatchString(f52[0].Fingerprint) {
				t.Errorf("HK3052, want one warning at /app/key.pem with a 16-hex fingerprint: %s", r52)
			}
			if len(r52.Findings) != 1 {
				t.Errorf("HK3052 reports more than the shipped key (the builder-only one does not ship): %s", r52)
			}
			r54 := comp["HK3054"]
			at := copyFindings(t, r54)
			fs, fb := at[shippedCopy], at[builderCopy]
			if r54.Result != "warn" || !fingerprintRe.MatchString(fs.Fingerprint) || !fingerprintRe.MatchString(fb.Fingerprint) {
				t.Errorf("HK3054, want warnings at Dockerfile:%d and Dockerfile:%d with 16-hex fingerprints: %s", shippedCopy, builderCopy, r54)
			}
			// One secret, one fingerprint, wherever it is found; two
			// secrets, two fingerprints.
			if len(f52) == 1 && fs.Fingerprint != f52[0].Fingerprint {
				t.Errorf("the shipped key has fingerprint %s in HK3052 and %s in HK3054", f52[0].Fingerprint, fs.Fingerprint)
			}
			if fb.Fingerprint != "" && fb.Fingerprint == fs.Fingerprint {
				t.Errorf("two different keys share fingerprint %s", fb.Fingerprint)
			}

			// The image's own layer does hold the shipped file: the test
			// looked where the secret is.
			files, err := img.Files()
			if err != nil {
				t.Fatal(err)
			}
			if string(files["/app/key.pem"].Content) != shipped.PrivateKeyPEM {
				t.Error("the image layer does not hold the planted /app/key.pem")
			}
			for path, f := range files {
				if strings.Contains(string(f.Content), builder.PrivateKeyPEM) || path == "/src/deploy.pem" {
					t.Errorf("%s ships the builder-only key", path)
				}
			}
		})
	}
}

func keysOfAtts(atts map[string][][]byte) []string {
	var out []string
	for k := range atts {
		out = append(out, k)
	}
	return out
}
