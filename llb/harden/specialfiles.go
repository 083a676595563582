package harden

// Device nodes, FIFOs and sockets.
//
//	HK2042 SpecialFileShipped  CIS 4.3 — a device node, named pipe or socket
//	                           in the shipped stage never ships: at enforce
//	                           the build fails naming each path, at warn the
//	                           path is left out and reported.
//
// A container gets its devices from the runtime (/dev is a tmpfs the
// runtime fills); a character device in the image itself (/dev/mem, 1:1)
// is a door around every other control, and a FIFO or socket is state of
// a process that no longer exists.

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleSpecialFile = rules.Rule{
	ID: "HK2042", Name: "SpecialFileShipped", Title: "Device node, FIFO or socket in the shipped stage",
	Family: rules.FamilyHardening, Severity: rules.SeverityHigh, Stage: rules.StageLLB, CIS: []string{"4.3"},
	Rationale:   "Devices come from the container runtime; a device node baked into the image (/dev/mem, a block device) bypasses the runtime's device policy, and FIFOs and sockets are leftovers of build-time processes.",
	Remediation: "Remove the RUN mknod/mkfifo (or the COPY that brings the node) from the shipped stage; let the runtime provide devices (docker run --device).",
	HelpURI:     rules.HelpURI("HK2042"),
}

// specialMode are the file types that never ship.
const specialMode = fs.ModeDevice | fs.ModeCharDevice | fs.ModeNamedPipe | fs.ModeSocket | fs.ModeIrregular

// isSpecial reports whether e is a device node, FIFO, socket or other
// non-file.
func isSpecial(e rootfs.Entry) bool { return e.Mode&specialMode != 0 }

// specialKind names the type of a special entry for messages.
func specialKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// dropSpecialFiles takes special files out of the plan: at enforce it
// fails naming them, at warn it reports them, at off it leaves the plan
// alone.
func dropSpecialFiles(in Input, final *rootfs.Tree, plan *fsPlan) error {
	level := in.Config.level(ruleSpecialFile)
	if level == rules.LevelOff {
		return nil
	}
	var found, paths []string
	special := map[string]bool{}
	for _, p := range plan.paths {
		if e, ok := final.Lookup(p); ok && isSpecial(e) {
			special[p] = true
			found = append(found, fmt.Sprintf("%s (%s, %s)", p, specialKind(e.Mode), e.Mode))
			paths = append(paths, p)
		}
	}
	if len(found) == 0 {
		return nil
	}
	if level == rules.LevelEnforce {
		return &Violation{Rule: ruleSpecialFile.ID, Ranges: in.Lines.From, Paths: boundPaths(paths),
			Message: "the shipped stage creates device nodes, FIFOs or sockets, which never ship: " + strings.Join(found, ", ") +
				"; remove the RUN mknod/mkfifo or COPY that makes them (the container runtime provides devices)"}
	}
	plan.paths = deleteFunc(plan.paths, special)
	if plan.include != nil {
		plan.include = deleteFunc(plan.include, special)
	}
	for p := range special {
		plan.exclude = append(plan.exclude, p)
	}
	for i, f := range found {
		plan.findings = append(plan.findings, rules.Finding{Rule: ruleSpecialFile.ID, Level: rules.LevelWarn, File: paths[i],
			Message: f + " is left out of the image: device nodes, FIFOs and sockets never ship"})
	}
	return nil
}

func deleteFunc(paths []string, drop map[string]bool) []string {
	out := paths[:0:0]
	for _, p := range paths {
		if !drop[p] {
			out = append(out, p)
		}
	}
	return out
}
