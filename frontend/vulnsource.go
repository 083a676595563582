package frontend

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/frontend/options"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Named build contexts that feed the vulnerability gate. hardenkit never
// downloads a database: the user provides one.
const (
	vulnDBContext = options.ContextVulnDB
	vexContext    = options.ContextVEX
)

// namedContextTree reads a named context's filesystem; ok is false when the
// build has no such context.
func namedContextTree(ctx context.Context, bc *dockerui.Client, c client.Client, name string) (*rootfs.Tree, rootfs.Source, bool, error) {
	ref, ok, err := policysource.NamedContext(ctx, bc, c, name)
	if err != nil || !ok {
		return nil, nil, false, err
	}
	src := rootfs.ReferenceSource(ref)
	tree, err := rootfs.Load(ctx, src)
	if err != nil {
		return nil, nil, false, fmt.Errorf("reading named context %s: %w", name, err)
	}
	return tree, src, true, nil
}

// loadVulnDB writes the hardenkit-vulndb context (a grype v6 database
// directory) to a temporary directory grype can open. dir is "" when the
// build gives none.
func loadVulnDB(ctx context.Context, bc *dockerui.Client, c client.Client) (dir string, cleanup func(), err error) {
	cleanup = func() {}
	tree, src, ok, err := namedContextTree(ctx, bc, c, vulnDBContext)
	if err != nil || !ok {
		return "", cleanup, err
	}
	dir, err = os.MkdirTemp("", "hardenkit-vulndb-")
	if err != nil {
		return "", cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := rootfs.Materialize(ctx, tree, src, dir); err != nil {
		cleanup()
		return "", func() {}, fmt.Errorf("reading the vulnerability database from %s: %w", vulnDBContext, err)
	}
	return dir, cleanup, nil
}

// loadVEX reads every *.json file of the hardenkit-vex context as an
// OpenVEX document.
func loadVEX(ctx context.Context, bc *dockerui.Client, c client.Client) ([][]byte, error) {
	tree, src, ok, err := namedContextTree(ctx, bc, c, vexContext)
	if err != nil || !ok {
		return nil, err
	}
	var docs [][]byte
	for _, e := range tree.Entries() {
		if !e.IsRegular() || !strings.HasSuffix(path.Base(e.Path), ".json") {
			continue
		}
		dt, err := src.ReadFile(ctx, e.Path, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("reading %s from %s: %w", e.Path, vexContext, err)
		}
		docs = append(docs, dt)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("named context %s has no .json OpenVEX document\n  to fix: put the OpenVEX documents (*.json) in the directory passed as --build-context %s=DIR, or leave the context out", vexContext, vexContext)
	}
	return docs, nil
}
