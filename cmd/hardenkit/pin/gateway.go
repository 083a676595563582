package pin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/llb/solve"
)

// GatewayResolver resolves pins through a BuildKit gateway: the one of an
// in-process `hardenkit pin` build, so buildkitd's registry mirrors,
// credentials, proxies and cache apply exactly as in `hardenkit build`.
type GatewayResolver struct {
	c  client.Client
	bc *dockerui.Client
}

var _ Resolver = (*GatewayResolver)(nil)

// NewGatewayResolver reads the build options (build args, target
// platforms, named contexts) the solve was started with.
func NewGatewayResolver(c client.Client) (*GatewayResolver, error) {
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, fmt.Errorf("reading build options: %w", err)
	}
	return &GatewayResolver{c: c, bc: bc}, nil
}

// platforms are the build's target platforms, the daemon's default when
// none was asked for.
func (g *GatewayResolver) platforms() []ocispecs.Platform {
	if len(g.bc.TargetPlatforms) > 0 {
		return g.bc.TargetPlatforms
	}
	if ws := g.c.BuildOpts().Workers; len(ws) > 0 && len(ws[0].Platforms) > 0 {
		return []ocispecs.Platform{platforms.Normalize(ws[0].Platforms[0])}
	}
	return []ocispecs.Platform{platforms.DefaultSpec()}
}

// ImageDigest asks the registry (through the daemon's resolver) for the
// digest ref names today. The digest is that of the top-level manifest,
// the image index for a multi-platform image, so the pin holds for every
// platform.
func (g *GatewayResolver) ImageDigest(ctx context.Context, ref string) (digest.Digest, error) {
	p := g.platforms()[0]
	_, dgst, _, err := g.c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		LogName:  "[pin] resolving " + ref,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p, ResolveMode: llb.ResolveModeForcePull.String()},
	})
	if err != nil {
		return "", err
	}
	return dgst, nil
}

// URLDigest has the daemon download url and returns the sha256 of the
// content, the value ADD --checksum verifies.
func (g *GatewayResolver) URLDigest(ctx context.Context, url string) (digest.Digest, error) {
	md, err := g.c.ResolveSourceMetadata(ctx, &pb.SourceOp{Identifier: url}, sourceresolver.Opt{LogName: "[pin] downloading"})
	if err != nil {
		return "", err
	}
	if md != nil && md.HTTP != nil && md.HTTP.Digest != "" {
		return md.HTTP.Digest, nil
	}
	return g.downloadDigest(ctx, url)
}

// maxRead is the chunk size of file reads over the gateway, well under the
// gRPC message limit.
const maxRead = 4 << 20

// downloadDigest digests a download solved with llb.HTTP, for daemons
// that do not resolve HTTP metadata.
func (g *GatewayResolver) downloadDigest(ctx context.Context, url string) (digest.Digest, error) {
	ref, err := solve.Evaluated(ctx, g.c, llb.HTTP(url, llb.Filename("download")))
	if err != nil {
		return "", err
	}
	st, err := ref.StatFile(ctx, client.StatRequest{Path: "download"})
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for off := int64(0); off < st.Size; off += maxRead {
		b, err := ref.ReadFile(ctx, client.ReadRequest{Filename: "download", Range: &client.FileRange{Offset: int(off), Length: maxRead}})
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// Installed converts dockerfile with BuildKit's own dockerfile2llb
// (hardening off: exactly what dockerfile.v0 would build), builds stage for
// every target platform, and reads the installed versions: the dpkg and
// apk databases, and the metadata pip, npm and gem leave beside what they
// install. A package installed at different versions on two platforms
// cannot carry one pin, so that is an error.
func (g *GatewayResolver) Installed(ctx context.Context, dockerfile []byte, stage string, wants map[string][]string) (map[string]map[string]string, error) {
	cfg := g.bc.Config
	cfg.Target = stage
	cfg.BuildArgs = options.StripBuildArgs(cfg.BuildArgs)
	out := map[string]map[string]string{}
	seenOn := map[string]string{}
	for _, p := range g.platforms() {
		res, err := dockerfile2llb.Dockerfile2LLB(ctx, dockerfile, dockerfile2llb.ConvertOpt{
			Config: cfg, Client: g.bc, MetaResolver: g.c, TargetPlatform: &p,
		})
		if err != nil {
			return nil, err
		}
		ref, err := solve.Evaluated(ctx, g.c, res.State)
		if err != nil {
			return nil, err
		}
		se := stageEnv{env: map[string]string{}}
		if res.Image != nil {
			se.workdir = res.Image.Config.WorkingDir
			for _, kv := range res.Image.Config.Env {
				k, v, _ := strings.Cut(kv, "=")
				se.env[k] = v
			}
		}
		rd := refReader{ref}
		for _, m := range slices.Sorted(maps.Keys(wants)) {
			var db map[string]string
			var err error
			if _, ok := packageDBs[m]; ok {
				db, err = readPackageDB(ctx, rd, m)
			} else {
				db, err = languageVersions(ctx, rd, se, m, wants[m])
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", platforms.Format(p), err)
			}
			if out[m] == nil {
				out[m] = db
				for name := range db {
					seenOn[m+"/"+name] = platforms.Format(p)
				}
				continue
			}
			for name, v := range db {
				if old, ok := out[m][name]; ok && old != v {
					return nil, fmt.Errorf("%s package %s is %s on %s but %s on %s: one pin cannot hold both", m, name, old, seenOn[m+"/"+name], v, platforms.Format(p))
				}
			}
		}
	}
	return out, nil
}

// refReader reads a built filesystem through the gateway.
type refReader struct{ ref client.Reference }

// ReadFile reads a regular file in chunks under the gRPC message limit.
func (r refReader) ReadFile(ctx context.Context, p string) ([]byte, bool, error) {
	st, err := r.ref.StatFile(ctx, client.StatRequest{Path: p})
	if err != nil {
		if isNotExist(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("stat %s: %w", p, err)
	}
	if !os.FileMode(st.Mode).IsRegular() {
		return nil, false, nil
	}
	var b bytes.Buffer
	for off := int64(0); off < st.Size; off += maxRead {
		dt, err := r.ref.ReadFile(ctx, client.ReadRequest{Filename: p, Range: &client.FileRange{Offset: int(off), Length: maxRead}})
		if err != nil {
			return nil, false, fmt.Errorf("reading %s: %w", p, err)
		}
		b.Write(dt)
	}
	return b.Bytes(), true, nil
}

// ReadDir lists a directory's names.
func (r refReader) ReadDir(ctx context.Context, dir string) ([]string, error) {
	entries, err := r.ref.ReadDir(ctx, client.ReadDirRequest{Path: dir})
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, path.Base(e.Path))
	}
	return out, nil
}

// isNotExist recognises a missing path in a gateway error, which crosses
// gRPC as text.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "no such file or directory") || strings.Contains(err.Error(), "not a directory")
}

// packageDBs are the database files Installed reads, by manager.
var packageDBs = map[string]string{
	"apt": "/var/lib/dpkg/status",
	"apk": "/lib/apk/db/installed",
}

// readPackageDB reads one manager's database from a built filesystem.
func readPackageDB(ctx context.Context, rd fsReader, manager string) (map[string]string, error) {
	file, ok := packageDBs[manager]
	if !ok {
		return nil, fmt.Errorf("no package database is known for %s", manager)
	}
	dt, ok, err := rd.ReadFile(ctx, file)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("the stage has no %s database %s", manager, file)
	}
	return parsePackageDB(manager, string(dt)), nil
}
