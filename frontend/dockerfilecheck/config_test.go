package dockerfilecheck

import "testing"

var goodIgnore = []string{".git", ".env", "**/*.key", "**/*.pem", "**/id_rsa*", "**/id_ecdsa*", "**/id_ed25519*"}

func TestContextCopyWithoutDockerignore(t *testing.T) {
	withIgnore := func(p ...string) Options { return Options{HasDockerignore: true, DockerignorePatterns: p} }
	runRuleCases(t, "HK1070", []ruleCase{
		{name: "no dockerignore", df: "FROM alpine:3.20\nCOPY . .\n", want: []int{2}, msg: "there is no .dockerignore"},
		{name: "complete dockerignore", df: "FROM alpine:3.20\nCOPY . /src\n", opt: withIgnore(goodIgnore...)},
		{name: "dockerignore missing .env and keys", df: "FROM alpine:3.20\nCOPY . /src\n", opt: withIgnore(".git", "node_modules"),
			want: []int{2}, msg: "does not exclude .env, **/*.key"},
		{name: "negation re-includes .env", df: "FROM alpine:3.20\nCOPY . /src\n", opt: withIgnore(append(append([]string{}, goodIgnore...), "!.env")...), want: []int{2}, msg: ".env"},
		{name: "exclude everything", df: "FROM alpine:3.20\nCOPY ./ /src/\n", opt: withIgnore("*", "!src")},
		{name: "COPY --exclude completes it", df: "FROM alpine:3.20\nCOPY --exclude=.env --exclude=**/*.key --exclude=**/*.pem --exclude=**/id_* . /src\n", opt: withIgnore(".git")},
		{name: "specific paths", df: "FROM alpine:3.20\nCOPY src/ /src/\nCOPY go.mod go.sum ./\n"},
		{name: "from another stage", df: "FROM alpine:3.20 AS b\nFROM alpine:3.20\nCOPY --from=b . /\n"},
		{name: "ADD .", df: "FROM alpine:3.20\nADD . /src\n", want: []int{2}, msg: "ADD ."},
		{name: "multi-stage builder", df: "FROM golang:1.22 AS b\nCOPY . .\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM node:22\nONBUILD COPY . /app\n", want: []int{2}, msg: "ONBUILD COPY"},
		{name: "ARG-expanded source", df: "FROM alpine:3.20\nARG SRC=.\nCOPY ${SRC} /src\n", want: []int{3}},
		{name: "line continuation", df: "FROM alpine:3.20\nCOPY \\\n  . \\\n  /src\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nCOPY . §\n  /src\n"), want: []int{3}},
		{name: "bad pattern", df: "FROM alpine:3.20\nCOPY . /src\n", opt: withIgnore("[", ".git"), want: []int{2}, msg: "cannot be evaluated"},
	})
}

