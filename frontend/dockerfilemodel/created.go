package dockerfilemodel

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// CreatedBy names the instruction that most likely created p, for a
// finding whose remedy is to stop creating it there (a private key
// generated during the build), and how: "copy", "run" or "" (the base
// image, or nothing better than Of's guess).
//
//   - The last COPY or ADD whose destination covers p, when no later RUN
//     names p: the file came from what was copied.
//   - Else the first RUN after that copy that names p: the one that made
//     it (`openssl genrsa -out p`), not a later one that only changed it
//     (`chmod 600 p`), which is what Of reports.
//   - Else, when no instruction names p, the first RUN that installs
//     packages (apt-get/apt/aptitude install, dpkg -i, apk add, dnf, yum,
//     microdnf, zypper install): a maintainer script run by the package
//     manager (ssl-cert's postinst making its snakeoil key during
//     `apt-get install postgresql`) is what writes files no instruction
//     names, and the last RUN (`initdb`) is not. Without one, Of's answer.
//
// Origins reads no file, so this stays a guess from the Dockerfile's text;
// a file the base image already had is named as such only when no RUN
// installs packages.
func (o Origins) CreatedBy(p string) (what string, how string, ranges []parser.Range) {
	start := 0
	for i := len(o.steps) - 1; i >= 0; i-- {
		if s := o.steps[i]; s.dest != "" && s.covers(p) {
			start = i + 1
			break
		}
	}
	for i := start; i < len(o.steps); i++ {
		if s := o.steps[i]; s.names(p) {
			return fmt.Sprintf("created by %s (%s:%d), the first instruction that names it", oneLine(s.text), o.dockerfile, firstLine(s.ranges)), "run", s.ranges
		}
	}
	if start > 0 {
		s := o.steps[start-1]
		return fmt.Sprintf("written by %s (%s:%d)", oneLine(s.text), o.dockerfile, firstLine(s.ranges)), "copy", s.ranges
	}
	for _, s := range o.steps {
		if s.run && installsPackages(s.text) {
			return fmt.Sprintf("no instruction names it: created while %s (%s:%d) installed packages (a package's maintainer script), or from the base image %s",
				oneLine(s.text), o.dockerfile, firstLine(s.ranges), o.base), "run", s.ranges
		}
	}
	what, ranges = o.Of(p)
	return what, "", ranges
}

// installsPackages reports whether a RUN's text runs a package manager's
// install, whose maintainer scripts may create files.
func installsPackages(text string) bool {
	script, _ := strings.CutPrefix(strings.TrimSpace(text), "RUN ")
	for _, c := range shellscript.Calls(script) {
		for len(c) > 0 && strings.HasPrefix(c[0], "--") {
			c = c[1:] // RUN --mount=… --network=…
		}
		args, _ := shellscript.Unwrap(c)
		if len(args) < 2 {
			continue
		}
		verbs := map[string][]string{
			"apt-get": {"install"}, "apt": {"install"}, "aptitude": {"install"}, "dpkg": {"-i", "--install"},
			"apk": {"add"}, "dnf": {"install"}, "yum": {"install"}, "microdnf": {"install"}, "zypper": {"install", "in"},
		}[shellscript.CommandName(args[0])]
		for _, a := range args[1:] {
			for _, v := range verbs {
				if a == v {
					return true
				}
			}
		}
	}
	return false
}
