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
			{Path: "/usr/lib/x86_64-linux-gnu/libz.so.1", Loadable: true, Reason: "shared object on the library search path"},
		},
		LeftOut: keep.LeftOut{LoadableOmitted: 3, Packages: []keep.PackageLeftOut{
			{Package: "libc6", Version: "2.36-9", Files: 4},
			{Package: "socat", Version: "1.7.4.4-2", Files: 2},
			{Dir: "/var/lib/apt", Files: 7},
		}},
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
		"/usr/lib/x86_64-linux-gnu/libz.so.1": compliance.RemovedLoadable,
		"package:libc6":                       compliance.RemovedNotInClosure, "unpackaged:/var/lib/apt": compliance.RemovedNotInClosure,
	}
	if len(why) != len(want) {
		t.Errorf("removed %+v, want %v", d.Removed, want)
	}
	for p, w := range want {
		if why[p].Why != w {
			t.Errorf("%s: why %q, want %q", p, why[p].Why, w)
		}
	}
	if got := why["package:socat"]; got.Detail != "2 files; not in the runtime closure of what the image runs, and no kept program could load them" ||
		got.Package != "socat" || got.Version != "1.7.4.4-2" || got.Files != 2 {
		t.Errorf("socat summary %+v", got)
	}
	if got := why["/usr/lib/x86_64-linux-gnu/libz.so.1"].Detail; got != "shared object on the library search path" {
		t.Errorf("libz detail %q", got)
	}
	if d.LoadableOmitted != 3 {
		t.Errorf("loadableOmitted = %d, want 3", d.LoadableOmitted)
	}
	if len(d.Executables) != 1 || len(d.RuntimePackages) != 1 {
		t.Errorf("executables %v packages %v", d.Executables, d.RuntimePackages)
	}
}
