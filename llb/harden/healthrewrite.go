package harden

// HK2024, rewritten instead of refused: a shell-form health check that is
// one of the common probes — `curl -f URL`, `curl -fsS URL || exit 1`,
// `wget -q --spider URL`, `wget -qO- URL`, `nc -z HOST PORT` — runs in a
// shell, with curl, wget or nc, none of which a hardened image ships. When
// the frontend runs from its image, which carries hardenkit's static probe
// (cmd/hardenkit-probe), the probe is added to the shipped stage at
// probeInstallPath and the health check becomes its exec form, with the
// same meaning. Anything else keeps HK2024 and its advice.
//
// What "the same meaning" is, per command (the probe's modes: http is
// healthy on a 2xx or 3xx answer to a GET, without following redirects;
// tcp on an accepted connection):
//
//   - curl: only with -f/--fail (or --fail-with-body), which fails on an
//     answer of 400 or more — without it curl succeeds on any answer, a
//     500 included, which the probe's http mode does not, so a plain
//     `curl URL` keeps HK2024. Without -L curl does not follow redirects
//     either, and a 3xx succeeds for both. -L, -k, -I, -X, -H, -d, --retry
//     and every option not listed in curlFlags change what is asked or
//     accepted: not rewritten.
//   - wget (GNU and BusyBox): fails on an answer of 400 or more, as the
//     probe. Two documented differences are accepted: wget follows
//     redirects, where the probe takes a 3xx as healthy, and --spider
//     sends HEAD where the probe sends GET; a health endpoint that
//     redirects or answers HEAD differently from GET is not one this
//     rewrite is for, and the evidence records the rewrite for review.
//   - nc -z HOST PORT (-v, -w N allowed): a TCP connect, the probe's tcp
//     mode.
//
// `|| exit 1`, `|| exit` and `|| false` after the command only map a
// failure onto status 1, which the probe returns for any failure. Output
// redirected to /dev/null is output nobody reads. The probe's time limit
// is the command's own (-m, -T, -w) capped by the HEALTHCHECK's timeout
// (30s when unset, Docker's default), so the probe never gives up sooner
// than the original would have.

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// defaultHealthTimeout is Docker's HEALTHCHECK --timeout when unset.
const defaultHealthTimeout = 30 * time.Second

// probeCheck is a health check in the probe's terms.
type probeCheck struct {
	mode, target string        // "http" URL or "tcp" HOST:PORT
	timeout      time.Duration // the command's own limit, 0 if none
}

// ProbeTest returns the exec-form HEALTHCHECK test that runs the static
// probe with the same meaning as the shell-form script, and whether
// there is one (see the file comment for what counts as the same).
func ProbeTest(script string, hcTimeout time.Duration) ([]string, bool) {
	items, ok := shellscript.AndOrList(script)
	if !ok || len(items) == 0 {
		return nil, false
	}
	for _, it := range items[1:] {
		if it.Op != "||" || !failsWithStatus(it.Args) {
			return nil, false
		}
	}
	if len(items) > 2 {
		return nil, false
	}
	var c probeCheck
	switch shellscript.CommandName(items[0].Args[0]) {
	case "curl":
		c, ok = curlCheck(items[0].Args[1:])
	case "wget":
		c, ok = wgetCheck(items[0].Args[1:])
	case "nc", "netcat", "ncat":
		c, ok = ncCheck(items[0].Args[1:])
	default:
		return nil, false
	}
	if !ok {
		return nil, false
	}
	limit := hcTimeout
	if limit <= 0 {
		limit = defaultHealthTimeout
	}
	if c.timeout > 0 && c.timeout < limit {
		limit = c.timeout
	}
	return []string{"CMD", probeInstallPath, "-timeout", limit.String(), c.mode, c.target}, true
}

// failsWithStatus reports whether a command after || only ends the check
// unhealthy: `exit 1`, `exit` (the failed status), `false`.
func failsWithStatus(args []string) bool {
	switch {
	case len(args) == 1 && (args[0] == "exit" || args[0] == "false"):
		return true
	case len(args) == 2 && args[0] == "exit":
		n, err := strconv.Atoi(args[1])
		return err == nil && n != 0
	}
	return false
}

// curlFlags are the curl options a rewrite understands: what each does
// to the meaning ("fail", "timeout", or "" for output only).
var curlFlags = map[string]string{
	"-f": "fail", "--fail": "fail", "--fail-with-body": "fail",
	"-s": "", "--silent": "", "-S": "", "--show-error": "", "-q": "", "--disable": "",
	"-o": "", "--output": "", "-m": "timeout", "--max-time": "timeout",
}

// curlCheck reads curl's arguments: -f and one http(s) URL.
func curlCheck(args []string) (probeCheck, bool) {
	var c probeCheck
	fail := false
	urls, ok := readOptions(args, curlFlags, func(opt, val string) bool {
		switch curlFlags[opt] {
		case "fail":
			fail = true
		case "timeout":
			d, ok := seconds(val)
			c.timeout = d
			return ok
		}
		if opt == "-o" || opt == "--output" {
			return val == "/dev/null"
		}
		return true
	}, "om")
	if !ok || !fail || len(urls) != 1 {
		return probeCheck{}, false
	}
	c.mode, c.target = "http", urls[0]
	return c, httpURL(c.target)
}

