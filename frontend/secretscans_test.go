package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// keysDockerfile has the ways a private key gets generated during a build.
const keysDockerfile = `FROM debian:bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    # the lists are not needed at run time
    && rm -rf /var/lib/apt/lists/*
RUN openssl genrsa -out /etc/app/tls.key 2048
RUN ["/usr/bin/keygen"]
RUN --mount=type=cache,target=/var/cache/apt apt-get install -y ssh
CMD ["postgres"]
`

func linesRange(first, last int) []parser.Range {
	return []parser.Range{{Start: parser.Position{Line: first}, End: parser.Position{Line: last}}}
}

// TestGeneratedKeyFix follows HK3052's fix for a key generated during the
// build as a user (or TestAdviceFollowed) would: parsed back from the
// error's text and applied to the Dockerfile.
func TestGeneratedKeyFix(t *testing.T) {
	key := func(path string, lvl rules.Level) rules.Finding {
		return rules.Finding{Rule: ruleSecretInFile, Level: lvl, File: path, Message: "a private key"}
	}
	tests := []struct {
		name     string
		findings []rules.Finding
		origins  map[int][]parser.Range
		// want is the Dockerfile with the fix applied ("" for none);
		// manual, a words the fix's "not mechanically applicable" says.
		want, manual string
	}{{
		name:     "a maintainer script's key is removed in the install RUN",
		findings: []rules.Finding{key("/etc/ssl/private/ssl-cert-snakeoil.key", rules.LevelEnforce)},
		origins:  map[int][]parser.Range{0: linesRange(2, 5)},
		want:     "RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/* && rm -f /etc/ssl/private/ssl-cert-snakeoil.key\nRUN openssl",
	}, {
		name: "two keys of one RUN are one edit",
		findings: []rules.Finding{key("/etc/ssh/ssh_host_ed25519_key", rules.LevelEnforce), key("/etc/ssh/ssh host rsa key", rules.LevelEnforce),
			key("/etc/ssh/ssh_host_ecdsa_key", rules.LevelWarn)},
		origins: map[int][]parser.Range{0: linesRange(8, 8), 1: linesRange(8, 8), 2: linesRange(8, 8)},
		want:    "RUN --mount=type=cache,target=/var/cache/apt apt-get install -y ssh && rm -f /etc/ssh/ssh_host_ed25519_key '/etc/ssh/ssh host rsa key'\nCMD",
	}, {
		name:     "a key the RUN makes on purpose is generated at run time",
		findings: []rules.Finding{key("/etc/app/tls.key", rules.LevelEnforce)},
		origins:  map[int][]parser.Range{0: linesRange(6, 6)},
		manual:   "generates /etc/app/tls.key on purpose, so a program uses it: generate it when the container starts",
	}, {
		name:     "a JSON-form RUN is not rewritten",
		findings: []rules.Finding{key("/etc/keygen.key", rules.LevelEnforce)},
		origins:  map[int][]parser.Range{0: linesRange(7, 7)},
		manual:   "not one shell-form command",
	}, {
		name:     "a warning needs no fix",
		findings: []rules.Finding{key("/etc/ssl/private/ssl-cert-snakeoil.key", rules.LevelWarn), key("/etc/other.key", rules.LevelEnforce)},
		origins:  map[int][]parser.Range{0: linesRange(2, 5), 1: linesRange(2, 5)},
		want:     "/var/lib/apt/lists/* && rm -f /etc/other.key\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins := inspection{findings: tt.findings, origins: tt.origins, generatedKeys: map[int]string{}}
			for i, f := range tt.findings {
				ins.generatedKeys[i] = f.File
			}
			sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", []byte(keysDockerfile))
			sm.Definition = &llb.Definition{}
			err := reportInspection(context.Background(), func(context.Context, string, client.WarnOpts) {}, sm, ins)
			if err == nil {
				t.Fatal("no error")
			}
			fix, ok, perr := rules.ParseFix(err.Error())
			if !ok || perr != nil {
				t.Fatalf("no fix in the error (ok=%v, %v):\n%v", ok, perr, err)
			}
			if tt.manual != "" {
				if fix.Applicable() || !strings.Contains(fix.Manual, tt.manual) {
					t.Errorf("fix %s: want not applicable, saying %q", fix, tt.manual)
				}
				return
			}
			if !fix.Applicable() {
				t.Fatalf("fix not applicable:%s", fix)
			}
			got, aerr := fix.Apply([]byte(keysDockerfile))
			if aerr != nil {
				t.Fatal(aerr)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("with the fix applied the Dockerfile is\n%s\nwant it to contain %q", got, tt.want)
			}
		})
	}
}
