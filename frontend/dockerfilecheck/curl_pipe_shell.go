package dockerfilecheck

// Control: remote code executed without verification — every stage.
//
//	HK1020 RemoteScriptPipedToShell  CIS 4.12
//
// Piping a download into a shell is the obvious form; the same risk hides
// in a download saved to a file and then run, unpacked or installed in the
// same RUN (`curl -o x && sh x`, `wget -O x.tgz && tar xf x.tgz &&
// ./install.sh`, `curl … | tar x`) with no checksum or signature check
// anywhere in that RUN.

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

var ruleCurlPipeShell = rules.Rule{
	ID:          "HK1020",
	Name:        "RemoteScriptPipedToShell",
	Title:       "Remote code run or unpacked without verification",
	Family:      rules.FamilySupplyChain,
	Severity:    rules.SeverityHigh,
	Stage:       rules.StageStatic,
	CIS:         []string{"4.12"},
	Rationale:   "`curl … | sh`, `wget -O- … | bash` and `bash <(curl …)` run whatever the server (or anyone on the path) returns at build time, unverified and unreproducible; a truncated download can even run half a script. A download saved to a file and then run, unpacked or installed in the same RUN (`curl -o x && sh x`, `wget -O x.tgz && tar xf x.tgz`, `curl … | tar x`) without a checksum or signature check is the same risk.",
	Remediation: "Download to a file, verify it (a pinned sha256sum -c, or a signature), then run it; or use ADD --checksum=sha256:<digest> and RUN the checked file.",
	HelpURI:     helpURI("HK1020"),
}

var curlPipeShellControl = control{
	rules: []rules.Rule{ruleCurlPipeShell},
	check: checkCurlPipeShell,
}

// downloaders fetch URLs to stdout (or a file handed to the interpreter).
var downloaders = map[string]bool{"curl": true, "wget": true, "fetch": true, "http": true, "https": true, "aria2c": true}

// interpreterName matches programs that execute code read from stdin or a
// file: shells and the common script runtimes.
var interpreterName = regexp.MustCompile(`^(sh|bash|ash|dash|zsh|ksh|mksh|fish|python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|pwsh|source|\.|eval)$`)

func checkCurlPipeShell(f *file, r *reporter) {
	f.eachScript(func(in *instr, s *shellscript.Script) {
		for _, p := range s.Pipelines {
			if dl, sh := pipedToInterpreter(p); dl != "" {
				r.add(ruleCurlPipeShell, in.at, in.stage, fmt.Sprintf("%sRUN pipes %s output into %s; download to a file and verify its checksum or signature before running it", onbuildPrefix(in), dl, sh))
			}
		}
		checkDownloadUse(in, s, r)
		for _, c := range s.Calls {
			argv, _ := shellscript.Unwrap(c.Args)
			if len(argv) == 0 || !interpreterName.MatchString(shellscript.CommandName(argv[0])) {
				continue
			}
			for _, sub := range c.Subs {
				if dl := firstDownloader(sub); dl != "" {
					r.add(ruleCurlPipeShell, in.at, in.stage, fmt.Sprintf("%sRUN runs %s output with %s; download to a file and verify its checksum or signature before running it", onbuildPrefix(in), dl, shellscript.CommandName(argv[0])))
				}
			}
		}
	})
}

// pipedToInterpreter finds a downloader followed, later in the same
// pipeline, by an interpreter.
func pipedToInterpreter(p []shellscript.Call) (downloader, interpreter string) {
	return pipedInto(p, interpreterName.MatchString)
}

// pipedInto finds a downloader followed, later in the same pipeline, by a
// command whose name matches consumer.
func pipedInto(p []shellscript.Call, consumer func(name string) bool) (downloader, name string) {
	for i, c := range p {
		argv, _ := shellscript.Unwrap(c.Args)
		if len(argv) == 0 || !downloaders[shellscript.CommandName(argv[0])] {
			continue
		}
		for _, d := range p[i+1:] {
			dv, _ := shellscript.Unwrap(d.Args)
			if len(dv) > 0 && consumer(shellscript.CommandName(dv[0])) {
				return shellscript.CommandName(argv[0]), shellscript.CommandName(dv[0])
			}
		}
	}
	return "", ""
}

// firstDownloader returns the first downloader among calls.
func firstDownloader(calls []shellscript.Call) string {
	for _, c := range calls {
		if argv, _ := shellscript.Unwrap(c.Args); len(argv) > 0 && downloaders[shellscript.CommandName(argv[0])] {
			return shellscript.CommandName(argv[0])
		}
	}
	return ""
}

// unpackerName matches programs that unpack or install a file, making
// its contents part of the image.
var unpackerName = regexp.MustCompile(`^(tar|bsdtar|gtar|unzip|7z|7za|gunzip|bunzip2|unxz|xz|zstd|cpio|dpkg|rpm|apk|chmod|install)$`)

