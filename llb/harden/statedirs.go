package harden

// The application's state, for the non-root user.
//
//	HK2030 RunsAsRoot  CIS 4.1 — part of the non-root control (nonroot.go):
//	                   an image that runs as a non-root user must still be
//	                   able to write what it wrote when it ran as root.
//
// The rule. When the image runs as a non-root user (the Dockerfile's USER,
// or the injected 65532), that user owns, with their subtrees:
//
//   - the image's WORKDIR and each VOLUME;
//   - every directory the shipped stage's own instructions created (it is
//     in the shipped stage and not in its base) —
//
// each unless it is a system directory by the FHS (users.IsSystemPath:
// /usr, /etc, /lib*, /var/lib itself, /tmp, …; /var/lib/<x>, /srv/<x>,
// /opt/<x>, /home/<x>, /app, /data are the application's), or another
// user's home below /home. That is what a service gets from its package
// on a distribution (/var/lib/redis belongs to redis): the directories it
// writes, and the files the build wrote in them (`RUN manage.py migrate`
// leaves db.sqlite3, which every request then writes).
//
// Executables below those directories (a regular file with an execute
// bit) stay as the build left them, normally root's: CIS 4.x asks that
// application code need not be writable, and a process that can rewrite
// its own programs in place turns one bug into persistence. (Owning the
// directory still lets the user replace a file in it; that is the price
// of letting it create state there, as on any distribution.)
//
// The same holds for the directories pkg/keep hands over for the runtime
// closure's packages (/run, /var/lib/nginx). Every handed path is listed
// with why in the evidence (distroless.handedOver).

import (
	"context"
	"path"
	"sort"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/users"
)

// Handover is a directory handed to the image's non-root user, and why.
type Handover struct {
	// Path is the directory; its subtree goes with it unless Why says
	// it is a home (the directory alone).
	Path string `json:"path"`
	// Why says which rule handed it over.
	Why string `json:"why"`
}

// The reasons a directory is handed over, as the evidence shows them.
const (
	whyWorkdir   = "WORKDIR of the image"
	whyVolume    = "VOLUME of the image"
	whyCreated   = "created by the shipped stage outside system directories"
	whyRuntime   = "runtime directory (pid files, sockets, locks)"
	whyPkgState  = "state directory of a package the image runs"
	whyHomeOfFmt = "home of %s in /etc/passwd"
)

// appStateDirs returns the application's state directories in final, with
// why each is one, before collapsing to the topmost. base is the shipped
// stage's base (nil for scratch: everything was created by the stage);
// shipped are the paths that ship; passwd is the shipped /etc/passwd and
// uid the image's user.
func appStateDirs(cfg dockerspec.DockerOCIImageConfig, final, base *rootfs.Tree, shipped map[string]bool, passwd []byte, uid uint32) []Handover {
	foreign := otherHomes(passwd, uid)
	eligible := func(p string) bool {
		e, ok := final.Lookup(p)
		if !ok || !e.IsDir() || !shipped[p] || users.IsSystemPath(p) {
			return false
		}
		for _, h := range foreign {
			if p == h || rootfs.IsUnder(p, h) {
				return false
			}
		}
		return true
	}
	var out []Handover
	if wd := rootfs.Clean(cfg.WorkingDir); cfg.WorkingDir != "" && eligible(wd) {
		out = append(out, Handover{Path: wd, Why: whyWorkdir})
	}
	for v := range cfg.Volumes {
		if v := rootfs.Clean(v); eligible(v) {
			out = append(out, Handover{Path: v, Why: whyVolume})
		}
	}
	for _, e := range final.Entries() {
		if !e.IsDir() || !eligible(e.Path) {
			continue
		}
		if base != nil {
			if _, inBase := base.Lookup(e.Path); inBase {
				continue
			}
		}
		out = append(out, Handover{Path: e.Path, Why: whyCreated})
	}
	return out
}

// otherHomes are the homes below /home of passwd users other than uid:
// another account's files are not this user's state.
func otherHomes(passwd []byte, uid uint32) []string {
	entries, _ := users.ParsePasswd(passwd)
	var out []string
	for _, u := range entries {
		if h := rootfs.Clean(u.Home); u.UID != uid && u.Home != "" && rootfs.IsUnder(h, "/home") && h != "/home" {
			out = append(out, h)
		}
	}
	return out
}

