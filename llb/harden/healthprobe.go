package harden

// HK2024's advice for health checks: a distroless image has no shell, curl
// or wget to run `HEALTHCHECK CMD curl -f http://… || exit 1`, so the fix
// is hardenkit's static probe, which ships in the frontend image at
// /bin/hardenkit-probe (cmd/hardenkit-probe) for a Dockerfile to copy in.

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

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
