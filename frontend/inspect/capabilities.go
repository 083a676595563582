package inspect

// File capabilities.
//
//	HK3011 FileCapabilityInImage  (no CIS §4 item; the same escalation
//	                              path as CIS 4.8's setuid bits)
//
// A security.capability extended attribute grants its capabilities to
// whoever executes the file, like a fine-grained setuid bit.

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleCapabilities = imageRule(rules.Rule{
	ID: "HK3011", Name: "FileCapabilityInImage", Title: "File with capabilities (security.capability) in the final image",
	Family: rules.FamilyHardening, Severity: rules.SeverityHigh,
	Rationale:   "File capabilities (setcap) give every process that executes the file privileges such as cap_net_raw or cap_sys_admin: setuid in finer grain, and overlooked by checks that only look at mode bits.",
	Remediation: "Remove the attribute (setcap -r) or the program, and grant the capability the application needs through the runtime (--cap-add, securityContext.capabilities) where it is visible and reviewable.",
})

var capabilitiesCheck = check{rules: []rules.Rule{ruleCapabilities}, run: checkCapabilities}

// capabilityXattr is the extended attribute holding file capabilities.
const capabilityXattr = "security.capability"

func checkCapabilities(_ context.Context, e *env) ([]rules.Finding, error) {
	var out []rules.Finding
	for _, ent := range e.in.Tree.Entries() {
		v, ok := ent.Xattrs[capabilityXattr]
		if !ok {
			continue
		}
		out = append(out, finding(ruleCapabilities, ent.Path, 0, "%s has file capabilities: %s", ent.Path, describeCaps(v)))
	}
	return out, nil
}

// Revisions of struct vfs_cap_data (linux/capability.h): the top byte of
// magic_etc, and the effective flag in its lowest bit.
const (
	vfsCapRevisionMask = 0xFF000000
	vfsCapRevision1    = 0x01000000
	vfsCapRevision2    = 0x02000000
	vfsCapRevision3    = 0x03000000
	vfsCapEffective    = 0x000001
)

// capNames are the capability numbers' names (linux/capability.h).
var capNames = []string{
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
	"setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
	"sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
	"lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
	"wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
}

// describeCaps renders a vfs_cap_data value the way getcap(8) does
// ("cap_net_raw=ep"), or says it cannot be decoded: the attribute is a
// finding whatever its content.
func describeCaps(v []byte) string {
	if len(v) < 4 {
		return "undecodable value"
	}
	magic := binary.LittleEndian.Uint32(v)
	words := 0
	switch magic & vfsCapRevisionMask {
	case vfsCapRevision1:
		words = 1
	case vfsCapRevision2, vfsCapRevision3:
		words = 2
	default:
		return fmt.Sprintf("unknown revision %#x", magic&vfsCapRevisionMask)
	}
	if len(v) < 4+8*words {
		return "truncated value"
	}
	var permitted, inheritable uint64
	for i := range words {
		permitted |= uint64(binary.LittleEndian.Uint32(v[4+8*i:])) << (32 * i)
		inheritable |= uint64(binary.LittleEndian.Uint32(v[8+8*i:])) << (32 * i)
	}
	var names []string
	for i := range 64 {
		bit := uint64(1) << i
		if (permitted|inheritable)&bit == 0 {
			continue
		}
		name := fmt.Sprintf("cap_%d", i)
		if i < len(capNames) {
			name = "cap_" + capNames[i]
		}
		flags := ""
		if magic&vfsCapEffective != 0 {
			flags += "e"
		}
		if inheritable&bit != 0 {
			flags += "i"
		}
		if permitted&bit != 0 {
			flags += "p"
		}
		names = append(names, name+"="+flags)
	}
	if len(names) == 0 {
		return "an empty capability set"
	}
	return strings.Join(names, " ")
}
