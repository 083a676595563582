package harden

// Non-root user.
//
//	HK2030 RunsAsRoot  CIS 4.1 — the image's USER must resolve, through the
//	                   hardened /etc/passwd and /etc/group, to a non-zero UID
//	                   and GID.
//
// With no USER the policy's user is injected (controls.user, 65532:65532
// by default) with matching nonroot entries in passwd and group. The config
// User is always written numerically, so Kubernetes runAsNonRoot can
// verify it without reading the image. Users whose login shell does not
// ship (hardening removed the shells) get /usr/sbin/nologin in the
// shipped passwd, so that it describes the image it is in (HK3022).

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/users"
)

var ruleRunsAsRoot = rules.Rule{
	ID: "HK2030", Name: "RunsAsRoot", Title: "Image runs as root",
	Family: rules.FamilyNonRoot, Severity: rules.SeverityHigh, Stage: rules.StageLLB, CIS: []string{"4.1"},
	Rationale:   "A process running as UID 0 or GID 0 in a container is one kernel or runtime bug away from root on the host, and can rewrite everything in its image.",
	Remediation: "End the shipped stage with USER 65532:65532 (or a named non-root user that exists in /etc/passwd), or drop USER so hardenkit injects one.",
	HelpURI:     rules.HelpURI("HK2030"),
}

const (
	passwdPath = "/etc/passwd"
	groupPath  = "/etc/group"
	// injectedName is the name the injected user and group get, as in
	// distroless images.
	injectedName = "nonroot"
)

// identity is who the hardened image runs as.
type identity struct {
	user string
	// uid and gid are user resolved to numbers.
	uid, gid  uint32
	injected  bool
	generated map[string][]byte
	findings  []rules.Finding
}

func resolveUser(ctx context.Context, in Input, final *rootfs.Tree, src rootfs.Source, plan fsPlan) (identity, error) {
	passwd, err := shippedFile(ctx, final, src, plan, passwdPath)
	if err != nil {
		return identity{}, err
	}
	group, err := shippedFile(ctx, final, src, plan, groupPath)
	if err != nil {
		return identity{}, err
	}
	// Login shells that do not ship (hardening removed them) become
	// nologin: the shipped passwd describes the image that ships
	// (HK3022). The rewrite depends on passwd and the plan only, so every
	// build writes the same bytes.
	passwd, rewritten := users.ReplaceMissingShells(passwd, shipsRegularFile(final, plan))
	id, err := identify(in, passwd, group)
	if err != nil {
		return identity{}, err
	}
	if _, ok := id.generated[passwdPath]; rewritten && !ok {
		if id.generated == nil {
			id.generated = map[string][]byte{}
		}
		id.generated[passwdPath] = passwd
	}
	return id, nil
}

// shipsRegularFile returns a function reporting whether a path resolves,
// in the hardened filesystem, to a regular file: the file and every
// symlink crossed on the way (/bin → usr/bin) are in the plan.
func shipsRegularFile(final *rootfs.Tree, plan fsPlan) func(string) bool {
	shipped := make(map[string]bool, len(plan.paths))
	for _, p := range plan.paths {
		shipped[p] = true
	}
	return func(p string) bool {
		r, ok := final.ResolveLinks(rootfs.Clean(p), true)
		if !ok || !shipped[r.Path] {
			return false
		}
		for _, l := range r.Links {
			if !shipped[l] {
				return false
			}
		}
		e, _ := final.Lookup(r.Path)
		return e.IsRegular()
	}
}

// identify decides who the image runs as, given the passwd and group it
// ships.
func identify(in Input, passwd, group []byte) (identity, error) {
	level := in.Config.level(ruleRunsAsRoot)
	user := in.Image.Config.User
	ctl := in.Config.User

	if user == "" && ctl.Inject && level != rules.LevelOff {
		uid, gid := uint32(ctl.UID), uint32(ctl.GID)
		if users.IsRoot(uid, gid) {
			return identity{}, fmt.Errorf("policy %s: controls.user injects %d:%d, which is root", in.Config.Policy, uid, gid)
		}
		newPasswd, newGroup := users.InjectNonroot(passwd, group, uid, gid, injectedName)
		return identity{
			user:      fmt.Sprintf("%d:%d", uid, gid),
			uid:       uid,
			gid:       gid,
			injected:  true,
			generated: map[string][]byte{passwdPath: newPasswd, groupPath: newGroup},
		}, nil
	}

	id, err := users.ResolveIdentity(user, passwd, group)
	if err != nil {
		return identity{}, &Violation{Rule: ruleRunsAsRoot.ID, Ranges: in.Lines.User,
			Message: fmt.Sprintf("USER %q does not resolve in the image's /etc/passwd and /etc/group: %v", user, err)}
	}
	resolved := fmt.Sprintf("%d:%d", id.UID, id.GID)
	if !users.IsRoot(id.UID, id.GID) || level == rules.LevelOff {
		return identity{user: resolved, uid: id.UID, gid: id.GID}, nil
	}
	what := fmt.Sprintf("the image runs as %s (USER %q)", resolved, user)
	if user == "" {
		what = "the image runs as root: no USER is set and the policy does not inject one"
	}
	if level == rules.LevelWarn {
		return identity{user: resolved, uid: id.UID, gid: id.GID, findings: []rules.Finding{{Rule: ruleRunsAsRoot.ID, Level: rules.LevelWarn, Message: what}}}, nil
	}
	return identity{}, &Violation{Rule: ruleRunsAsRoot.ID, Ranges: in.Lines.User,
		Message: what + "; use a non-root user such as USER 65532:65532"}
}

// shippedFile returns the content a file will have in the hardened image,
// or nil when it will not exist.
func shippedFile(ctx context.Context, final *rootfs.Tree, src rootfs.Source, plan fsPlan, p string) ([]byte, error) {
	if dt, ok := plan.generated[p]; ok {
		return dt, nil
	}
	target, ok := final.Resolve(p)
	if !ok {
		return nil, nil
	}
	e, ok := final.Lookup(target)
	if !ok || !e.Mode.IsRegular() || !ships(plan, p) {
		return nil, nil
	}
	dt, err := src.ReadFile(ctx, target, 0, 0)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return dt, nil
}

// ships reports whether p is in the plan's shipped paths.
func ships(plan fsPlan, p string) bool {
	for _, x := range plan.paths {
		if x == p {
			return true
		}
	}
	return false
}
