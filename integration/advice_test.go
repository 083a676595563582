package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Advice is tested by following it (issue 21): every refusal of the
// application suite, and the refusals of testdata/advice, says how to fix
// the Dockerfile as machine-applicable edits (rules.Fix, rendered as
// "  fix: …" lines after the prose). The test applies them as a program
// would, builds hardened again and requires the image to answer exactly
// as the plain build of the ORIGINAL Dockerfile: advice that builds but
// gives an image that does not work is a defect of the advice.

// adviceCases are refusals beyond the application suite's, each a
// pattern people write: a gosu entrypoint script, a CMD that drops to a
// user with gosu (Debian has no su-exec), a curl HEALTHCHECK without -f.
var adviceCases = []appCase{
	{name: "gosu-python", port: 27190, path: "/", want: "hello from gosu python as app, visits=1",
		buildError: []string{`ENTRYPOINT ["python3", "/app/server.py"]`, "USER app"}},
	{name: "gosu-cmd", port: 27191, path: "/", want: "hello from a user-switching CMD as web",
		buildError: []string{`ENTRYPOINT ["python3", "/srv/server.py"]`, "USER web"}},
	{name: "curl-healthcheck", port: 27192, path: "/", want: "hello from a curl-checked service without -f",
		buildError: []string{"curl -f", "hardenkit-probe"}},
}

// adviceGaps are refusals of the suite whose advice cannot be followed
// mechanically yet, with why; each is an open defect, not an exemption.
var adviceGaps = map[string]string{
	"apache2": "apache2ctl is a control script that runs $HTTPD without exec and prepares directories with its own shell functions: " +
		"HK2011 spells out the environment it sources, but its fix is not mechanically applicable (the exec-form CMD and the RUN steps are left to the user)",
	"entrypoint-perl": "the script renders its configuration file from the environment with a heredoc (cat > … <<CONF): " +
		"HK2011's fix writes the exec-form ENTRYPOINT and the mkdir, and says that RUN step is the user's to write",
}

// TestAdviceFollowed builds each refused application hardened, applies
// the fix its error carries to the Dockerfile, builds hardened again and
// compares the answer with the plain build of the original.
func TestAdviceFollowed(t *testing.T) {
	for _, app := range appCases {
		if gap, ok := adviceGaps[app.name]; ok {
			// Not silent: the refusal itself is still asserted by
			// TestApplications; only following its advice is not yet
			// proved here.
			t.Logf("%s: advice not followed by this test: %s", app.name, gap)
			continue
		}
		if app.buildError != nil {
			t.Run(app.name, func(t *testing.T) { followAdvice(t, app, filepath.Join("testdata", "apps", app.name)) })
		}
	}
	for _, app := range adviceCases {
		t.Run(app.name, func(t *testing.T) { followAdvice(t, app, filepath.Join("testdata", "advice", app.name)) })
	}
}

// followAdvice is one case of TestAdviceFollowed.
func followAdvice(t *testing.T, app appCase, src string) {
	ctx := context.Background()
	npmrc := npmrcSecret(t)
	dir := pinDockerfile(ctx, t, src, map[string][]byte{"npmrc": npmrc})
	plain, err := build(ctx, t, gateway, appRequest(dir, "off", npmrc))
	if err != nil {
		t.Fatalf("plain build: %v\n%s", err, tail(plain.progress, 40))
	}
	plainAnswer := probeApp(ctx, t, app, plain.oci)
	if !strings.Contains(plainAnswer, app.want) {
		t.Fatalf("the plain build answered\n%s\nwant it to contain %q", plainAnswer, app.want)
	}

	_, herr := build(ctx, t, gateway, appRequest(dir, "enforce", npmrc))
	if herr == nil {
		t.Fatalf("the hardened build of the original Dockerfile succeeded; want a refusal with %q", app.buildError)
	}
	for _, want := range app.buildError {
		if !strings.Contains(herr.Error(), want) {
			t.Errorf("the refusal lacks %q:\n%v", want, herr)
		}
	}
	fix, ok, err := rules.ParseFix(herr.Error())
	if err != nil || !ok {
		t.Fatalf("the refusal carries no fix (ok=%v, err=%v):\n%v", ok, err, herr)
	}
	if !fix.Applicable() {
		t.Skipf("the advice is not mechanically applicable (%s); edits it did write: %v", fix.Manual, fix.Edits)
	}
	dockerfile := filepath.Join(dir, "Dockerfile")
	orig, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := fix.Apply(orig)
	if err != nil {
		t.Fatalf("applying%s: %v", fix, err)
	}
	if err := os.WriteFile(dockerfile, fixed, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("the Dockerfile with the advice followed:\n%s", fixed)

	hardened, err := build(ctx, t, gateway, appRequest(dir, "enforce", npmrc))
	if err != nil {
		t.Fatalf("the hardened build with the advice followed failed: %v", err)
	}
	if got := probeApp(ctx, t, app, hardened.oci); got != plainAnswer {
		t.Errorf("with the advice followed the hardened image answered\n%s\nthe plain build of the original\n%s", got, plainAnswer)
	}
}
