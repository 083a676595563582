package dockerfilecheck

import "testing"

const commit = "0123456789abcdef0123456789abcdef01234567"

func TestAddURLWithoutChecksum(t *testing.T) {
	runRuleCases(t, "HK1010", []ruleCase{
		{name: "url", df: "FROM scratch\nADD https://example.com/tool.tar.gz /tmp/\n", want: []int{2}},
		{name: "with checksum", df: "FROM scratch\nADD --checksum=sha256:" + testDigest[7:] + " https://example.com/tool.tar.gz /tmp/\n"},
		{name: "http", df: "FROM scratch\nADD http://example.com/x /x\n", want: []int{2}},
		{name: "local file", df: "FROM scratch\nADD x.tar.gz /x\n"},
		{name: "git source is HK1011's", df: "FROM scratch\nADD https://github.com/moby/buildkit.git /src\n"},
		{name: "credentials and query are redacted", df: "FROM scratch\nADD https://user:hunter2@example.com/x?token=abc /x\n",
			want: []int{2}, notMsg: "hunter2", msg: `"https://example.com/x"`},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS dl\nADD https://example.com/x /x\nFROM scratch\nCOPY --from=dl /x /x\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD ADD https://example.com/x /x\n", want: []int{2}, msg: "ONBUILD ADD"},
		{name: "ARG-expanded URL", df: "FROM scratch\nARG URL=https://example.com/v1/x\nADD ${URL} /x\n", want: []int{3}, msg: "/v1/x"},
		{name: "ARG-expanded checksum", df: "FROM scratch\nARG SUM=sha256:" + testDigest[7:] + "\nADD --checksum=$SUM https://example.com/x /x\n"},
		{name: "line continuation", df: "FROM scratch\nADD \\\n  https://example.com/x \\\n  /x\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM scratch\nADD §\n  https://example.com/x /x\n"), want: []int{3}},
		{name: "heredoc source is not a download", df: "FROM scratch\nADD <<EOF /x\nhttps://example.com/x\nEOF\n"},
	})
}

func TestAddGitNotPinned(t *testing.T) {
	runRuleCases(t, "HK1011", []ruleCase{
		{name: "default branch", df: "FROM scratch\nADD https://github.com/moby/buildkit.git /src\n", want: []int{2}, msg: "default branch"},
		{name: "tag", df: "FROM scratch\nADD https://github.com/moby/buildkit.git#v0.12.0 /src\n", want: []int{2}, msg: `"v0.12.0"`},
		{name: "commit", df: "FROM scratch\nADD https://github.com/moby/buildkit.git#" + commit + " /src\n"},
		{name: "commit and subdir", df: "FROM scratch\nADD https://github.com/moby/buildkit.git#" + commit + ":docs /src\n"},
		{name: "checksum flag", df: "FROM scratch\nADD --checksum=" + commit + " https://github.com/moby/buildkit.git#v0.12.0 /src\n"},
		{name: "checksum query", df: "FROM scratch\nADD https://github.com/moby/buildkit.git?tag=v0.12.0&checksum=" + commit + " /src\n"},
		{name: "branch query", df: "FROM scratch\nADD https://github.com/moby/buildkit.git?branch=master /src\n", want: []int{2}},
		{name: "ssh remote", df: "FROM scratch\nADD git@github.com:moby/buildkit.git#main /src\n", want: []int{2}},
		{name: "not a git url", df: "FROM scratch\nADD https://example.com/archive.tar.gz /src\n"},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS src\nADD https://github.com/moby/buildkit.git /src\nFROM scratch\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD ADD https://github.com/moby/buildkit.git#main /src\n", want: []int{2}, msg: "ONBUILD"},
		{name: "ARG-expanded ref", df: "FROM scratch\nARG REF=main\nADD https://github.com/moby/buildkit.git#${REF} /src\n", want: []int{3}, msg: `"main"`},
		{name: "ARG-expanded commit", df: "FROM scratch\nARG REF=main\nADD https://github.com/moby/buildkit.git#${REF} /src\n",
			opt: Options{BuildArgs: map[string]string{"REF": commit}}},
		{name: "line continuation", df: "FROM scratch\nADD \\\n https://github.com/moby/buildkit.git \\\n /src\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM scratch\nADD https://github.com/moby/buildkit.git §\n /src\n"), want: []int{3}},
	})
}

func TestAddInsteadOfCopy(t *testing.T) {
	runRuleCases(t, "HK1012", []ruleCase{
		{name: "local file", df: "FROM scratch\nADD app.sh /app.sh\n", want: []int{2}, msg: `"app.sh"`},
		{name: "local directory", df: "FROM scratch\nADD ./site/ /www/\n", want: []int{2}},
		{name: "archive is unpacked", df: "FROM scratch\nADD rootfs.tar.xz /\n"},
		{name: "archive with unpack off", df: "FROM scratch\nADD --unpack=false rootfs.tar.gz /\n", want: []int{2}},
		{name: "url", df: "FROM scratch\nADD --checksum=sha256:" + testDigest[7:] + " https://example.com/x /x\n"},
		{name: "git", df: "FROM scratch\nADD https://github.com/moby/buildkit.git#" + commit + " /src\n"},
		{name: "COPY", df: "FROM scratch\nCOPY app.sh /app.sh\n"},
		{name: "heredoc", df: "FROM scratch\nADD <<EOF /etc/motd\nhello\nEOF\n", want: []int{2}, msg: `"<<EOF"`},
		{name: "mixed archive and file", df: "FROM scratch\nADD rootfs.tar app.sh /\n"},
		{name: "unresolved variable", df: "FROM scratch\nADD ${SRC} /x\n"},
		{name: "ARG-expanded archive", df: "FROM scratch\nARG SRC=rootfs.tgz\nADD ${SRC} /\n"},
		{name: "ARG-expanded file", df: "FROM scratch\nARG SRC=app.py\nADD ${SRC} /\n", want: []int{3}, msg: `"app.py"`},
		{name: "multi-stage builder", df: "FROM alpine:3.20 AS b\nADD a /a\nFROM scratch\nCOPY --from=b /a /a\n", want: []int{2}},
		{name: "ONBUILD", df: "FROM alpine:3.20\nONBUILD ADD . /src\n", want: []int{2}, msg: "ONBUILD ADD"},
		{name: "line continuation", df: "FROM scratch\nADD a \\\n  b \\\n  /dst/\n", want: []int{2}},
		{name: "escape directive", df: bt("# escape=§\nFROM scratch\nADD a §\n  /dst/\n"), want: []int{3}},
	})
}
