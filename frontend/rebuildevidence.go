package frontend

// The compliance statement's rebuild record: what `hardenkit rebuild`
// needs to rebuild the image from its own evidence, read from the request
// and from the LLB the build solved (so every image any stage pulled is
// there, pinned as BuildKit pinned it), never from a second parse.

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/llb/solve"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// Request options BuildKit clients send that the record keeps (buildx
// sends vcs:source and vcs:revision from the checkout).
const (
	optFilename      = "filename"
	optContextPrefix = "context:"
	optVCSSource     = "vcs:source"
	optVCSRevision   = "vcs:revision"
	dockerImageProto = "docker-image://"
)

// rebuildInput is what the record is made from.
type rebuildInput struct {
	bc       *dockerui.Client
	self     *llb.State
	hardened llb.State
	platform string
	findings []rules.Finding
}

// toolRecord identifies the frontend: its image by digest, or in process.
func toolRecord(ctx context.Context, self *llb.State) (compliance.Tool, error) {
	t := compliance.Tool{Version: Version, InProcess: self == nil}
	if self == nil {
		return t, nil
	}
	imgs, _, err := llbSources(ctx, *self)
	if err != nil {
		return t, fmt.Errorf("reading the frontend's own image reference: %w", err)
	}
	if len(imgs) == 1 {
		t.FrontendImage = imgs[0].Ref + "@" + imgs[0].Digest
		t.FrontendDigest = imgs[0].Digest
	}
	return t, nil
}

// rebuildRecord returns the rebuild record of one platform.
func rebuildRecord(ctx context.Context, c client.Client, in rebuildInput) (*compliance.Rebuild, error) {
	opts := in.bc.BuildOpts().Opts
	r := &compliance.Rebuild{
		Dockerfile: cmp.Or(opts[optFilename], "Dockerfile"),
		Target:     in.bc.Target,
		Platform:   in.platform,
		BuildArgs:  map[string]string{},
	}
	for _, p := range in.bc.TargetPlatforms {
		r.Platforms = append(r.Platforms, platforms.FormatAll(platforms.Normalize(p)))
	}
	for k, v := range in.bc.BuildArgs {
		if secretArg(k, v, in.findings) {
			r.RedactedArgs = append(r.RedactedArgs, k)
			continue
		}
		r.BuildArgs[k] = v
	}
	for k, v := range opts {
		if name, ok := strings.CutPrefix(k, optContextPrefix); ok {
			if r.NamedContexts == nil {
				r.NamedContexts = map[string]string{}
			}
			r.NamedContexts[name] = v
		}
	}
	if src, rev := opts[optVCSSource], opts[optVCSRevision]; src != "" || rev != "" {
		r.VCS = &compliance.VCS{Source: src, Revision: rev}
	}
	images, mounts, err := llbSources(ctx, in.hardened)
	if err != nil {
		return nil, fmt.Errorf("rebuild record: %w", err)
	}
	self, err := toolRecord(ctx, in.self)
	if err != nil {
		return nil, err
	}
	for _, img := range images {
		// The frontend's own steps are not the Dockerfile's inputs; the
		// frontend image is recorded in hardenkit.frontendImage.
		if img.Digest != self.FrontendDigest {
			r.Images = append(r.Images, img)
		}
	}
	r.Secrets, r.SSH = mounts[pb.MountType_SECRET], mounts[pb.MountType_SSH]
	tree, err := contextTree(ctx, c, in.bc)
	if err != nil {
		return nil, err
	}
	r.Context = tree
	return r, nil
}

// secretArg reports whether a build arg's value is a secret: by its name
// and value, or because the secret scan flagged it.
func secretArg(name, value string, findings []rules.Finding) bool {
	if secrets.SecretName(name) && secrets.SecretValue(name, value) {
		return true
	}
	return slices.ContainsFunc(findings, func(f rules.Finding) bool {
		return strings.Contains(f.Message, inspect.BuildArgPlace(name)+" holds ")
	})
}

// contextTree hashes the main build context as the build reads it:
// BuildKit's local with the .dockerignore excludes applied.
func contextTree(ctx context.Context, c client.Client, bc *dockerui.Client) (*compliance.ContextTree, error) {
	st, err := bc.MainContext(ctx, llb.WithCustomName("[hardenkit] build context digest (for rebuilds)"))
	if err != nil {
		return nil, fmt.Errorf("rebuild record: reading the build context: %w", err)
	}
	ref, err := solve.Ref(ctx, c, *st, bc.CacheImports)
	if err != nil {
		return nil, fmt.Errorf("rebuild record: reading the build context: %w", err)
	}
	tree, err := compliance.HashContext(ctx, rootfs.ReferenceSource(ref), nil)
	if err != nil {
		return nil, fmt.Errorf("rebuild record: %w", err)
	}
	return &tree, nil
}

// llbSources returns the images a state pulls, pinned (source ops
// docker-image://REF@sha256:…), and the ids of its secret and SSH mounts.
func llbSources(ctx context.Context, st llb.State) ([]compliance.PinnedImage, map[pb.MountType][]string, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("marshalling the build graph: %w", err)
	}
	seen := map[compliance.PinnedImage]bool{}
	ids := map[pb.MountType]map[string]bool{pb.MountType_SECRET: {}, pb.MountType_SSH: {}}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, nil, fmt.Errorf("reading the build graph: %w", err)
		}
		if src := op.GetSource(); src != nil {
			if ref, ok := strings.CutPrefix(src.Identifier, dockerImageProto); ok {
				if name, dgst, ok := strings.Cut(ref, "@"); ok {
					seen[compliance.PinnedImage{Ref: name, Digest: dgst}] = true
				}
			}
		}
		for _, m := range op.GetExec().GetMounts() {
			switch {
			case m.SecretOpt != nil:
				ids[pb.MountType_SECRET][m.SecretOpt.ID] = true
			case m.SSHOpt != nil:
				ids[pb.MountType_SSH][m.SSHOpt.ID] = true
			}
		}
	}
	mounts := map[pb.MountType][]string{}
	for t, set := range ids {
		if len(set) > 0 {
			mounts[t] = slices.Sorted(maps.Keys(set))
		}
	}
	return slices.SortedFunc(maps.Keys(seen), func(a, b compliance.PinnedImage) int { return cmp.Compare(a.Ref+"@"+a.Digest, b.Ref+"@"+b.Digest) }), mounts, nil
}
