package harden

// HK2024's advice for health checks: a distroless image has no shell, curl
// or wget to run `HEALTHCHECK CMD curl -f http://… || exit 1`, so the fix
// is hardenkit's static probe, which ships in the frontend image at
// /bin/hardenkit-probe (cmd/hardenkit-probe) for a Dockerfile to copy in.

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

// ProbeImagePath is where the health probe lives in the frontend image.
const ProbeImagePath = "/bin/hardenkit-probe"

// probeInstallPath is where the advice puts the probe in the image.
const probeInstallPath = "/usr/local/bin/hardenkit-probe"

// probeAdvice is the rewrite of a health check command (as written, shell
// or exec form joined by spaces) that runs on a distroless image.
func probeAdvice(command string) string {
	check := `"http", "http://127.0.0.1:<port>/<path>"`
	if u := commandURL(command); u != "" {
		// A URL with credentials is not repeated: they must not be printed.
		if pu, err := url.Parse(u); err == nil && pu.User == nil {
			check = fmt.Sprintf("%q, %q", "http", u)
		}
	}
	return fmt.Sprintf(`; use hardenkit's static probe, which needs no shell: COPY --from=<the hardenkit frontend image of your # syntax= line> %s %s, then HEALTHCHECK CMD ["%s", %s] (modes: http URL, tcp HOST:PORT, exec PROG)%s`,
		ProbeImagePath, probeInstallPath, probeInstallPath, check, notRewritten(command))
}

// probeRemedy is probeAdvice with the fix as Dockerfile edits
// (advicefix.go): for a curl check that only lacks -f, the HEALTHCHECK
// with -f added, which hardenkit then rewrites to the probe itself (the
// prose says when that is not what the check means).
// Copying the probe in cannot be written for the user: it comes from the
// frontend image their # syntax= line names, which the build does not
// know by name.
func probeRemedy(in Input, command string) string {
	fx := &stageFix{lines: in.Lines}
	hc := in.Image.Config.Healthcheck
	if fixed, ok := withCurlFail(command); ok && hc != nil && hc.Test[0] == "CMD-SHELL" {
		fx.set(in.Lines.Healthcheck, healthcheckInstruction(*hc, fixed))
		return probeAdvice(command) + fx.String()
	}
	fx.manual("COPY --from needs the hardenkit frontend image of your # syntax= line: write the COPY and the exec-form HEALTHCHECK above yourself")
	return probeAdvice(command) + fx.String()
}

// curlCommand finds a curl command word at the start of a command of
// the shell text (after a separator or blanks).
var curlCommand = regexp.MustCompile(`(^|[\s;&|(])((?:\S*/)?curl)(\s)`)

// withCurlFail is a shell health check with -f added to its curl, when
// that makes it one the probe runs with the same meaning.
func withCurlFail(command string) (string, bool) {
	fixed := curlCommand.ReplaceAllString(command, "$1$2 -f$3")
	if fixed == command {
		return "", false
	}
	if _, ok := ProbeTest(fixed, 0); !ok {
		return "", false
	}
	return fixed, true
}

// healthcheckInstruction writes a shell-form HEALTHCHECK with hc's options.
func healthcheckInstruction(hc dockerspec.HealthcheckConfig, command string) string {
	var b strings.Builder
	b.WriteString("HEALTHCHECK")
	for _, o := range []struct {
		name string
		d    time.Duration
	}{{"interval", hc.Interval}, {"timeout", hc.Timeout}, {"start-period", hc.StartPeriod}, {"start-interval", hc.StartInterval}} {
		if o.d > 0 {
			fmt.Fprintf(&b, " --%s=%s", o.name, o.d)
		}
	}
	if hc.Retries > 0 {
		fmt.Fprintf(&b, " --retries=%d", hc.Retries)
	}
	return b.String() + " CMD " + command
}

// notRewritten says why a curl check was not rewritten to the probe
// (healthrewrite.go) when the reason is the one users meet: without -f,
// curl is healthy on any answer, and the probe on 2xx and 3xx only.
func notRewritten(command string) string {
	for _, c := range shellscript.Calls(command) {
		if len(c) == 0 || shellscript.CommandName(c[0]) != "curl" {
			continue
		}
		if _, ok := curlCheck(append(slices.Clone(c[1:]), "-f")); ok {
			return "; hardenkit did not rewrite it itself because without -f curl counts any answer, a 500 included, as healthy and the probe does not: write curl -f if an error answer means unhealthy, and it is rewritten"
		}
	}
	return ""
}

// commandURL returns the first http(s) URL among the words of the
// commands of a health check, as the shell would pass it.
func commandURL(command string) string {
	for _, c := range shellscript.Calls(command) {
		for _, w := range c {
			if strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://") {
				return w
			}
		}
	}
	return ""
}
