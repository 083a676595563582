package dockerfilecheck

// The anchors: the good and bad cases other linters ship for the rules
// hardenkit's static checks cover, measured as recall (bad cases a mapped
// rule flags) and precision (good cases the mapped rule fails at enforce).
// They are read from the published modules at test time, never copied
// into this repository:
//
//   - trivy-checks v1.10.0 (a Go module): the docker checks' YAML
//     examples, downloaded with `go mod download`.
//   - hadolint v2.15.1 specs (test/Hadolint/Rule/*Spec.hs): hadolint is a
//     Haskell project, but the Go module proxy serves any tagged
//     repository as a module (v2.15.1+incompatible, having no go.mod), so
//     the same `go mod download` fetches it.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// anchorRules maps each anchor rule to the hardenkit rules that cover it.
var anchorRules = map[string][]string{
	"DL3002": {"HK1050"},
	"DL3004": {"HK1042"},
	"DL3006": {"HK1003"},
	"DL3007": {"HK1003"},
	"DL3008": {"HK1030"},
	"DL3013": {"HK1030"},
	"DL3016": {"HK1030"},
	"DL3018": {"HK1030"},
	"DL3020": {"HK1012"},
	"DL3025": {"HK1080"},
	"DL3028": {"HK1030"},
	"DL3033": {"HK1030"},
	"DL3041": {"HK1030"},
	"DL3062": {"HK1030"},
	// trivy-checks, by file name under checks/docker.
	"root_user":           {"HK1050", "HK1052"},
	"latest_tag":          {"HK1003"},
	"add_instead_of_copy": {"HK1012"},
	"port22":              {"HK1043"},
	"run_using_sudo":      {"HK1042"},
	// yum/dnf update and zypper up upgrade every package: hardenkit
	// reports them as blanket upgrades (HK1032), trivy as an update alone.
	"update_instruction_alone": {"HK1031", "HK1032"},
	"run_apt_get_dist_upgrade": {"HK1032"},
}

// offSubject are findings of a mapped rule about another subject than the
// anchor's: DL3004 and trivy's sudo check are about running sudo, HK1042
// also reports installing it into the shipped image.
var offSubject = map[string]string{
	"DL3004":         "installs sudo",
	"run_using_sudo": "installs sudo",
}

// historyADD matches `ADD file:<digest> in /dst`, the image-history form of
// ADD that trivy also parses; no Dockerfile is written that way.
var historyADD = regexp.MustCompile(`(?m)^ADD (file|multi):[0-9a-f]{64} in `)

// anchorCase is one good or bad Dockerfile of an anchor rule.
type anchorCase struct {
	rule       string // DL3008, latest_tag
	bad        bool
	dockerfile string
}

const (
	trivyChecksModule = "github.com/aquasecurity/trivy-checks@v1.10.0"
	hadolintModule    = "github.com/hadolint/hadolint@v2.15.1+incompatible"
)

func TestAnchors(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads the anchors' modules")
	}
	cases := trivyCases(t, downloadModule(t, trivyChecksModule))
	cases = append(cases, hadolintCases(t, downloadModule(t, hadolintModule))...)
	var bad, caught, good, wrong, ranges int
	skipped := 0
	for _, c := range cases {
		if historyADD.MatchString(c.dockerfile) {
			skipped++
			continue
		}
		fs, err := Check([]byte(c.dockerfile), Options{HasDockerignore: true})
		if err != nil {
			// Some Rego inputs are no Dockerfile (USER without a value).
			skipped++
			t.Logf("%s case is not a Dockerfile BuildKit parses: %v", c.rule, err)
			continue
		}
		hit, enforced := anchorHit(fs, anchorRules[c.rule], offSubject[c.rule])
		switch {
		case c.bad:
			bad++
			if hit {
				caught++
			} else {
				t.Logf("MISS %s:\n%s", c.rule, c.dockerfile)
			}
		default:
			good++
			if enforced && versionRange.MatchString(c.dockerfile) {
				ranges++ // a range is not a pin, by design (docs/rules.md HK1030)
				good--
			} else if enforced {
				wrong++
				t.Logf("FALSE POSITIVE %s:\n%s\n%v", c.rule, c.dockerfile, fs)
			}
		}
	}
	recall := float64(caught) / float64(max(bad, 1))
	fpRate := float64(wrong) / float64(max(good, 1))
	t.Logf("anchors: recall %d/%d = %.1f%%; enforce-level findings on good cases %d/%d = %.1f%% (and %d good cases with a version range, flagged by design; %d cases skipped as no Dockerfile)", caught, bad, 100*recall, wrong, good, 100*fpRate, ranges, skipped)
	if recall < 0.95 {
		t.Errorf("recall %.1f%% on the anchors' bad cases, want at least 95%%", 100*recall)
	}
	if fpRate > 0.02 {
		t.Errorf("%.1f%% of the anchors' good cases fail at enforce, want at most 2%%", 100*fpRate)
	}
}

// versionRange matches a version range or a compatible-release
// specifier, which HK1030 does not accept as a pin.
var versionRange = regexp.MustCompile(`[<>!~^]=?[0-9]|semver:`)

