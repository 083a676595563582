package dockerfilecheck

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets/secretstest"
)

func TestRedact(t *testing.T) {
	p := secretstest.Generate(t)
	df := "FROM busybox\n" +
		"ENV GITHUB_TOKEN=" + p.GitHubToken + "\n" +
		"LABEL aws=" + p.AWSAccessKeyID + "\n" +
		"ARG DB_PASSWORD=" + p.Password + "\n" +
		"RUN curl -H \"Authorization: Bearer " + p.JWT + "\" https://example.com/\n" +
		"COPY <<EOF /key.pem\n" + p.PrivateKeyPEM + "EOF\n" +
		"USER 65532\n"
	tests := []struct {
		name string
		dt   string
	}{
		{"valid Dockerfile", df},
		{"syntax error", df + "FROM\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Redact([]byte(tt.dt))
			secretstest.AssertNoLeak(t, p, "redacted Dockerfile", string(got))
			if len(got) != len(tt.dt) || bytes.Count(got, []byte("\n")) != strings.Count(tt.dt, "\n") {
				t.Errorf("redaction changed the length or the lines: %d→%d bytes", len(tt.dt), len(got))
			}
			for _, keep := range []string{"FROM busybox", "ENV GITHUB_TOKEN=", "USER 65532", "COPY <<EOF /key.pem"} {
				if !bytes.Contains(got, []byte(keep)) {
					t.Errorf("redaction removed %q", keep)
				}
			}
		})
	}
	clean := "FROM busybox\nENV PATH=/usr/bin VERSION=1.2.3\nRUN echo hello\n"
	if got := Redact([]byte(clean)); string(got) != clean {
		t.Errorf("a Dockerfile without secrets changed:\n%s", got)
	}
}

// TestRedactEncoded: a token written base64-encoded or reversed in the
// Dockerfile is found by HK1061 and masked in the copy BuildKit shows.
func TestRedactEncoded(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte(fakeGitHub))
	rev := []byte(fakeGitHub)
	slices.Reverse(rev)
	df := "FROM alpine:3.20\nRUN echo " + b64 + " | base64 -d > /t\nONBUILD RUN echo " + string(rev) + " | rev > /u\n"
	got := string(Redact([]byte(df)))
	if strings.Contains(got, b64) || strings.Contains(got, string(rev)) || len(got) != len(df) {
		t.Errorf("Redact left an encoded token:\n%s", got)
	}
	if fs := findings(mustCheck(t, df, Options{}), "HK1061"); len(fs) != 2 {
		t.Errorf("HK1061 findings = %+v, want the base64 and the reversed token", fs)
	}
}

// TestRedactSplitLabels: a token split across two LABELs is masked in both
// halves, so no snippet shows the two lines together; unrelated labels
// stay as they are.
func TestRedactSplitLabels(t *testing.T) {
	a, b := fakeGitHub[:14], fakeGitHub[14:]
	df := "FROM alpine:3.20\nLABEL com.example.part-a=" + a + "\nLABEL com.example.part-b=" + b + "\nLABEL version=1.2.3\n"
	got := string(Redact([]byte(df)))
	if strings.Contains(got, a) || strings.Contains(got, b) || len(got) != len(df) {
		t.Errorf("Redact left a label half:\n%s", got)
	}
	if !strings.Contains(got, "LABEL version=1.2.3") {
		t.Errorf("Redact masked an ordinary label:\n%s", got)
	}
}
