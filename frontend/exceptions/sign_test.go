package exceptions

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCanonicalJSON(t *testing.T) {
	e := valid()
	e.Signature = &Envelope{PayloadType: "x"}
	e.Line = 99
	got, err := CanonicalJSON(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"approvedBy":"bob@example.com","created":"2026-11-01T00:00:00Z","expires":"2027-01-15T00:00:00Z","id":"EX-1",` +
		`"justification":"the vendor installer runs in the builder only","owner":"alice@example.com","rule":"HK1020",` +
		`"scope":{"stage":"build"},"ticket":"SEC-1"}`
	if string(got) != want {
		t.Errorf("CanonicalJSON() =\n%s\nwant\n%s", got, want)
	}
	// The same instant in another zone signs the same bytes.
	e.Created = e.Created.In(time.FixedZone("JST", 9*60*60))
	again, err := CanonicalJSON(e)
	if err != nil || string(again) != want {
		t.Errorf("CanonicalJSON(other zone) = %s, %v", again, err)
	}
}

func TestSignEnvelope(t *testing.T) {
	ed, _, _ := keys(t)
	env, err := Sign(valid(), ed, "k1")
	if err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := CanonicalJSON(valid())
	if env.PayloadType != PayloadType || string(body) != string(want) || len(env.Signatures) != 1 || env.Signatures[0].KeyID != "k1" {
		t.Errorf("Sign() = %+v", env)
	}
	// The signature is over DSSE's pre-authentication encoding, so a
	// plain Ed25519 verifier over "DSSEv1 <len> <type> <len> <body>"
	// accepts it.
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	pae := "DSSEv1 " + strconv.Itoa(len(PayloadType)) + " " + PayloadType + " " + strconv.Itoa(len(body)) + " " + string(body)
	if !ed25519.Verify(ed.Public().(ed25519.PublicKey), []byte(pae), sig) {
		t.Error("signature does not verify over the DSSE PAE")
	}
	// URL-safe base64, which DSSE also allows, verifies too.
	env.Signatures[0].Sig = base64.URLEncoding.EncodeToString(sig)
	e := valid()
	if err := Verify(env, e, []crypto.PublicKey{ed.Public()}); err != nil {
		t.Errorf("Verify(URL-safe sig) = %v", err)
	}
	if err := Verify(nil, e, []crypto.PublicKey{ed.Public()}); err == nil || err.Error() != "no signature" {
		t.Errorf("Verify(nil) = %v", err)
	}
}

func TestSignRejectsKeys(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sign(valid(), p384, ""); err == nil || !strings.Contains(err.Error(), "want P-256") {
		t.Errorf("Sign(P-384) = %v", err)
	}
	if _, err := Sign(valid(), rsaKey, ""); err == nil || !strings.Contains(err.Error(), "unsupported key type *rsa.PublicKey") {
		t.Errorf("Sign(RSA) = %v", err)
	}
	// A P-384 or RSA public key never verifies, even listed.
	env, err := Sign(valid(), mustEC(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(env, valid(), []crypto.PublicKey{p384.Public(), rsaKey.Public()}); err == nil {
		t.Error("Verify() accepted a signature with the wrong key types")
	}
}

func TestParsePublicKey(t *testing.T) {
	ed, ec, _ := keys(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pkix := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(ed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, wantErr string
		want              crypto.PublicKey
	}{
		{name: "ed25519", in: pkix(ed.Public()), want: ed.Public()},
		{name: "P-256", in: pkix(ec.Public()), want: ec.Public()},
		{name: "surrounding whitespace", in: "\n" + pkix(ec.Public()) + "\n\n", want: ec.Public()},
		{name: "P-384", in: pkix(p384.Public()), wantErr: "ECDSA key on P-384, want P-256"},
		{name: "RSA", in: pkix(rsaKey.Public()), wantErr: "unsupported key type *rsa.PublicKey (want Ed25519 or ECDSA P-256)"},
		{name: "private key", in: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), wantErr: `PEM block "PRIVATE KEY", want "PUBLIC KEY"`},
		{name: "two keys", in: pkix(ed.Public()) + pkix(ec.Public()), wantErr: "extra data after the PEM block (one key per entry)"},
		{name: "not PEM", in: "ssh-ed25519 AAAA", wantErr: "no PEM block"},
		{name: "bad DER", in: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", wantErr: "parsing public key: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Errorf("ParsePublicKey() = %v, want error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.want) {
				t.Errorf("ParsePublicKey() = a different key")
			}
		})
	}
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
