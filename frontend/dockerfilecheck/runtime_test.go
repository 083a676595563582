package dockerfilecheck

import "testing"

func TestRunNetworkHost(t *testing.T) {
	runRuleCases(t, "HK1040", []ruleCase{
		{name: "host", df: "FROM alpine:3.20\nRUN --network=host wget -q https://x.example/f\n", want: []int{2}},
		{name: "none", df: "FROM alpine:3.20\nRUN --network=none make\n"},
		{name: "default", df: "FROM alpine:3.20\nRUN --network=default make\n"},
		{name: "heredoc", df: "FROM alpine:3.20\nRUN --network=host <<EOF\nmake\nEOF\n", want: []int{2}},
		{name: "line continuation", df: "FROM alpine:3.20\nRUN --network=host \\\n  make\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nRUN --network=host §\n  make\n"), want: []int{3}},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nRUN --network=host make\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD RUN --network=host make\n", want: []int{2}, msg: "ONBUILD RUN"},
	})
}

func TestRunSecurityInsecure(t *testing.T) {
	runRuleCases(t, "HK1041", []ruleCase{
		{name: "insecure", df: "FROM alpine:3.20\nRUN --security=insecure mount -t tmpfs none /mnt\n", want: []int{2}},
		{name: "sandbox", df: "FROM alpine:3.20\nRUN --security=sandbox make\n"},
		{name: "heredoc", df: "FROM alpine:3.20\nRUN --security=insecure <<EOF\nmake\nEOF\n", want: []int{2}},
		{name: "line continuation", df: "FROM alpine:3.20\nRUN \\\n  --security=insecure make\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nRUN §\n --security=insecure make\n"), want: []int{3}},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nRUN --security=insecure make\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD RUN --security=insecure make\n", want: []int{2}},
	})
}

func TestSudoUsed(t *testing.T) {
	runRuleCases(t, "HK1042", []ruleCase{
		{name: "sudo", df: "FROM debian:bookworm\nRUN sudo make install\n", want: []int{2}, msg: "uses sudo"},
		{name: "sudo behind env", df: "FROM debian:bookworm\nRUN env X=1 sudo -u app make\n", want: []int{2}},
		{name: "no sudo", df: "FROM debian:bookworm\nRUN make install\n"},
		{name: "sudo as a word", df: "FROM debian:bookworm\nRUN echo sudo\n"},
		{name: "installs sudo into the shipped image", df: "FROM debian:bookworm\nRUN apt-get update && apt-get install -y sudo=1.9.13p3-1+deb12u1\n", want: []int{2}, msg: "installs sudo"},
		{name: "builder may install sudo", df: "FROM debian:bookworm AS b\nRUN apt-get install -y sudo=1\nFROM scratch\n"},
		{name: "builder may not run sudo", df: "FROM debian:bookworm AS b\nRUN sudo make\nFROM scratch\n", want: []int{2}},
		{name: "heredoc", df: "FROM debian:bookworm\nRUN <<EOF\nsudo make\nEOF\n", want: []int{2}},
		{name: "line continuation", df: "FROM debian:bookworm\nRUN make && \\\n  sudo make install\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM debian:bookworm\nRUN make && §\n  sudo make install\n"), want: []int{3}},
		{name: "ARG-expanded", df: "FROM debian:bookworm\nARG SUDO=sudo\nRUN $SUDO make install\n", want: []int{3}},
		{name: "ONBUILD", df: "FROM debian:bookworm\nONBUILD RUN sudo make\n", want: []int{2}, msg: "ONBUILD RUN"},
	})
}

