package main

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hardenkit/hardenkit/frontend/exceptions"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
)

const unsignedExceptions = `# Reviewed in SEC-311.
apiVersion: hardenkit.dev/v1alpha1
kind: Exceptions
exceptions:
  - id: EX-1
    rule: HK1043 # ExposeSSH
    scope:
      path: Dockerfile
    justification: the bastion accepts SSH
    owner: alice@example.com
    approvedBy: bob@example.com
    created: 2026-11-20
    expires: 2027-01-15
  - id: EX-2
    rule: HK1050
    scope:
      stage: debug
    justification: the debug stage runs as root
    owner: carol@example.com
    approvedBy: bob@example.com
    created: 2026-11-20
    expires: 2027-01-15
    signature:
      payloadType: application/vnd.hardenkit.exception+json
      payload: e30=
      signatures:
        - keyid: stale
          sig: AAAA
`

// TestExceptionsSign: "hardenkit exceptions sign" signs every record with
// a key from "hardenkit keygen" (cosign's encrypted format) or an openssl
// PKCS#8 Ed25519 key, and what it writes validates under a policy that
// requires signatures by that key — the check the build runs. A YAML file
// keeps its comments, a JSON file stays JSON, a stale signature is
// replaced; a file or key it cannot use is refused without writing.
func TestExceptionsSign(t *testing.T) {
	dir := t.TempDir()
	const password = "approver-password"
	t.Setenv(keys.PasswordEnv, password)
	if err := runKeygen(&bytes.Buffer{}, filepath.Join(dir, "approver"), func(bool) ([]byte, error) { return []byte(password), nil }); err != nil {
		t.Fatal(err)
	}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(edPriv)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ed.key"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	cosignPub, err := os.ReadFile(filepath.Join(dir, "approver.pub"))
	if err != nil {
		t.Fatal(err)
	}
	cosignKey, err := exceptions.ParsePublicKey(cosignPub)
	if err != nil {
		t.Fatal(err)
	}
	jsonFile := `{"apiVersion": "hardenkit.dev/v1alpha1", "kind": "Exceptions", "exceptions": [{"id": "EX-J", "rule": "HK1043", "scope": {"path": "Dockerfile"},
	  "justification": "j", "owner": "alice@example.com", "approvedBy": "bob@example.com", "created": "2026-11-20", "expires": "2027-01-15"}]}`

	tests := []struct {
		name, in, key string
		args          []string
		pub           crypto.PublicKey
		json          bool
		output        string   // --output, in the file's directory
		keep          []string // in the written file
		wantErr       string
	}{
		{name: "cosign key, in place", in: unsignedExceptions, key: "approver.key", pub: cosignKey, keep: []string{"# Reviewed in SEC-311.", "rule: HK1043 # ExposeSSH"}},
		{name: "openssl ed25519 key, key id", in: unsignedExceptions, key: "ed.key", args: []string{"--key-id", "security-2026"}, pub: edPriv.Public(), keep: []string{"keyid: security-2026"}},
		{name: "json stays json, to --output", in: jsonFile, key: "approver.key", output: "signed.json", pub: cosignKey, json: true},
		{name: "unparseable file", in: strings.Replace(unsignedExceptions, "HK1043", "HK9999", 1), key: "approver.key", wantErr: `unknown rule id "HK9999"`},
		{name: "public key given", in: unsignedExceptions, key: "approver.pub", wantErr: `"PUBLIC KEY" PEM block is not a private key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "exceptions.yaml")
			writeFile(t, file, tt.in)
			args := append([]string{"exceptions", "sign", "--key", filepath.Join(dir, tt.key), file}, tt.args...)
			written := file
			if tt.output != "" {
				written = filepath.Join(filepath.Dir(file), tt.output)
				args = append(args, "--output", written)
			}
			root := newRootCommand()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs(args)
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if got, _ := os.ReadFile(file); string(got) != tt.in {
					t.Errorf("the file was changed by a refused signing")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.output != "" {
				if got, _ := os.ReadFile(file); string(got) != tt.in {
					t.Errorf("--output given, but the input file was changed")
				}
			}
			got, err := os.ReadFile(written)
			if err != nil {
				t.Fatal(err)
			}
			if tt.json != bytes.HasPrefix(bytes.TrimSpace(got), []byte("{")) {
				t.Errorf("written file JSON = %v, want %v:\n%s", !tt.json, tt.json, got)
			}
			for _, k := range tt.keep {
				if !bytes.Contains(got, []byte(k)) {
					t.Errorf("written file lacks %q:\n%s", k, got)
				}
			}
			set, err := exceptions.Parse(written, got, nil)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			if err := set.Validate(now, exceptions.ValidationPolicy{RequireSignature: true, ApproverKeys: []crypto.PublicKey{tt.pub}}); err != nil {
				t.Fatalf("signed file does not validate: %v\n%s", err, got)
			}
			id, err := exceptions.KeyID(tt.pub)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range set.Exceptions {
				if e.SignerKeyID != id || len(e.Signature.Signatures) != 1 {
					t.Errorf("%s: signer %q (%d signatures), want %s alone", e.ID, e.SignerKeyID, len(e.Signature.Signatures), id)
				}
			}
			if !strings.Contains(out.String(), fmt.Sprintf("signed %d exception(s)", len(set.Exceptions))) || !strings.Contains(out.String(), id) {
				t.Errorf("output %q", out.String())
			}
		})
	}
}

// TestExceptionsSignWrongPassword: a wrong password fails without the
// password or key bytes in the message.
func TestExceptionsSignWrongPassword(t *testing.T) {
	dir := t.TempDir()
	if err := runKeygen(&bytes.Buffer{}, filepath.Join(dir, "approver"), func(bool) ([]byte, error) { return []byte("right-one"), nil }); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "exceptions.yaml")
	writeFile(t, file, unsignedExceptions)
	t.Setenv(keys.PasswordEnv, "wrong-one")
	root := newRootCommand()
	root.SetOut(&bytes.Buffer{})
	root.SetArgs([]string{"exceptions", "sign", "--key", filepath.Join(dir, "approver.key"), file})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "wrong password or not a cosign private key") || strings.Contains(err.Error(), "wrong-one") {
		t.Fatalf("error %v", err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
