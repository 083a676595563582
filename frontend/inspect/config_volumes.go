package inspect

// Volumes over kernel filesystems.
//
//	HK3042 SensitiveVolume  (no CIS §4 item; dockle DKL-DI-0002) — a
//	                        VOLUME on /proc, /sys or /dev, or below them.

import (
	"context"
	"maps"
	"path"
	"slices"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSensitiveVolume = imageRule(rules.Rule{
	ID: "HK3042", Name: "SensitiveVolume", Title: "Image config declares a volume on /proc, /sys or /dev",
	Family: rules.FamilyHardening, Severity: rules.SeverityHigh,
	Rationale:   "A volume over a kernel filesystem invites mounting the host's /proc, /sys or /dev into the container, which hands it control of the host.",
	Remediation: "Remove the VOLUME; mount what the application needs explicitly and narrowly at run time.",
})

var configVolumesCheck = check{rules: []rules.Rule{ruleSensitiveVolume}, run: checkConfigVolumes}

// kernelDirs are the mount points of the kernel's filesystems.
var kernelDirs = []string{"/proc", "/sys", "/dev"}

func checkConfigVolumes(_ context.Context, e *env) ([]rules.Finding, error) {
	var out []rules.Finding
	for _, v := range slices.Sorted(maps.Keys(e.in.Image.Config.Volumes)) {
		p := path.Clean("/" + v)
		for _, d := range kernelDirs {
			if rootfs.IsUnder(p, d) {
				out = append(out, finding(ruleSensitiveVolume, "", 0, "image config declares VOLUME %s, on the kernel's %s", v, d))
				break
			}
		}
	}
	return out, nil
}