// wgetFlags are the wget options a rewrite understands.
var wgetFlags = map[string]string{
	"-q": "", "--quiet": "", "--spider": "", "-O": "output", "--output-document": "output",
	"-T": "timeout", "--timeout": "timeout", "-t": "tries", "--tries": "tries",
}

// wgetCheck reads wget's arguments: quiet, the body discarded (--spider,
// -O- or -O /dev/null) and one http(s) URL.
func wgetCheck(args []string) (probeCheck, bool) {
	var c probeCheck
	discarded := false
	urls, ok := readOptions(args, wgetFlags, func(opt, val string) bool {
		switch wgetFlags[opt] {
		case "output":
			discarded = discarded || val == "-" || val == "/dev/null"
			return val == "-" || val == "/dev/null"
		case "timeout":
			d, ok := seconds(val)
			c.timeout = d
			return ok
		case "tries":
			return val == "1"
		}
		discarded = discarded || opt == "--spider"
		return true
	}, "OTt")
	if !ok || !discarded || len(urls) != 1 {
		return probeCheck{}, false
	}
	c.mode, c.target = "http", urls[0]
	return c, httpURL(c.target)
}

// ncCheck reads `nc -z [-v] [-w N] HOST PORT`.
func ncCheck(args []string) (probeCheck, bool) {
	var c probeCheck
	zero := false
	ops, ok := readOptions(args, map[string]string{"-z": "", "-v": "", "-w": ""}, func(opt, val string) bool {
		if opt == "-w" {
			d, ok := seconds(val)
			c.timeout = d
			return ok
		}
		zero = zero || opt == "-z"
		return true
	}, "w")
	if !ok || !zero || len(ops) != 2 {
		return probeCheck{}, false
	}
	port, err := strconv.Atoi(ops[1])
	if err != nil || port < 1 || port > 65535 || ops[0] == "" || strings.HasPrefix(ops[0], "-") {
		return probeCheck{}, false
	}
	c.mode, c.target = "tcp", net.JoinHostPort(ops[0], ops[1])
	return c, true
}

// readOptions splits args into operands and options known to flags,
// clustered short options (-fsS, -qO-) and --long=value included; withVal
// are the short letters that take a value. seen is called per option and
// may reject its value. Any unknown option fails the read.
func readOptions(args []string, flags map[string]string, seen func(opt, val string) bool, withVal string) ([]string, bool) {
	var ops []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(ops, args[i+1:]...), true
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a, "=")
			kind, known := flags[name]
			if !known {
				return nil, false
			}
			if takesValue(kind, name) && !hasVal {
				if i+1 >= len(args) {
					return nil, false
				}
				i++
				val = args[i]
			}
			if !seen(name, val) {
				return nil, false
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				opt := "-" + a[j:j+1]
				if _, known := flags[opt]; !known {
					return nil, false
				}
				val := ""
				if strings.IndexByte(withVal, a[j]) >= 0 {
					val = a[j+1:]
					if val == "" {
						if i+1 >= len(args) {
							return nil, false
						}
						i++
						val = args[i]
					}
					j = len(a)
				}
				if !seen(opt, val) {
					return nil, false
				}
			}
		default:
			ops = append(ops, a)
		}
	}
	return ops, true
}

// takesValue reports whether a long option of the given kind has a value.
func takesValue(kind, name string) bool {
	return kind == "timeout" || kind == "output" || kind == "tries" || name == "--output"
}

// seconds reads a time limit in seconds ("5", "2.5").
func seconds(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 3600 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// httpURL reports whether u is an http(s) URL the probe can fetch as
// written: a host, and no credentials (they would be repeated in the
// progress and the evidence that record the rewrite).
func httpURL(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && (pu.Scheme == "http" || pu.Scheme == "https") && pu.Host != "" && pu.User == nil
}

// withHealthProbe rewrites in's shell-form health check to the static
// probe when the hardened image will have no shell to run it, the
// frontend image that carries the probe is at hand, and the check is one
// ProbeTest reads with the same meaning: the probe is copied into the
// shipped stage, and a warning finding of HK2024 records the rewrite for
// the progress and the evidence. Otherwise in is returned unchanged and
// HK2024 judges the check as before.
func withHealthProbe(in Input) (Input, []rules.Finding) {
	if in.Probe == nil || in.Image == nil || len(toolingLists(in.Config).Shells) == 0 {
		return in, nil
	}
	hc := in.Image.Config.Healthcheck
	if hc == nil || len(hc.Test) != 2 || hc.Test[0] != "CMD-SHELL" {
		return in, nil
	}
	test, ok := ProbeTest(hc.Test[1], hc.Timeout)
	if !ok {
		return in, nil
	}
	img := *in.Image
	nhc := *hc
	nhc.Test = test
	img.Config.Healthcheck = &nhc
	in.Image = &img
	in.Final = in.Final.File(llb.Copy(*in.Probe, ProbeImagePath, probeInstallPath, &llb.CopyInfo{CreateDestPath: true}),
		llb.WithCustomName("[hardenkit] add the static health probe "+probeInstallPath))
	f := rules.Finding{Rule: ruleConfigTool.ID, Level: rules.LevelWarn, Line: firstLine(in.Lines.Healthcheck),
		Message: fmt.Sprintf("HEALTHCHECK CMD %s needs a shell and %s, which the hardened image does not ship; rewritten to the static probe with the same meaning: HEALTHCHECK CMD %s",
			hc.Test[1], shellscript.CommandName(strings.Fields(hc.Test[1])[0]), execForm(test[1:]))}
	return in, []rules.Finding{f}
}
