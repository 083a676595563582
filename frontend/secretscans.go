package frontend

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// secretScans says, per place, how much the secret scan read and what it
// trusted, for the compliance statement: the files of the image and of
// the build context (with the files scanned with the high-confidence
// detectors only, and why), and the config values and build arguments,
// which are all scanned with every detector.
func secretScans(image, context *secrets.TreeStats, img *dockerspec.DockerOCIImage, buildArgs map[string]string) []compliance.SecretScan {
	var out []compliance.SecretScan
	files := func(place string, s *secrets.TreeStats) {
		if s == nil {
			return
		}
		out = append(out, compliance.SecretScan{Place: place, Scanned: s.Files, Bytes: s.Bytes, Names: s.Names,
			Binary: s.Binary, PackageVerified: s.PackageVerified, Chunked: s.Chunked, AllowListed: s.AllowListed, Decoded: s.Decoded})
	}
	files("image-files", image)
	files("context-files", context)
	if img != nil {
		out = append(out,
			compliance.SecretScan{Place: "env", Scanned: len(img.Config.Env)},
			compliance.SecretScan{Place: "labels", Scanned: len(img.Config.Labels)},
			compliance.SecretScan{Place: "history", Scanned: len(img.History)})
	}
	return append(out, compliance.SecretScan{Place: "build-args", Scanned: len(buildArgs)})
}

// publicOrigins returns res's findings with the public content ones
// checked against the Dockerfile (inspect.PublicOrigins): a package file
// or database that an instruction of the shipped stage's chain wrote or
// names vouches for nothing. origins.Of says "written …" for exactly
// those: a COPY or ADD whose destination covers the path, or a RUN that
// names it.
func publicOrigins(res inspect.Result, pol *policy.Policy, origins dockerfilemodel.Origins) []rules.Finding {
	if len(res.Public) == 0 {
		return res.Findings
	}
	level := func(id string) rules.Level {
		r, _ := catalog.Lookup(id)
		return pol.Level(r)
	}
	writtenBy := func(p string) string {
		what, _ := origins.Of(p)
		if strings.HasPrefix(what, "written") {
			return what
		}
		return ""
	}
	return inspect.PublicOrigins(append([]rules.Finding(nil), res.Findings...), res.Public, level, writtenBy)
}

// findingOrigin names the instruction an image finding's path comes from
// (dockerfilemodel Origins.Of). A secret in a file (HK3052) is pointed at
// the instruction that created it (Origins.CreatedBy): a key a RUN or a
// package's maintainer script generated is fixed where it is made, not at
// the last RUN; its advice says so, since a key removed by a later RUN
// stays in the earlier layer, and "rotate" means generating it at run
// time. generated reports that case: the fix is written at that RUN
// (generatedKeyFixes), once the Dockerfile's text is at hand.
func findingOrigin(o dockerfilemodel.Origins, f *rules.Finding) (what string, rs []parser.Range, generated bool) {
	if f.Rule != ruleSecretInFile || inspect.IsPublicContent(*f) {
		what, rs = o.Of(f.File)
		return what, rs, false
	}
	what, how, rs := o.CreatedBy(f.File)
	if how == "run" {
		f.Message = strings.Replace(f.Message, inspect.FileSecretAdvice, fmt.Sprintf(
			"it was generated during the build, so every container of this image has the same key: remove it in the same RUN that creates it (… && rm -f %s) or keep the build from creating it, and generate it when the container starts (an entrypoint step, a mounted secret) when a program uses it", f.File), 1)
	}
	return what, rs, how == "run" && len(rs) > 0
}