// anchorHit reports whether a finding of one of ids is present (hit) and
// whether one is at enforce, ignoring findings whose message has other.
func anchorHit(fs []rules.Finding, ids []string, other string) (hit, enforced bool) {
	for _, f := range fs {
		if other != "" && strings.Contains(f.Message, other) {
			continue
		}
		for _, id := range ids {
			if f.Rule == id {
				hit = true
				enforced = enforced || f.Level == rules.LevelEnforce
			}
		}
	}
	return hit, enforced
}

// downloadModule fetches module@version through the Go module proxy and
// returns its directory in the module cache.
func downloadModule(t *testing.T, module string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := cmd.Output()
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("cannot download %s (offline?): %v", module, err)
		}
		t.Fatalf("go mod download %s: %v\n%s", module, err, out)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: %v\n%s", module, err, out)
	}
	return mod.Dir
}

// trivyCases reads the YAML examples and Rego test inputs of the docker
// checks in anchorRules from trivy-checks' module directory.
func trivyCases(t *testing.T, dir string) []anchorCase {
	t.Helper()
	var cases []anchorCase
	for rule := range anchorRules {
		if strings.HasPrefix(rule, "DL") {
			continue
		}
		dt, err := os.ReadFile(filepath.Join(dir, "checks", "docker", rule+".yaml"))
		if err != nil {
			t.Fatalf("reading the %s examples: %v", rule, err)
		}
		var ex struct {
			Dockerfile struct{ Good, Bad []string } `yaml:"dockerfile"`
		}
		if err := yaml.Unmarshal(dt, &ex); err != nil {
			t.Fatalf("%s.yaml: %v", rule, err)
		}
		for _, d := range ex.Dockerfile.Good {
			cases = append(cases, anchorCase{rule: rule, dockerfile: d + "\n"})
		}
		for _, d := range ex.Dockerfile.Bad {
			cases = append(cases, anchorCase{rule: rule, bad: true, dockerfile: d + "\n"})
		}
		rego, err := os.ReadFile(filepath.Join(dir, "checks", "docker", rule+"_test.rego"))
		if err != nil {
			t.Fatalf("reading the %s tests: %v", rule, err)
		}
		cases = append(cases, regoCases(rule, string(rego))...)
	}
	if len(cases) < 14 {
		t.Fatalf("trivy-checks gave %d cases, want at least 14", len(cases))
	}
	return cases
}

var (
	regoTest  = regexp.MustCompile(`(?m)^test_\w+ if \{`)
	regoCount = regexp.MustCompile(`count\(r\) (==|>|>=) (\d+)`)
	regoComma = regexp.MustCompile(`,(\s*[}\]])`)
)

// regoCases turns the inputs of a trivy check's Rego tests (the parsed
// Dockerfile as JSON: stages of commands) back into Dockerfiles; a test
// expecting count(r) == 0 is a good case, one expecting findings a bad
// one. Tests of another shape are skipped.
func regoCases(rule, src string) []anchorCase {
	var out []anchorCase
	locs := regoTest.FindAllStringIndex(src, -1)
	for i, loc := range locs {
		end := len(src)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := src[loc[1]:end]
		in := strings.Index(body, "input as ")
		m := regoCount.FindStringSubmatch(body)
		if in < 0 || m == nil {
			continue
		}
		obj := balanced(body[in+len("input as "):])
		var input struct {
			Stages []struct {
				Name     string
				Commands []struct {
					Cmd   string
					Value []any
				}
			}
		}
		if err := json.Unmarshal([]byte(regoComma.ReplaceAllString(obj, "$1")), &input); err != nil || len(input.Stages) == 0 {
			continue
		}
		var b strings.Builder
		for _, st := range input.Stages {
			// A stage without a name holds the global ARGs before the first FROM.
			if st.Name != "" && (len(st.Commands) == 0 || st.Commands[0].Cmd != "from") {
				fmt.Fprintf(&b, "FROM %s\n", st.Name)
			}
			for _, c := range st.Commands {
				words := make([]string, len(c.Value))
				for j, v := range c.Value {
					words[j] = fmt.Sprint(v)
				}
				fmt.Fprintf(&b, "%s %s\n", strings.ToUpper(c.Cmd), strings.Join(words, " "))
			}
		}
		bad := !(m[1] == "==" && m[2] == "0")
		out = append(out, anchorCase{rule: rule, bad: bad, dockerfile: b.String()})
	}
	return out
}

// balanced returns the {...} object at the start of s.
func balanced(s string) string {
	depth := 0
	for i, c := range s {
		switch c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return s[:i+1]
			}
		}
	}
	return s
}

