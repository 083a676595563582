package rootfs

import (
	"fmt"
	"io/fs"
)

// ModeString formats m the way `ls -l` and `stat -c %A` do, followed by the
// octal permission and special bits, e.g. "drwx-wx-wt (1733)": the form
// users read and type. fs.FileMode.String puts the special bits in front
// ("dtrwx-wx-wx") and Perm drops them with the type ("-rwx-wx-wx"), so a
// sticky directory would read as a plain world-writable file.
func ModeString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	}
	const rwx = "rwxrwxrwx"
	for i := range 9 {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	special := func(pos int, set bool, exec, noExec byte) {
		if !set {
			return
		}
		if b[pos] == 'x' {
			b[pos] = exec
		} else {
			b[pos] = noExec
		}
	}
	special(3, m&fs.ModeSetuid != 0, 's', 'S')
	special(6, m&fs.ModeSetgid != 0, 's', 'S')
	special(9, m&fs.ModeSticky != 0, 't', 'T')
	return fmt.Sprintf("%s (%04o)", b, UnixPerm(m))
}

// UnixPerm returns m's permission bits with setuid (04000), setgid (02000)
// and sticky (01000) in their Unix positions, as chmod takes them.
func UnixPerm(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}
