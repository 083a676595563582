package dockerfilecheck

import (
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/frontend/secrets"
)

// Fake secrets in the issuers' formats, random-looking so that no
// detector allow-lists them as examples: not real credentials.
const (
	fakeAWSKey   = "AKIA6RWJYAX6R5OAJ4XK"
	fakeGitHub   = "ghp_v5ndK0meGR0vRzZ1fb6d06QGofB8ChQBiIu4"
	fakeJWT      = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	fakePassword = "Zx9!kQ2#mP7vL4"
)

func TestSecretNameInArgOrEnv(t *testing.T) {
	runRuleCases(t, "HK1060", []ruleCase{
		{name: "ARG password", df: "FROM alpine:3.20\nARG DB_PASSWORD\n", want: []int{2}, msg: `ARG "DB_PASSWORD"`},
		{name: "ENV token", df: "FROM alpine:3.20\nENV GITHUB_TOKEN=${GITHUB_TOKEN}\n", want: []int{2}, msg: `ENV "GITHUB_TOKEN"`},
		{name: "lower case", df: "FROM alpine:3.20\nARG api_key=\n", want: []int{2}},
		{name: "whole-word tokens only", df: "FROM alpine:3.20\nARG MONKEY=1\nENV TOKENIZER=x AUTHOR=me\n"},
		{name: "BuildKit allow tokens", df: "FROM alpine:3.20\nARG PUBLIC_KEY\nENV SECRET_FILE=/run/secrets/x TOKEN_VERSION=2\n"},
		{name: "global ARG", df: "ARG NPM_TOKEN\nFROM node:22\n", want: []int{1}},
		{name: "several in one ENV", df: "FROM alpine:3.20\nENV A=1 AUTH=x B=2\n", want: []int{2}},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nARG SECRET\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD ARG DEPLOY_KEY\n", want: []int{2}, msg: "ONBUILD ARG"},
		{name: "line continuation", df: "FROM alpine:3.20\nENV A=1 \\\n    API_KEY=x\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nENV A=1 §\n    API_KEY=x\n"), want: []int{3}},
	})
}

func TestSecretValueInDockerfile(t *testing.T) {
	runRuleCases(t, "HK1061", []ruleCase{
		{name: "AWS key in ARG", df: "FROM alpine:3.20\nARG AWS_ACCESS_KEY_ID=" + fakeAWSKey + "\n", want: []int{2}, msg: "detector aws-access-token", notMsg: fakeAWSKey},
		{name: "GitHub token in RUN", df: "FROM alpine:3.20\nRUN curl -H \"Authorization: token " + fakeGitHub + "\" https://api.github.com/x\n", want: []int{2}, msg: "detector curl-auth-header", notMsg: fakeGitHub},
		{name: "JWT in ENV", df: "FROM alpine:3.20\nENV SESSION=" + fakeJWT + "\n", want: []int{2}, msg: "detector jwt"},
		{name: "private key in COPY heredoc", df: "FROM alpine:3.20\nCOPY <<EOF /root/.ssh/id_rsa\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\nEOF\n", want: []int{2}, msg: "detector hk-private-key", notMsg: "BEGIN"},
		{name: "password in URL", df: "FROM python:3.12\nRUN pip install --index-url https://ci:" + fakePassword + "@pypi.example.com/simple app==1\n", want: []int{2}, msg: "detector hk-url-credential", notMsg: fakePassword},
		{name: "generic assignment", df: "FROM alpine:3.20\nRUN echo \"api_key=" + fakePassword + "Qw\" > /etc/app.conf\n", want: []int{2}, msg: "detector hk-secret-name"},
		{name: "hard-coded value of a secret name", df: "FROM alpine:3.20\nENV DB_PASSWORD=\"" + fakePassword + "\"\n", want: []int{2}, notMsg: fakePassword},
		{name: "LABEL", df: "FROM alpine:3.20\nLABEL ci.token=" + fakeGitHub + "\n", want: []int{2}},
		{name: "reference is not a secret", df: "FROM alpine:3.20\nARG TOKEN\nENV TOKEN=${TOKEN}\nRUN echo \"token=$TOKEN\" > /x\n"},
		{name: "secret mount is not a secret", df: "FROM alpine:3.20\nRUN --mount=type=secret,id=token TOKEN=$(cat /run/secrets/token) make\n"},
		{name: "password-stdin", df: "FROM docker:27\nRUN docker login --password-stdin -u me registry.example < /run/secrets/pw\n"},
		{name: "placeholder password", df: "FROM alpine:3.20\nENV DB_PASSWORD=changeme\n"},
		{name: "path value", df: "FROM alpine:3.20\nENV TOKEN_PATH=/run/secrets/token/abcdefgh\n"},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nRUN git clone https://x:" + fakeGitHub + "@github.com/o/r.git\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD ENV KEY_ID=" + fakeAWSKey + "\n", want: []int{2}},
		{name: "heredoc RUN", df: "FROM alpine:3.20\nRUN <<EOF\nexport GH=" + fakeGitHub + "\nEOF\n", want: []int{2}},
		{name: "line continuation", df: "FROM alpine:3.20\nRUN curl \\\n  -H 'Authorization: Bearer " + fakeJWT + "' \\\n  https://x.example\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nENV A=1 §\n  K=" + fakeAWSKey + "\n"), want: []int{3}},
		{name: "numbers, durations and booleans are not secrets", df: "FROM alpine:3.20\nENV TOKEN_TTL_SECONDS=30000000 AUTH_TIMEOUT=1h30m0s SECRET_ROTATION_ENABLED=true\nARG API_KEY_LIFETIME=86400000\n"},
		{name: "public key ids are not secrets", df: "FROM debian:bookworm\nENV RABBITMQ_PGP_KEY_ID=0x0A9AF2115F4687BD29803A206B73A36E6026DFCA\nARG NODE_PGP_KEY_IDS=\"4ED778F539E3634C779C87C6D7062848A1AB005C 141F07595B7B3FFE74309A937405533BE57C7D57\"\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n"},
		{name: "ARG-expanded (declared value is the leak)", df: "ARG T=" + fakeGitHub + "\nFROM alpine:3.20\nARG T\nRUN echo $T\n", want: []int{1}},
	})
}