// hadolintCases reads the specs of the DL rules in anchorRules.
func hadolintCases(t *testing.T, dir string) []anchorCase {
	t.Helper()
	var cases []anchorCase
	for rule := range anchorRules {
		if !strings.HasPrefix(rule, "DL") {
			continue
		}
		dt, err := os.ReadFile(filepath.Join(dir, "test", "Hadolint", "Rule", rule+"Spec.hs"))
		if err != nil {
			t.Fatalf("reading hadolint's %s spec: %v", rule, err)
		}
		cs, err := hspecCases(string(dt))
		if err != nil {
			t.Fatalf("%sSpec.hs: %v", rule, err)
		}
		for _, c := range cs {
			if c.code != rule {
				continue
			}
			cases = append(cases, anchorCase{rule: rule, bad: c.catches, dockerfile: withFrom(c.text)})
		}
	}
	return cases
}

// withFrom gives a hadolint snippet (often RUN lines alone) the FROM a
// Dockerfile needs to parse.
func withFrom(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.ToUpper(strings.TrimSpace(l))
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "ARG ") {
			continue
		}
		if strings.HasPrefix(l, "FROM ") {
			return s
		}
		break
	}
	return "FROM scratch\n" + s
}

// hspecCase is one ruleCatches/ruleCatchesNot assertion of a spec.
type hspecCase struct {
	code    string
	catches bool
	text    string
}

var (
	hspecAssert  = regexp.MustCompile(`\b(onBuildRuleCatchesNot|onBuildRuleCatches|ruleCatchesNot|ruleCatches)\s+"(DL\d{4})"\s*`)
	hspecUnlines = regexp.MustCompile(`^(?:Text\.)?unlines\s*`)
	hspecIdent   = regexp.MustCompile(`^([a-z][A-Za-z0-9_']*)`)
	runLine      = regexp.MustCompile(`(?im)^(\s*)RUN\b`)
)

// hspecCases extracts the Dockerfiles of a hadolint spec's assertions:
// a string literal, `Text.unlines [..]`, or a let-bound name of either.
func hspecCases(src string) ([]hspecCase, error) {
	var out []hspecCase
	for _, m := range hspecAssert.FindAllStringSubmatchIndex(src, -1) {
		fn, code := src[m[2]:m[3]], src[m[4]:m[5]]
		text, err := hspecArg(src, m[0], m[1])
		if err != nil {
			return nil, fmt.Errorf("%s %s at offset %d: %w", fn, code, m[0], err)
		}
		if strings.HasPrefix(fn, "onBuild") {
			text = runLine.ReplaceAllString(text, "${1}ONBUILD RUN")
		}
		out = append(out, hspecCase{code: code, catches: !strings.HasSuffix(fn, "Not"), text: text})
	}
	return out, nil
}

// hspecArg reads the Dockerfile argument at src[at:]: a literal, or
// `$ Text.unlines x` / `(Text.unlines [...])` / a name bound earlier.
func hspecArg(src string, start, at int) (string, error) {
	rest := strings.TrimLeft(src[at:], " \t\n$(")
	unlines := false
	if loc := hspecUnlines.FindStringIndex(rest); loc != nil {
		unlines, rest = true, strings.TrimLeft(rest[loc[1]:], " \t\n(")
	}
	if m := hspecIdent.FindString(rest); m != "" {
		return hspecBinding(src[:start], m, unlines)
	}
	return hspecValue(rest, unlines)
}

// hspecBinding finds the last `name = value` before the assertion.
func hspecBinding(before, name string, unlines bool) (string, error) {
	re := regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\s*=\s*`)
	locs := re.FindAllStringIndex(before, -1)
	if len(locs) == 0 {
		return "", fmt.Errorf("no binding of %s", name)
	}
	v := before[locs[len(locs)-1][1]:]
	return hspecValue(v, unlines || strings.HasPrefix(v, "["))
}

// hspecValue parses a string literal, or a list of them joined as
// Text.unlines joins them.
func hspecValue(s string, unlines bool) (string, error) {
	s = strings.TrimLeft(s, " \t\n$(")
	if loc := hspecUnlines.FindStringIndex(s); loc != nil {
		unlines, s = true, strings.TrimLeft(s[loc[1]:], " \t\n$(")
	}
	if !strings.HasPrefix(s, "[") {
		v, _, err := hsString(s)
		return v, err
	}
	var lines []string
	s = s[1:]
	for {
		s = strings.TrimLeft(s, " \t\n,")
		if strings.HasPrefix(s, "]") {
			break
		}
		v, n, err := hsString(s)
		if err != nil {
			return "", err
		}
		lines = append(lines, v)
		s = s[n:]
	}
	if unlines {
		return strings.Join(lines, "\n") + "\n", nil
	}
	return strings.Join(lines, "\n"), nil
}

// hsString decodes the Haskell string literal at the start of s and
// returns it with the number of bytes it took.
func hsString(s string) (string, int, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", 0, fmt.Errorf("want a string literal at %.30q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c != '\\' || i+1 >= len(s):
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '&':
		case ' ', '\n', '\t', '\r': // a string gap: \ whitespace \
			j := strings.IndexByte(s[i:], '\\')
			if j < 0 {
				return "", 0, fmt.Errorf("unterminated string gap")
			}
			i += j
		default:
			b.WriteByte(e)
		}
	}
	return "", 0, fmt.Errorf("unterminated string literal")
}