// generatedKeyFixes are the Dockerfile edits that follow HK3052's advice
// for the keys generated during the build (keys: finding index → path,
// enforced findings only), by finding index: one fix per RUN, on its
// first finding, so that two keys one `apt-get install` made give one
// edit of that line.
//
//   - A RUN that does not name the key (a package's maintainer script made
//     it: ssl-cert's postinst during `apt-get install postgresql`) gets
//     `… && rm -f <key>` appended: nothing the Dockerfile asked for uses
//     it. A program configured to use it (Debian's own postgresql.conf
//     names ssl-cert's pair) then fails to start, which the smoke test
//     (HK2060) reports rather than shipping a broken image; the fix says
//     to generate the key at run time in that case.
//   - A RUN that names the key made it on purpose (`openssl genrsa -out`):
//     deleting it would break whatever reads it, so the remedy is to
//     generate it when the container starts, which no edit can write.
//   - A RUN that is not one shell-form command on continuation lines (the
//     JSON form, a heredoc) is not rewritten.
func generatedKeyFixes(src []byte, keys map[int]string, origins map[int][]parser.Range) map[int]rules.Fix {
	type run struct {
		first int // finding index
		keys  []string
	}
	byLine := map[int]*run{}
	var order []int
	for _, i := range slices.Sorted(maps.Keys(keys)) {
		key, rs := keys[i], origins[i]
		if len(rs) == 0 {
			continue
		}
		l := rs[0].Start.Line
		if byLine[l] == nil {
			byLine[l] = &run{first: i}
			order = append(order, l)
		}
		byLine[l].keys = append(byLine[l].keys, key)
	}
	out := map[int]rules.Fix{}
	for _, l := range order {
		r := byLine[l]
		out[r.first] = generatedKeyFix(src, origins[r.first], r.keys)
	}
	return out
}

// generatedKeyFix is one RUN's fix for generatedKeyFixes.
func generatedKeyFix(src []byte, rs []parser.Range, keys []string) rules.Fix {
	first, last := rs[0].Start.Line, rs[len(rs)-1].End.Line
	text, ok := shellRun(src, first, max(first, last))
	if !ok {
		return rules.Fix{Manual: fmt.Sprintf("the RUN at line %d is not one shell-form command (JSON form or a heredoc): remove %s at its end", first, strings.Join(keys, " "))}
	}
	rm := []string{"rm", "-f"}
	for _, k := range keys {
		if strings.Contains(text, k) {
			return rules.Fix{Manual: fmt.Sprintf("the RUN at line %d generates %s on purpose, so a program uses it: generate it when the container starts instead (an entrypoint step, or a key mounted as a secret at run time)", first, k)}
		}
		rm = append(rm, harden.ShellWord(k))
	}
	return rules.Fix{Edits: []rules.Edit{{Op: rules.EditReplace, Line: first, End: max(first, last), Text: text + " && " + strings.Join(rm, " ")}}}
}

// shellRun is the shell-form RUN instruction on lines first..last of the
// Dockerfile src, on one line: continuation lines joined as the parser
// joins them (comment lines inside dropped). ok is false for anything
// else: a JSON-form RUN, a heredoc, another escape character.
func shellRun(src []byte, first, last int) (string, bool) {
	lines := strings.Split(string(src), "\n")
	if first < 1 || last > len(lines) {
		return "", false
	}
	var parts []string
	for n := first; n <= last; n++ {
		l := strings.TrimSpace(lines[n-1])
		if n > first && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		cont := strings.HasSuffix(l, "\\")
		if cont != (n < last) {
			return "", false
		}
		if l = strings.TrimSpace(strings.TrimSuffix(l, "\\")); l != "" {
			parts = append(parts, l)
		}
	}
	text := strings.Join(parts, " ")
	cmd, isRun := cutKeyword(text, "RUN")
	for isRun && strings.HasPrefix(cmd, "--") { // RUN --mount=… --network=…
		_, cmd, _ = strings.Cut(cmd, " ")
		cmd = strings.TrimSpace(cmd)
	}
	if !isRun || cmd == "" || strings.HasPrefix(cmd, "[") || strings.Contains(cmd, "<<") {
		return "", false
	}
	return text, true
}

// cutKeyword returns what follows an instruction's keyword (any case).
func cutKeyword(text, keyword string) (string, bool) {
	word, rest, _ := strings.Cut(text, " ")
	return strings.TrimSpace(rest), strings.EqualFold(word, keyword)
}