// verifierName matches programs that check a checksum or a signature.
var verifierName = regexp.MustCompile(`^(sha(1|224|256|384|512)sum|shasum|b2sum|md5sum|cksum|gpgv|cosign|minisign|signify|slsa-verifier|rekor-cli)$`)

// checkDownloadUse reports a RUN that downloads a file and runs, unpacks
// or installs it without verifying it anywhere in the same RUN.
func checkDownloadUse(in *instr, s *shellscript.Script, r *reporter) {
	if verifies(s) {
		return
	}
	for _, p := range s.Pipelines {
		if dl, tool := pipedToUnpacker(p); dl != "" {
			r.add(ruleCurlPipeShell, in.at, in.stage, fmt.Sprintf("%sRUN pipes %s output into %s without verifying a checksum or signature; download to a file and check it (sha256sum -c with a pinned digest, or a signature) first", onbuildPrefix(in), dl, tool))
		}
	}
	var saved []string
	for _, c := range s.Calls {
		argv, _ := shellscript.Unwrap(c.Args)
		if len(argv) == 0 {
			continue
		}
		if t := downloadTargets(argv); len(t) > 0 {
			saved = append(saved, t...)
			continue
		}
		if f, how := usesFile(argv, saved); f != "" {
			r.add(ruleCurlPipeShell, in.at, in.stage, fmt.Sprintf("%sRUN downloads %s and %s without verifying a checksum or signature; check it (sha256sum -c with a pinned digest, or a signature) before using it", onbuildPrefix(in), path.Base(f), how))
			return
		}
	}
}

// verifies reports whether a script checks a checksum or a signature.
func verifies(s *shellscript.Script) bool {
	for _, c := range s.Calls {
		argv, _ := shellscript.Unwrap(c.Args)
		if len(argv) == 0 {
			continue
		}
		name := shellscript.CommandName(argv[0])
		if verifierName.MatchString(name) || (name == "gpg" || name == "gpg2") && slices.Contains(argv, "--verify") {
			return true
		}
		if name == "openssl" && len(argv) > 1 && (argv[1] == "dgst" || argv[1] == "sha256") {
			return true
		}
	}
	return false
}

// pipedToUnpacker finds a downloader whose output a later command of the
// pipeline unpacks.
func pipedToUnpacker(p []shellscript.Call) (downloader, unpacker string) {
	return pipedInto(p, func(name string) bool { return name != "chmod" && unpackerName.MatchString(name) })
}

// downloadTargets returns the files a curl or wget command saves URLs
// to (curl -o F, -O; wget -O F, or the URL's file name).
func downloadTargets(argv []string) []string {
	name := shellscript.CommandName(argv[0])
	if name != "curl" && name != "wget" {
		return nil
	}
	var out, urls []string
	remoteName := name == "wget"
	args := argv[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case strings.Contains(a, "://") && !strings.HasPrefix(a, "-"):
			urls = append(urls, a)
		case a == "--output" || a == "--output-document":
			out = append(out, next())
		case strings.HasPrefix(a, "--output=") || strings.HasPrefix(a, "--output-document="):
			_, v, _ := strings.Cut(a, "=")
			out = append(out, v)
		case a == "--remote-name" || a == "--remote-name-all":
			remoteName = true
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
			o, remote := shortOutput(a, next, name)
			out, remoteName = append(out, o...), remoteName || remote
		}
	}
	if len(out) == 0 && remoteName {
		for _, u := range urls {
			u, _, _ = strings.Cut(u, "?")
			out = append(out, path.Base(u))
		}
	}
	return slices.DeleteFunc(out, func(f string) bool { return f == "" || f == "-" || f == "/dev/null" })
}

// shortOutput reads a short-option group of curl or wget for -o/-O.
func shortOutput(group string, next func() string, tool string) (out []string, remote bool) {
	outLetter := byte('o')
	if tool == "wget" {
		outLetter = 'O'
	}
	for j := 1; j < len(group); j++ {
		switch {
		case group[j] == outLetter:
			if j == len(group)-1 {
				return []string{next()}, false
			}
			return []string{group[j+1:]}, false
		case tool == "curl" && group[j] == 'O':
			remote = true
		case tool == "curl" && strings.IndexByte(curlSpec.Short, group[j]) >= 0:
			if j == len(group)-1 {
				next()
			}
			return nil, remote
		}
	}
	return nil, remote
}

// usesFile reports whether a command runs, unpacks or installs one of
// the downloaded files, and how.
func usesFile(argv []string, saved []string) (file, how string) {
	name := shellscript.CommandName(argv[0])
	for _, f := range saved {
		base := path.Base(f)
		if path.Base(argv[0]) == base && strings.Contains(argv[0], "/") {
			return f, "runs it"
		}
		for _, a := range argv[1:] {
			if path.Base(a) != base || strings.HasPrefix(a, "-") {
				continue
			}
			switch {
			case interpreterName.MatchString(name):
				return f, "runs it"
			case name == "chmod":
				return f, "makes it executable"
			case unpackerName.MatchString(name):
				return f, "unpacks or installs it"
			}
		}
	}
	return "", ""
}
