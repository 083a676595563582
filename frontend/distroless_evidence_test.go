package frontend

import (
	"testing"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/llb/harden"
	"github.com/hardenkit/hardenkit/pkg/keep"
	"github.com/hardenkit/hardenkit/pkg/tooling"
)

func TestDistrolessEvidence(t *testing.T) {
	if d := distrolessEvidence(harden.Result{}); d != nil {
		t.Errorf("strip mode gave %+v", d)
	}
	r := harden.Result{
		Rebased: true,
		Removed: []tooling.Match{
			{Path: "/usr/bin/bash", Category: tooling.Shell, Reason: tooling.ReasonName, Tool: "bash"},
			{Path: "/app/x", Category: tooling.Shell, Reason: tooling.ReasonShellBinary, Tool: "shell"},
		},
		NotAllowed: []keep.Dropped{
			{Path: "/usr/bin/mksh", Reason: "executable of package mksh that the image does not run"},
			{Path: "/usr/bin/socat", OutsideClosure: []string{"socat"}},
			{Path: "/usr/share/doc/socat/x", OutsideClosure: []string{"socat"}},
		},
		Executables:     []keep.Allowed{{Path: "/app/server", Reason: "entrypoint /app/server: root"}},
		RuntimePackages: map[string]string{"libc6": "owns /usr/lib/x86_64-linux-gnu/libc.so.6"},
		HandedOver:      []harden.Handover{{Path: "/data", Why: "WORKDIR of the image"}},
	}
	d := distrolessEvidence(r)
	if len(d.HandedOver) != 1 || d.HandedOver[0] != (compliance.HandedOver{Path: "/data", Why: "WORKDIR of the image"}) {
		t.Errorf("handedOver = %v", d.HandedOver)
	}
	why := map[string]compliance.Removal{}
	for _, rm := range d.Removed {
		why[rm.Path] = rm
	}
	want := map[string]string{
		"/usr/bin/bash": compliance.RemovedByName, "/app/x": compliance.RemovedByContent,
		"/usr/bin/mksh": compliance.RemovedByAllowlist, "package:socat": compliance.RemovedByAllowlist,
	}
	if len(why) != len(want) {
		t.Errorf("removed %+v, want %v", d.Removed, want)
	}
	for p, w := range want {
		if why[p].Why != w {
			t.Errorf("%s: why %q, want %q", p, why[p].Why, w)
		}
	}
	if got := why["package:socat"].Detail; got != "2 files; not in the runtime closure of what the image runs" {
		t.Errorf("socat detail %q", got)
	}
	if len(d.Executables) != 1 || len(d.RuntimePackages) != 1 {
		t.Errorf("executables %v packages %v", d.Executables, d.RuntimePackages)
	}
}