func TestExposeSSH(t *testing.T) {
	runRuleCases(t, "HK1043", []ruleCase{
		{name: "22", df: "FROM alpine:3.20\nEXPOSE 22\n", want: []int{2}},
		{name: "22/tcp among others", df: "FROM alpine:3.20\nEXPOSE 8080 22/tcp\n", want: []int{2}, msg: "EXPOSE 22/tcp"},
		{name: "range", df: "FROM alpine:3.20\nEXPOSE 20-25\n", want: []int{2}},
		{name: "udp", df: "FROM alpine:3.20\nEXPOSE 22/udp\n"},
		{name: "other port", df: "FROM alpine:3.20\nEXPOSE 2222 8022\n"},
		{name: "builder stage does not ship", df: "FROM alpine:3.20 AS b\nEXPOSE 22\nFROM alpine:3.20\nEXPOSE 8080\n"},
		{name: "inherited from the stage it is built FROM", df: "FROM alpine:3.20 AS base\nEXPOSE 22\nFROM base\nEXPOSE 8080\n", want: []int{2}},
		{name: "target", df: "FROM alpine:3.20 AS dev\nEXPOSE 22\nFROM alpine:3.20\n", opt: Options{Target: "dev"}, want: []int{2}},
		{name: "ARG-expanded", df: "FROM alpine:3.20\nARG SSH_PORT=22\nEXPOSE ${SSH_PORT}\n", want: []int{3}},
		{name: "line continuation", df: "FROM alpine:3.20\nEXPOSE 8080 \\\n  22\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nEXPOSE 8080 §\n  22\n"), want: []int{3}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD EXPOSE 22\n", want: []int{2}, msg: "ONBUILD EXPOSE"},
	})
}

func TestLastUserRoot(t *testing.T) {
	runRuleCases(t, "HK1050", []ruleCase{
		{name: "root", df: "FROM alpine:3.20\nUSER root\n", want: []int{2}},
		{name: "uid 0", df: "FROM alpine:3.20\nUSER 0\n", want: []int{2}},
		{name: "0:0", df: "FROM alpine:3.20\nUSER 0:0\n", want: []int{2}},
		{name: "root:root", df: "FROM alpine:3.20\nUSER root:root\n", want: []int{2}},
		{name: "root group only", df: "FROM alpine:3.20\nUSER 1000:0\n"},
		{name: "non-root last", df: "FROM alpine:3.20\nUSER root\nRUN apk add x=1\nUSER 65532:65532\n"},
		{name: "no USER", df: "FROM alpine:3.20\nRUN true\n"},
		{name: "builder root does not ship", df: "FROM alpine:3.20 AS b\nUSER root\nFROM alpine:3.20\nUSER app\n"},
		{name: "inherited root", df: "FROM alpine:3.20 AS base\nUSER root\nFROM base\nRUN true\n", want: []int{2}},
		{name: "inherited then fixed", df: "FROM alpine:3.20 AS base\nUSER root\nFROM base\nUSER 10001\n"},
		{name: "target", df: "FROM alpine:3.20 AS debug\nUSER root\nFROM alpine:3.20\nUSER app\n", opt: Options{Target: "debug"}, want: []int{2}},
		{name: "ARG-expanded to root", df: "FROM alpine:3.20\nARG RUN_AS=root\nUSER ${RUN_AS}\n", want: []int{3}, msg: `"root" (USER ${RUN_AS})`},
		{name: "ARG-expanded by build arg", df: "FROM alpine:3.20\nARG RUN_AS=root\nUSER $RUN_AS\n", opt: Options{BuildArgs: map[string]string{"RUN_AS": "app"}}},
		{name: "global ARG", df: "ARG UID=0\nFROM alpine:3.20\nARG UID\nUSER $UID\n", want: []int{4}},
		{name: "expands to nothing", df: "FROM alpine:3.20\nUSER ${APP_USER}\n", want: []int{2}},
		{name: "line continuation", df: "FROM alpine:3.20\nUSER \\\n  root\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nUSER §\n  0\n"), want: []int{3}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD USER root\nUSER app\n", want: []int{2}, msg: "ONBUILD USER"},
		// A repeated stage name: BuildKit builds the LAST stage of that
		// name, so its USER is the one that ships (the first "app" was
		// judged before the one Dockerfile model).
		{name: "repeated target name ships the last", df: "FROM alpine:3.20 AS app\nUSER 1000\nFROM alpine:3.20 AS app\nUSER root\n", opt: Options{Target: "app"}, want: []int{4}},
		{name: "repeated target name, first is root", df: "FROM alpine:3.20 AS app\nUSER root\nFROM alpine:3.20 AS app\nUSER 1000\n", opt: Options{Target: "app"}},
		// FROM names the last earlier stage of that name.
		{name: "repeated base name inherits the last", df: "FROM alpine:3.20 AS base\nUSER 1000\nFROM alpine:3.20 AS base\nUSER root\nFROM base\nRUN true\n", want: []int{4}},
	})
}
