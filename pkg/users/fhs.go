package users

import "strings"

// Which directories a non-root image user may be given, by the Filesystem
// Hierarchy Standard: the system's directories stay root's, a service's
// own directories below the FHS roots for variable data (/var/lib/<x>,
// /var/cache/<x>, /var/log/<x>, /var/spool/<x>), /srv/<x>, /opt/<x>,
// /home/<x> and directories outside the hierarchy (/app, /data) are the
// application's.

// systemTrees are hierarchies whose every directory is the system's:
// programs, libraries, configuration, the kernel's and root's files, and
// the runtime and temporary directories (given their own modes by the
// layout, never handed over as build-time state).
var systemTrees = []string{
	"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run",
	"/sbin", "/sys", "/tmp", "/usr", "/var/lock", "/var/run", "/var/tmp",
}

// sourceTrees are the FHS places for source code below /usr, where
// communities put applications (Node's `WORKDIR /usr/src/app`): their
// subdirectories are the application's.
var sourceTrees = []string{"/usr/src", "/usr/local/src"}

// fhsRoots are the directories that hold applications' directories: each
// stays the system's, what is below it is not.
var fhsRoots = []string{
	"/", "/home", "/media", "/mnt", "/opt", "/srv", "/var", "/var/cache", "/var/lib", "/var/local",
	"/var/log", "/var/mail", "/var/opt", "/var/spool", "/var/www",
}

// IsSystemPath reports whether p (absolute, cleaned) is a directory of the
// system, or below one, that a non-root image user must never own: see
// the package's FHS rule above. Directories below /usr/src and
// /usr/local/src are the application's.
func IsSystemPath(p string) bool {
	for _, r := range fhsRoots {
		if p == r {
			return true
		}
	}
	for _, s := range sourceTrees {
		if strings.HasPrefix(p, s+"/") {
			return false
		}
	}
	for _, t := range systemTrees {
		if p == t || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}