// packageStateDirs describes the directories pkg/keep hands over.
func packageStateDirs(dirs []string) []Handover {
	out := make([]Handover, 0, len(dirs))
	for _, d := range dirs {
		why := whyPkgState
		if d == "/run" {
			why = whyRuntime
		}
		out = append(out, Handover{Path: d, Why: why})
	}
	return out
}

// topmost sorts hs by path and drops every directory below one already
// handed over (its subtree goes with it) and repeats of a path, keeping
// the first reason given for a path.
func topmost(hs []Handover) []Handover {
	first := map[string]int{}
	var uniq []Handover
	for _, h := range hs {
		if _, ok := first[h.Path]; !ok {
			first[h.Path] = len(uniq)
			uniq = append(uniq, h)
		}
	}
	sort.SliceStable(uniq, func(i, j int) bool { return uniq[i].Path < uniq[j].Path })
	var out []Handover
	for _, h := range uniq {
		if n := len(out); n > 0 && rootfs.IsUnder(h.Path, out[n-1].Path) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// rootOwnedExecutables are the executables that ship below dirs: they stay
// as the build left them when their directory is handed over.
func rootOwnedExecutables(final *rootfs.Tree, paths, dirs []string) []string {
	var out []string
	for _, p := range paths {
		e, ok := final.Lookup(p)
		if !ok || !e.IsRegular() || !e.IsExecutable() {
			continue
		}
		for _, d := range dirs {
			if rootfs.IsUnder(p, d) && p != d {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// handed is what the plan gives the non-root user besides pkg/keep's
// state directories, and the layout every image gets.
type handed struct {
	// handovers are the directories handed over, with why, sorted.
	handovers []Handover
	// rootOwned are executables below the handed directories that keep
	// their owner.
	rootOwned []string
	// layout are the directories and links written with exact metadata.
	layout []LayoutEntry
}

// handOverState completes plan for the image's user (plan.owner, nil when
// it is root): for a non-root user
// the application's and the packages' state directories (plan.stateDirs
// becomes them all) and the executables below them that stay root's; for
// every image the layout and, for a non-root user, its home.
func handOverState(ctx context.Context, in Input, final *rootfs.Tree, src rootfs.Source, base func() (*rootfs.Tree, error), plan *fsPlan) error {
	shipped := make(map[string]bool, len(plan.paths))
	for _, p := range plan.paths {
		shipped[p] = true
	}
	passwd, err := shippedFile(ctx, final, src, *plan, passwdPath)
	if err != nil {
		return err
	}
	li := layoutInput{final: final, shipped: shipped, passwd: passwd, sticky: in.Config.level(ruleWorldWritable) != rules.LevelOff}
	if plan.owner != nil {
		b, err := base()
		if err != nil {
			return err
		}
		hs := append(packageStateDirs(plan.stateDirs), appStateDirs(in.Image.Config, final, b, shipped, passwd, plan.owner.uid)...)
		plan.handovers = topmost(hs)
		plan.stateDirs = nil
		for _, h := range plan.handovers {
			plan.stateDirs = append(plan.stateDirs, h.Path)
		}
		plan.rootOwned = rootOwnedExecutables(final, plan.paths, plan.stateDirs)
		plan.exclude = append(plan.exclude, unshippedBelow(final, shipped, plan.stateDirs)...)
		li.owned, li.owner = plan.stateDirs, plan.owner
	}
	layout, homes := decideLayout(li)
	plan.layout = layout
	plan.handovers = append(plan.handovers, homes...)
	return nil
}

// unshippedBelow are the topmost paths below dirs that do not ship: a
// handed directory is copied with its subtree, which must not bring back
// what the plan left out (a dropped directory is never in the plan's
// excludes, since an exclude takes a subtree).
func unshippedBelow(final *rootfs.Tree, shipped map[string]bool, dirs []string) []string {
	var out []string
	for _, d := range dirs {
		for _, p := range final.Below(d) {
			if p != d && !shipped[p] && shipped[path.Dir(p)] {
				out = append(out, p)
			}
		}
	}
	return out
}
