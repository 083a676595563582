package keys

import (
	"context"
	"crypto/sha256"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
)

func TestKeysRoundTrip(t *testing.T) {
	const pass = "correct horse battery"
	pw := func(bool) ([]byte, error) { return []byte(pass), nil }
	priv, pub, err := Generate(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(priv), "ENCRYPTED SIGSTORE PRIVATE KEY") || !strings.Contains(string(pub), "PUBLIC KEY") {
		t.Fatalf("not cosign's key format:\n%s\n%s", priv, pub)
	}
	kp, err := LoadPrivateKey(priv, pw)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if string(kp.GetHint()) != pk.Hint {
		t.Errorf("hints differ: %s vs %s", kp.GetHint(), pk.Hint)
	}
	sig, digest, err := kp.SignData(context.Background(), []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte("payload"))
	if string(digest) != string(want[:]) {
		t.Error("SignData did not return the SHA-256 of the data")
	}
	v, err := signature.LoadDefaultVerifier(pk.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifySignature(strings.NewReader(string(sig)), strings.NewReader("payload")); err != nil {
		t.Errorf("signature does not verify with the public key: %v", err)
	}

	// A wrong password fails, naming neither password.
	_, err = LoadPrivateKey(priv, func(bool) ([]byte, error) { return []byte("wrong " + pass), nil })
	if err == nil || strings.Contains(err.Error(), pass) || strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), "horse") {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestEnvOrPrompt(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	p, err := EnvOrPrompt(env(map[string]string{PasswordEnv: "from-env"}), nil)(true)
	if err != nil || string(p) != "from-env" {
		t.Fatalf("%q %v", p, err)
	}
	p, err = EnvOrPrompt(env(map[string]string{PasswordEnv: ""}), nil)(false)
	if err != nil || len(p) != 0 {
		t.Fatalf("empty COSIGN_PASSWORD is no password: %q %v", p, err)
	}
	// No variable and no terminal: refuse rather than use an empty password.
	f, err := os.CreateTemp(t.TempDir(), "notatty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := EnvOrPrompt(env(nil), f)(false); err == nil || !strings.Contains(err.Error(), PasswordEnv) {
		t.Fatalf("no password source: %v", err)
	}
}
