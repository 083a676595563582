package dockerfilecheck

import "testing"

func TestRemoteScriptPipedToShell(t *testing.T) {
	runRuleCases(t, "HK1020", []ruleCase{
		{name: "curl | sh", df: "FROM alpine:3.20\nRUN curl -fsSL https://example.com/install.sh | sh\n", want: []int{2}, msg: "curl output into sh"},
		{name: "wget -O- | bash", df: "FROM alpine:3.20\nRUN wget -qO- https://example.com/i | bash -s -- --yes\n", want: []int{2}, msg: "wget output into bash"},
		{name: "through tee and sudo", df: "FROM alpine:3.20\nRUN curl -s https://x.example/i | tee /tmp/i | sudo -E bash -\n", want: []int{2}},
		{name: "python interpreter", df: "FROM alpine:3.20\nRUN curl -sSL https://install.python-poetry.org | python3 -\n", want: []int{2}},
		{name: "process substitution", df: "FROM alpine:3.20\nRUN bash <(curl -s https://x.example/i.sh)\n", want: []int{2}, msg: "with bash"},
		{name: "command substitution", df: "FROM alpine:3.20\nRUN sh -c \"$(curl -fsSL https://x.example/i.sh)\"\n", want: []int{2}},
		{name: "source process substitution", df: "FROM alpine:3.20\nRUN . <(wget -qO- https://x.example/env)\n", want: []int{2}},
		{name: "download, verify, run", df: "FROM alpine:3.20\nRUN curl -fsSLo i.sh https://x.example/i.sh && echo \"abc  i.sh\" | sha256sum -c && sh i.sh\n"},
		{name: "pipe into tar", df: "FROM alpine:3.20\nRUN curl -fsSL https://x.example/t.tgz | tar -xz -C /opt\n", want: []int{2}, msg: "into tar without verifying"},
		{name: "pipe into tar, then verified", df: "FROM alpine:3.20\nRUN curl -fsSL https://x.example/t.tgz | tar -xz -C /opt && sha256sum -c /opt/SUMS\n"},
		{name: "saved, then run", df: "FROM alpine:3.20\nRUN curl -fsSLo /tmp/i.sh https://x.example/i.sh && sh /tmp/i.sh\n", want: []int{2}, msg: "downloads i.sh and runs it"},
		{name: "wget, unpack, install", df: "FROM alpine:3.20\nRUN wget -q https://x.example/x.tar.gz -O /tmp/x.tar.gz && tar -xzf /tmp/x.tar.gz && ./install.sh\n", want: []int{2}, msg: "unpacks or installs it"},
		{name: "remote name, made executable", df: "FROM alpine:3.20\nRUN curl -fsSLO https://x.example/kubectl && chmod +x kubectl\n", want: []int{2}, msg: "makes it executable"},
		{name: "checksum verified", df: "FROM alpine:3.20\nRUN curl -fsSLo /tmp/go.tgz https://x.example/go.tgz && echo \"abc  /tmp/go.tgz\" | sha256sum -c - && tar -C /usr/local -xzf /tmp/go.tgz\n"},
		{name: "signature verified", df: "FROM alpine:3.20\nRUN wget -O n.tgz https://x.example/n.tgz && wget -O n.asc https://x.example/n.asc && gpg --batch --verify n.asc n.tgz && tar xzf n.tgz\n"},
		{name: "saved data only read", df: "FROM alpine:3.20\nRUN curl -fsSLo /tmp/a.json https://x.example/a.json && cat /tmp/a.json\n"},
		{name: "only a string", df: "FROM alpine:3.20\nRUN echo 'curl https://x | sh' > /README\n"},
		{name: "version lookup is not execution", df: "FROM alpine:3.20\nRUN V=$(curl -s https://x.example/latest) && echo $V\n"},
		{name: "sh -c script", df: "FROM alpine:3.20\nRUN sh -c 'curl https://x.example/i | sh'\n", want: []int{2}},
		{name: "exec form", df: "FROM alpine:3.20\nRUN [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\", \"curl https://x.example/i | bash\"]\n", want: []int{2}},
		{name: "heredoc", df: "FROM alpine:3.20\nRUN <<EOF\nset -e\ncurl -fsSL https://x.example/i | sh\nEOF\n", want: []int{2}},
		{name: "heredoc fed to bash", df: "FROM alpine:3.20\nRUN bash <<EOF\ncurl -fsSL https://x.example/i | sh\nEOF\n", want: []int{2}},
		{name: "python heredoc is not shell", df: "FROM alpine:3.20\nRUN <<EOF\n#!/usr/bin/env python3\nprint('curl x | sh')\nEOF\n"},
		{name: "heredoc written to a file", df: "FROM alpine:3.20\nRUN cat > /doc <<EOF\ncurl x | sh\nEOF\n"},
		{name: "line continuation", df: "FROM alpine:3.20\nRUN apk add curl && \\\n    curl -fsSL https://x.example/i \\\n    | sh\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM alpine:3.20\nRUN curl -fsSL https://x.example/i §\n    | sh\n"), want: []int{3}},
		{name: "ARG-expanded command", df: "FROM alpine:3.20\nARG INSTALL=\"curl -fsSL https://x.example/i | sh\"\nRUN $INSTALL\n", want: []int{3}},
		{name: "ENV-expanded downloader", df: "FROM alpine:3.20\nENV DL=wget\nRUN $DL -qO- https://x.example/i | sh\n", want: []int{3}},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nRUN curl https://x.example/i | sh\nFROM scratch\nCOPY --from=b /o /o\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD RUN curl https://x.example/i | sh\n", want: []int{2}, msg: "ONBUILD RUN"},
		{name: "non-POSIX SHELL", df: "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL [\"powershell\", \"-Command\"]\nRUN iwr https://x | iex\n"},
		{name: "unparsable script falls back to tokens", df: "FROM alpine:3.20\nRUN curl https://x.example/i | sh; if then fi (\n", want: []int{2}},
	})
}
