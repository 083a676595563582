package harden

// Timestamps and ordering normalised.
//
//	HK2001 TimestampsNotNormalised — every file of the shipped layer has the
//	                                 build's SOURCE_DATE_EPOCH as its time,
//	                                 the config's created and history times
//	                                 are that epoch too, and the layer is
//	                                 written by one copy in a fixed order.
//
// This is what one build can check, and all HK2001 claims: it says nothing
// about the content the build's steps wrote (a RUN that writes `date` into
// a file passes it). Whether the content is reproduced is a separate claim
// that only a second build proves (`hardenkit rebuild`); the compliance
// statement keeps the two apart (reproducibility.normalised vs
// reproducibility.contentReproduced).
//
// The shipped filesystem is written with one llb.Copy into scratch with
// llb.WithCreatedTime: BuildKit's copier then stamps every file and
// directory with the epoch, so two builds on two daemons produce the same
// layer bytes without rewrite-timestamp or any client flag. The config gets
// one history entry for that one layer, so the exporter adds none with a
// wall-clock time.

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleReproducible = rules.Rule{
	ID: "HK2001", Name: "TimestampsNotNormalised", Title: "Shipped layer or config timestamps and ordering not normalised to SOURCE_DATE_EPOCH",
	Family: rules.FamilyReproducibility, Severity: rules.SeverityMedium, Stage: rules.StageLLB,
	Rationale: "An image whose bytes depend on when it was built cannot be rebuilt to verify it. Passing this control means timestamps and ordering were normalised, " +
		"not that the image is reproducible: content a build step writes (a date, a random name) is only caught by a rebuild (hardenkit rebuild).",
	Remediation: "Nothing to change: hardenkit stamps every file with SOURCE_DATE_EPOCH (build arg, git commit time of a git context, or the policy's epoch default). " +
		"To prove the content reproduces, run hardenkit rebuild on the image.",
	HelpURI: rules.HelpURI("HK2001"),
}

// writeLayer builds the hardened filesystem: the shipped files of final,
// the generated files over them, then one normalising copy into scratch.
func writeLayer(final llb.State, plan fsPlan, epoch time.Time, p ocispecs.Platform, noCache bool) llb.State {
	var opts []llb.ConstraintsOpt
	if noCache {
		opts = append(opts, llb.IgnoreCache)
	}
	named := func(name string) []llb.ConstraintsOpt {
		return append([]llb.ConstraintsOpt{llb.WithCustomName(name)}, opts...)
	}
	owned := plan.ownedStateDirs()
	selected := llb.Scratch().Platform(p).File(llb.Copy(final, "/", "/", &llb.CopyInfo{
		CopyDirContentsOnly: true,
		IncludePatterns:     nilIfEmpty(copyPatterns(plan.include)),
		ExcludePatterns:     copyPatterns(append(slices.Clone(plan.exclude), owned...)),
		AllowEmptyWildcard:  true,
	}), named("[hardenkit] "+plan.summary())...)
	// State directories are copied again, subtree and all, owned by the
	// image's user; the normalising copy below stamps their times.
	for _, dir := range owned {
		selected = selected.File(llb.Copy(final, dir, dir, &llb.CopyInfo{
			CreateDestPath:     true,
			AllowEmptyWildcard: true,
			ExcludePatterns:    copyPatterns(relativeBelow(plan.exclude, dir)),
			ChownOpt: &llb.ChownOpt{
				User:  &llb.UserOpt{UID: int(plan.owner.uid)},
				Group: &llb.UserOpt{UID: int(plan.owner.gid)},
			},
		}), named(fmt.Sprintf("[hardenkit] %s owned by %d:%d", dir, plan.owner.uid, plan.owner.gid))...)
		// Its executables are copied again as the build left them: the
		// user gets the state, not the programs (statedirs.go).
		if exes := relativeBelow(plan.rootOwned, dir); len(exes) > 0 {
			selected = selected.File(llb.Copy(final, dir, dir, &llb.CopyInfo{
				CopyDirContentsOnly: true,
				IncludePatterns:     copyPatterns(exes),
				AllowEmptyWildcard:  true,
			}), named(fmt.Sprintf("[hardenkit] %s: %d executables keep their owner", dir, len(exes)))...)
		}
	}

	for _, name := range slices.Sorted(maps.Keys(plan.generated)) {
		if dir := path.Dir(name); dir != "/" && !ships(plan, dir) {
			selected = selected.File(llb.Mkdir(dir, 0o755, llb.WithParents(true)), opts...)
		}
		selected = selected.File(llb.Mkfile(name, 0o644, plan.generated[name]), named("[hardenkit] write "+name)...)
	}

	if len(plan.layout) > 0 {
		selected = selected.File(llb.Copy(layoutState(plan.layout, p, opts), "/", "/", &llb.CopyInfo{CopyDirContentsOnly: true}),
			named("[hardenkit] layout: "+layoutSummary(plan.layout))...)
	}

	return llb.Scratch().Platform(p).File(llb.Copy(selected, "/", "/", &llb.CopyInfo{
		CopyDirContentsOnly: true,
		Mode:                stripSetuid,
		CreatedTime:         &epoch,
	}), named(fmt.Sprintf("[hardenkit] write reproducible layer (SOURCE_DATE_EPOCH=%d)", epoch.Unix()))...)
}

// relativeBelow returns the paths strictly below dir, relative to it (as
// absolute paths of a copy whose source is dir).
func relativeBelow(paths []string, dir string) []string {
	var out []string
	for _, p := range paths {
		if p != dir && rootfs.IsUnder(p, dir) {
			out = append(out, strings.TrimPrefix(p, dir))
		}
	}
	return out
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// hardenedConfig is the image config of the hardened layer.
func hardenedConfig(in Input, user string, plan fsPlan) (*dockerspec.DockerOCIImage, error) {
	img, err := cloneImage(in.Image)
	if err != nil {
		return nil, err
	}
	epoch := in.Epoch.UTC()
	img.Created = &epoch
	img.Config.User = user
	img.RootFS = ocispecs.RootFS{Type: "layers"}
	img.History = []ocispecs.History{{
		Created:   &epoch,
		CreatedBy: fmt.Sprintf("hardenkit: %s of the shipped stage (%d paths, %d tools removed)", in.Config.Distroless.Mode, len(plan.paths), len(plan.removed)),
		Comment:   "hardenkit",
	}}
	return img, nil
}

// cloneImage deep-copies an image config.
func cloneImage(img *dockerspec.DockerOCIImage) (*dockerspec.DockerOCIImage, error) {
	dt, err := json.Marshal(img)
	if err != nil {
		return nil, fmt.Errorf("copying image config: %w", err)
	}
	var out dockerspec.DockerOCIImage
	if err := json.Unmarshal(dt, &out); err != nil {
		return nil, fmt.Errorf("copying image config: %w", err)
	}
	return &out, nil
}
