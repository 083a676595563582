package inspect

// World-writable files and directories.
//
//	HK3012 WorldWritableInImage  (no CIS §4 item)
//
// Sticky directories are exempt: a world-writable directory with the
// sticky bit (/tmp, /var/tmp, /run/lock, /dev/shm) lets everyone create
// files but only their owners delete or rename them. The exemption covers
// the directory itself only: a world-writable file or directory below
// it (a 0777 binary in /var/tmp, a 0666 library on LD_LIBRARY_PATH) is a
// finding like anywhere else. Symlinks are always
// 0777 and device nodes are the runtime's business: only regular files
// and directories are checked.

import (
	"context"
	"io/fs"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleWorldWritable = imageRule(rules.Rule{
	ID: "HK3012", Name: "WorldWritableInImage", Title: "World-writable file or directory in the final image",
	Family: rules.FamilyHardening, Severity: rules.SeverityMedium,
	Rationale:   "Any process in the container, whatever its user, can change a world-writable file or replace what a world-writable directory holds: code, configuration or data the application trusts.",
	Remediation: "Remove the write bit for others (chmod o-w); give the application's user ownership of what it must write, or set the sticky bit on a shared scratch directory.",
})

var worldWritableCheck = check{rules: []rules.Rule{ruleWorldWritable}, run: checkWorldWritable}

func checkWorldWritable(_ context.Context, e *env) ([]rules.Finding, error) {
	var out []rules.Finding
	for _, ent := range e.in.Tree.Entries() {
		if ent.Mode.Perm()&0o002 == 0 || !(ent.IsRegular() || ent.IsDir()) {
			continue
		}
		if ent.IsDir() && ent.Mode&fs.ModeSticky != 0 {
			continue
		}
		kind := "file"
		if ent.IsDir() {
			kind = "directory"
		}
		out = append(out, finding(ruleWorldWritable, ent.Path, 0, "%s is a world-writable %s (mode %s)", ent.Path, kind, rootfs.ModeString(ent.Mode)))
	}
	return out, nil
}
