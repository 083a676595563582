package devenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const (
	// DefaultFrontendPackage is the Go package of the frontend binary,
	// relative to the module root.
	DefaultFrontendPackage = "./cmd/hardenkit-frontend"

	// FrontendRepository is the repository of the frontend image in the
	// local registry.
	FrontendRepository = "hardenkit/frontend"

	// FrontendTag is the tag of the frontend image in the local registry.
	FrontendTag = "dev"

	// frontendPath is where the frontend binary lives in its image.
	frontendPath = "/bin/hardenkit-frontend"

	// ProbePackage is the Go package of the health probe, relative to
	// the module root.
	ProbePackage = "./cmd/hardenkit-probe"

	// ProbePath is where the health probe lives in the frontend image,
	// for Dockerfiles to COPY --from= into a distroless image.
	ProbePath = "/bin/hardenkit-probe"

	// frontendUser is the numeric user the frontend runs as.
	frontendUser = "65532:65532"
)

// frontendLabels are the image labels BuildKit reads from a frontend image:
// no network, and the gateway capabilities the frontend relies on.
var frontendLabels = map[string]string{
	"moby.buildkit.frontend.network.none": "true",
	"moby.buildkit.frontend.caps":         "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts",
}

// buildFrontendBinary compiles the frontend package pkg of the module at
// moduleDir as a static binary into dir and returns its path.
func buildFrontendBinary(ctx context.Context, moduleDir, pkg, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(frontendPath))
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building frontend (CGO_ENABLED=0 go build -trimpath %s in %s): %w\n%s", pkg, moduleDir, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// buildProbeBinary compiles the health probe of the module at moduleDir
// as a small static binary into dir and returns its path.
func buildProbeBinary(ctx context.Context, moduleDir, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(ProbePath))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ProbePackage)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the health probe (CGO_ENABLED=0 go build %s in %s): %w\n%s", ProbePackage, moduleDir, err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// frontendImage assembles the frontend image around binary and probe: a
// single layer with /bin/hardenkit-frontend and /bin/hardenkit-probe, and
// a config that makes the frontend the entrypoint, runs it as 65532:65532
// and carries the frontend labels.
func frontendImage(binary, probe []byte) (v1.Image, error) {
	if len(binary) == 0 {
		return nil, fmt.Errorf("frontend binary is empty")
	}
	if len(probe) == 0 {
		return nil, fmt.Errorf("health probe binary is empty")
	}
	tb, err := buildTar([]fileEntry{
		dirEntry("bin", 0o755),
		fileData(strings.TrimPrefix(frontendPath, "/"), 0o755, binary),
		fileData(strings.TrimPrefix(ProbePath, "/"), 0o755, probe),
		// The frontend (user 65532) writes temporary files, e.g. the
		// filesystem an SBOM is catalogued from.
		dirEntry("tmp", 0o1777),
	}, epoch)
	if err != nil {
		return nil, fmt.Errorf("building frontend layer: %w", err)
	}
	layer, err := layerFromBytes(tb)
	if err != nil {
		return nil, fmt.Errorf("frontend layer: %w", err)
	}
	labels := make(map[string]string, len(frontendLabels))
	for k, v := range frontendLabels {
		labels[k] = v
	}
	return assembleImage(imageSpec{
		Layer:   layer,
		Created: epoch,
		Config: v1.Config{
			Entrypoint: []string{frontendPath},
			User:       frontendUser,
			Labels:     labels,
		},
	})
}

// BuildFrontendImage compiles the frontend package pkg (DefaultFrontendPackage
// when empty) of the hardenkit module at moduleDir (found from the working
// directory when empty) and assembles the frontend image from it. The same
// source yields the same image digest.
func BuildFrontendImage(ctx context.Context, moduleDir, pkg string, log io.Writer) (v1.Image, error) {
	if log == nil {
		log = io.Discard
	}
	if pkg == "" {
		pkg = DefaultFrontendPackage
	}
	if moduleDir == "" {
		var err error
		if moduleDir, err = findModuleDir(ctx); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "devenv-frontend-")
	if err != nil {
		return nil, fmt.Errorf("creating temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "devenv: building frontend binary from %s\n", pkg)
	bin, err := buildFrontendBinary(ctx, moduleDir, pkg, tmp)
	if err != nil {
		return nil, err
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("reading frontend binary: %w", err)
	}
	probeBin, err := buildProbeBinary(ctx, moduleDir, tmp)
	if err != nil {
		return nil, err
	}
	probe, err := os.ReadFile(probeBin)
	if err != nil {
		return nil, fmt.Errorf("reading the health probe binary: %w", err)
	}
	return frontendImage(binary, probe)
}
