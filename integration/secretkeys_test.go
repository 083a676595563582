package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// keysDockerfile makes a PKCS#12 store (renamed .jks) with openssl and a
// binary OpenPGP secret keyring with gpg in a builder stage, as a user
// would, and copies them into the image next to the context's files; the
// entrypoint is no shell, so the secrets are what fails the build.
const keysDockerfile = `FROM debian:bookworm AS keys
RUN apt-get update && apt-get install -y --no-install-recommends openssl gnupg && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /out /tmp/gnupg && chmod 700 /tmp/gnupg && cd /out \
 && openssl req -x509 -newkey rsa:2048 -nodes -keyout /tmp/k.pem -out /tmp/c.pem -days 2 -subj /CN=hardenkit-it \
 && openssl pkcs12 -export -inkey /tmp/k.pem -in /tmp/c.pem -passout pass:changeit -out store.jks \
 && rm /tmp/k.pem /tmp/c.pem \
 && export GNUPGHOME=/tmp/gnupg \
 && gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'it <it@hardenkit.invalid>' ed25519 sign never \
 && gpg --batch --pinentry-mode loopback --passphrase '' --export-secret-keys > secring.gpg \
 && test "$(head -c1 secring.gpg | od -An -tx1 | tr -d ' ')" != 2d
FROM scratch
COPY keys/ /app/
COPY --from=keys /out/ /app/
COPY app /app/run
USER 65532:65532
ENTRYPOINT ["/app/run"]
`

// keysPolicy is the strict baseline; the builder stage's packages are
// not pinned (the keys, not the packages, are the subject) and the local
// base images cannot be pinned by digest.
const keysPolicy = `apiVersion: hardenkit.dev/v1alpha1
kind: Policy
name: inspect-keys
baseline: strict
rules:
  HK1001: warn
  HK1030: warn
`

// keyMaterialRe is a run of base64 long and mixed enough to be key
// material (a digest in hex is not).
var keyMaterialRe = regexp.MustCompile(`[A-Za-z0-9+/]{64,}`)

// TestSecretKeys: private keys recognised by structure, not by name — a
// DER PKCS#8 key renamed .bin, a PKCS#12 store openssl wrote renamed
// .jks, a binary (non-armoured) OpenPGP secret keyring gpg exported —
// and a password in a postgresql:// URL inside a config file fail a
// real build, named at each image file (HK3052) and at the COPY from the
// context (HK3054), with no key material or password in the output.
func TestSecretKeys(t *testing.T) {
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ek)
	if err != nil {
		t.Fatal(err)
	}
	pw := base64.RawURLEncoding.EncodeToString(der[len(der)-18:])
	conf := "[database]\nurl = postgresql://app:" + pw + "@db.internal:5432/app\npool = 10\n"
	dir := inspectContext(t, "everyform", map[string]contextFile{
		"Dockerfile":      {content: keysDockerfile},
		"keys/server.bin": {content: string(der)},
		"keys/app.conf":   {content: conf},
		"app":             {content: "#!/app/run\n", mode: fs0755},
		"hardenkit.yaml":  {content: keysPolicy},
	})
	dest := filepath.Join(t.TempDir(), "image.tar")
	out, err := run(context.Background(), t, nil, binaries.hardenkit, "build", "--addr", env.BuildkitAddr, "--progress", "plain",
		"-f", filepath.Join(dir, "Dockerfile"), "--output", "type=oci,dest="+dest, dir)
	if err == nil {
		t.Fatalf("the build with private keys and a URL password succeeded:\n%s", out)
	}
	assertSecretFailure(t, "hardenkit-cli", out, dest, nil, []string{
		"HK3052", "HK3054", "hk-private-key", "hk-url-credential",
		"/app/server.bin", "/app/store.jks", "/app/secring.gpg", "/app/app.conf",
	})
	body := base64.StdEncoding.EncodeToString(der)
	if strings.Contains(out, pw) || strings.Contains(out, body[len(body)-40:]) {
		t.Error("the output holds the URL password or the DER key's base64")
	}
	for _, m := range keyMaterialRe.FindAllString(out, -1) {
		if strings.ContainsAny(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") && strings.ContainsAny(m, "abcdefghijklmnopqrstuvwxyz") {
			t.Errorf("the output holds a run of base64 like key material: %.12s…", m)
		}
	}
}
