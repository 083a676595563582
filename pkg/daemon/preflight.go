package daemon

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// fallbackBuildkitVersion is used in install hints when the build info does
// not record which buildkit module hardenkit was built against (e.g. in
// tests); it matches go.mod.
const fallbackBuildkitVersion = "v0.34.2"

// Preflight checks that this machine can run the embedded buildkitd with the
// given binary ("" means the default lookup of Config.Binary). The error, if
// any, lists every problem found together with the command that fixes it.
func Preflight(binary string) error {
	var problems []string
	if runtime.GOOS != "linux" {
		problems = append(problems, fmt.Sprintf("the embedded buildkitd needs Linux (this is %s): point --addr or $BUILDKIT_HOST at a buildkitd running elsewhere", runtime.GOOS))
	}
	if os.Geteuid() != 0 {
		problems = append(problems, "run as root (rootless is not supported by the embedded daemon), e.g. with sudo, or point --addr or $BUILDKIT_HOST at a running buildkitd")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		problems = append(problems, "runc is not on $PATH: install it, e.g. \"apt-get install -y runc\"")
	}
	if _, err := resolveBinary(binary); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("cannot run the embedded buildkitd:\n  - %s", strings.Join(problems, "\n  - "))
}

// resolveBinary finds the buildkitd executable. Looking next to our own
// executable first means "make install", which installs both side by side,
// wins over whatever version happens to be on $PATH.
func resolveBinary(binary string) (string, error) {
	if binary != "" {
		if strings.ContainsRune(binary, filepath.Separator) {
			if err := checkExecutable(binary); err != nil {
				return "", fmt.Errorf("buildkitd binary %s: %v: %s", binary, err, installHint())
			}
			return filepath.Abs(binary)
		}
		p, err := exec.LookPath(binary)
		if err != nil {
			return "", fmt.Errorf("buildkitd binary %q not found on $PATH: %s", binary, installHint())
		}
		return p, nil
	}
	var nextTo string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		nextTo = filepath.Join(filepath.Dir(exe), "buildkitd")
		if checkExecutable(nextTo) == nil {
			return nextTo, nil
		}
	}
	if p, err := exec.LookPath("buildkitd"); err == nil {
		return filepath.Abs(p)
	}
	where := "on $PATH"
	if nextTo != "" {
		where = fmt.Sprintf("at %s or on $PATH", nextTo)
	}
	return "", fmt.Errorf("buildkitd not found %s: %s", where, installHint())
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return errors.New("is not executable")
	}
	return nil
}

func installHint() string {
	return fmt.Sprintf("install it with \"go install github.com/moby/buildkit/cmd/buildkitd@%s\" or run \"make build\" in the hardenkit checkout (it puts buildkitd next to hardenkit in bin/)", buildkitVersion())
}

// buildkitVersion is the buildkit module version hardenkit was built with, so
// the install hint names a daemon that speaks the same API.
func buildkitVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == "github.com/moby/buildkit" {
				if dep.Replace != nil && dep.Replace.Version != "" {
					return dep.Replace.Version
				}
				if dep.Version != "" && dep.Version != "(devel)" {
					return dep.Version
				}
			}
		}
	}
	return fallbackBuildkitVersion
}