func TestSecretValueFingerprint(t *testing.T) {
	fs := findings(mustCheck(t, "FROM alpine:3.20\nARG K="+fakeAWSKey+"\n", Options{}), "HK1061")
	if len(fs) != 1 {
		t.Fatalf("HK1061 findings = %d, want 1", len(fs))
	}
	if want := secrets.Fingerprint(fakeAWSKey); fs[0].Fingerprint != want || !strings.Contains(fs[0].Message, want) {
		t.Errorf("fingerprint = %q (message %q), want %q", fs[0].Fingerprint, fs[0].Message, want)
	}
	if len(fs[0].Fingerprint) != 16 {
		t.Errorf("fingerprint %q is not 16 hex digits", fs[0].Fingerprint)
	}
}

func TestSecretBuildArg(t *testing.T) {
	runRuleCases(t, "HK1062", []ruleCase{
		{name: "secret name", df: "FROM alpine:3.20\nARG NPM_TOKEN\nRUN npm ci\n", opt: Options{BuildArgs: map[string]string{"NPM_TOKEN": "abc"}},
			want: []int{2}, msg: "--secret id=NPM_TOKEN", notMsg: "abc"},
		{name: "global declaration", df: "ARG DB_PASSWORD\nFROM alpine:3.20\n", opt: Options{BuildArgs: map[string]string{"DB_PASSWORD": "x"}}, want: []int{1}},
		{name: "undeclared", df: "FROM alpine:3.20\n", opt: Options{BuildArgs: map[string]string{"API_KEY": "x"}}, want: []int{0}},
		{name: "token value under a harmless name", df: "FROM alpine:3.20\nARG REPO_URL\n", opt: Options{BuildArgs: map[string]string{"REPO_URL": "https://x:" + fakeGitHub + "@github.com/o/r"}},
			want: []int{2}, notMsg: fakeGitHub},
		{name: "a number under a secret name", df: "FROM alpine:3.20\nARG TOKEN_TTL_SECONDS\n", opt: Options{BuildArgs: map[string]string{"TOKEN_TTL_SECONDS": "300"}}},
		{name: "a public key id under a secret name", df: "FROM alpine:3.20\nARG RABBITMQ_PGP_KEY_ID\n", opt: Options{BuildArgs: map[string]string{"RABBITMQ_PGP_KEY_ID": "0x0A9AF2115F4687BD29803A206B73A36E6026DFCA"}}},
		{name: "empty value", df: "FROM alpine:3.20\nARG API_KEY\n", opt: Options{BuildArgs: map[string]string{"API_KEY": ""}}},
		{name: "ordinary build arg", df: "FROM alpine:3.20\nARG VERSION\n", opt: Options{BuildArgs: map[string]string{"VERSION": "1.2.3"}}},
		{name: "allow token", df: "FROM alpine:3.20\nARG PUBLIC_KEY\n", opt: Options{BuildArgs: map[string]string{"PUBLIC_KEY": "ssh-ed25519 AAAA"}}},
		{name: "multi-stage: first declaration", df: "FROM alpine:3.20 AS b\nARG TOKEN\nFROM alpine:3.20\nARG TOKEN\n", opt: Options{BuildArgs: map[string]string{"TOKEN": "t"}}, want: []int{2}},
		{name: "line continuation", df: "FROM alpine:3.20\nARG A \\\n  TOKEN\n", opt: Options{BuildArgs: map[string]string{"TOKEN": "t"}}, want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nARG A §\n  TOKEN\n"), opt: Options{BuildArgs: map[string]string{"TOKEN": "t"}}, want: []int{3}},
	})
}

func TestSecretBuildArgFingerprint(t *testing.T) {
	fs := findings(mustCheck(t, "FROM alpine:3.20\nARG NPM_TOKEN\n", Options{BuildArgs: map[string]string{"NPM_TOKEN": "s3cr3t"}}), "HK1062")
	if len(fs) != 1 || fs[0].Fingerprint != secrets.Fingerprint("s3cr3t") {
		t.Fatalf("findings = %+v, want one with fingerprint %s", fs, secrets.Fingerprint("s3cr3t"))
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_PASSWORD": true, "api_key": true, "AUTH": true, "GITHUB_TOKEN": true, "aws_secret_access_key": true,
		"credentials": true, "KEY": true, "PUBLIC_KEY": false, "SECRET_FILE": false, "TOKEN_VERSION": false,
		"MONKEY": false, "AUTHOR": false, "PATH": false, "RABBITMQ_PGP_KEY_ID": false, "NODE_PGP_KEY_IDS": false, "GPG_KEY": false,
	} {
		if got := isSecretName(name); got != want {
			t.Errorf("isSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}