func TestShellFormCmdOrEntrypoint(t *testing.T) {
	runRuleCases(t, "HK1080", []ruleCase{
		{name: "shell CMD", df: "FROM alpine:3.20\nCMD /app --flag\n", want: []int{2}, msg: `write CMD ["/app","--flag"]`},
		{name: "exec CMD", df: "FROM alpine:3.20\nCMD [\"/app\", \"--flag\"]\n"},
		{name: "shell ENTRYPOINT", df: "FROM alpine:3.20\nENTRYPOINT exec node server.js\n", want: []int{2}, msg: `write ENTRYPOINT ["node","server.js"]`},
		{name: "quoted words", df: "FROM alpine:3.20\nCMD app --name 'a b' \"c<d\"\n", want: []int{2}, msg: `["app","--name","a b","c<d"]`},
		{name: "needs a shell", df: "FROM alpine:3.20\nCMD app --port $PORT | tee /log\n", want: []int{2}, msg: "script"},
		{name: "overridden by a later exec CMD", df: "FROM alpine:3.20\nCMD /app\nCMD [\"/app\"]\n"},
		{name: "builder stage does not ship", df: "FROM alpine:3.20 AS b\nCMD make\nFROM alpine:3.20\nCMD [\"/app\"]\n"},
		{name: "inherited from the stage it is built FROM", df: "FROM alpine:3.20 AS base\nENTRYPOINT /entry\nFROM base\nCMD [\"x\"]\n", want: []int{2}},
		{name: "target", df: "FROM alpine:3.20 AS dev\nCMD sh\nFROM alpine:3.20\n", opt: Options{Target: "dev"}, want: []int{2}},
		{name: "secret is not echoed", df: "FROM alpine:3.20\nCMD app --token " + fakeGitHub + "\n", want: []int{2}, notMsg: fakeGitHub},
		{name: "line continuation", df: "FROM alpine:3.20\nCMD /app \\\n  --flag\n", want: []int{2}, msg: `["/app","--flag"]`},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nCMD /app §\n  --flag\n"), want: []int{3}, msg: `["/app","--flag"]`},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD CMD make run\nCMD [\"/app\"]\n", want: []int{2}, msg: "ONBUILD CMD"},
		{name: "ARG is not expanded in CMD", df: "FROM alpine:3.20\nARG BIN=/app\nCMD $BIN\n", want: []int{3}, msg: "script"},
	})
}

func TestHealthcheckMissing(t *testing.T) {
	runRuleCases(t, "HK1090", []ruleCase{
		{name: "missing", df: "FROM alpine:3.20\nCMD [\"/app\"]\n", want: []int{1}, msg: "no HEALTHCHECK"},
		{name: "present", df: "FROM alpine:3.20\nHEALTHCHECK CMD [\"/app\", \"health\"]\n"},
		{name: "NONE", df: "FROM alpine:3.20\nHEALTHCHECK NONE\n", want: []int{2}, msg: "NONE"},
		{name: "NONE overridden", df: "FROM alpine:3.20\nHEALTHCHECK NONE\nHEALTHCHECK --interval=30s CMD [\"/hc\"]\n"},
		{name: "only the builder has one", df: "FROM alpine:3.20 AS b\nHEALTHCHECK CMD [\"x\"]\nFROM alpine:3.20 AS final\nEXPOSE 8080\n", want: []int{3}, msg: `"final"`},
		{name: "inherited", df: "FROM alpine:3.20 AS base\nHEALTHCHECK CMD [\"x\"]\nFROM base\n"},
		{name: "target", df: "FROM alpine:3.20 AS dev\nENTRYPOINT [\"/app\"]\nFROM alpine:3.20\nHEALTHCHECK CMD [\"x\"]\n", opt: Options{Target: "dev"}, want: []int{1}},
		{name: "ONBUILD does not count", df: "FROM alpine:3.20\nONBUILD HEALTHCHECK CMD [\"x\"]\nCMD [\"/app\"]\n", want: []int{1}},
		{name: "service by its base stage's CMD", df: "FROM alpine:3.20 AS base\nCMD [\"/app\"]\nFROM base\nRUN true\n", want: []int{3}},
		{name: "export stage", df: "FROM golang:1.22 AS build\nRUN go build -o /out/app .\nFROM scratch AS binary\nCOPY --from=build /out/app /\n"},
		{name: "toolchain image", df: "FROM debian:12\nRUN apt-get install -y gcc=12\n"},
		{name: "ONBUILD CMD is not the image's", df: "FROM alpine:3.20\nONBUILD CMD [\"/app\"]\n"},
		{name: "line continuation", df: "FROM alpine:3.20\nHEALTHCHECK --interval=5s \\\n  CMD [\"x\"]\n"},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nHEALTHCHECK §\n  NONE\n"), want: []int{3}},
	})
}

func TestHealthcheckWarnsUnderStrict(t *testing.T) {
	fs := findings(mustCheck(t, "FROM alpine:3.20\nEXPOSE 80\n", Options{}), "HK1090")
	if len(fs) != 1 || fs[0].Level != "warn" {
		t.Fatalf("HK1090 findings = %+v, want one at level warn", fs)
	}
}
