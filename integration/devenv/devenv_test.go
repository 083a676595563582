package devenv

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	bkconfig "github.com/moby/buildkit/cmd/buildkitd/config"
)

func TestExports(t *testing.T) {
	tests := []struct {
		name string
		env  Env
		want string
	}{
		{
			name: "full",
			env: Env{
				BuildkitAddr: "unix:///var/tmp/hardenkit-devenv/buildkitd/buildkitd.sock",
				Registry:     "127.0.0.1:5055",
				Frontend:     "127.0.0.1:5055/hardenkit/frontend@sha256:aa",
				BaseBusybox:  "127.0.0.1:5055/library/busybox@sha256:bb",
				BaseDebian:   "127.0.0.1:5055/library/debian@sha256:cc",
			},
			want: "export BUILDKIT_HOST=unix:///var/tmp/hardenkit-devenv/buildkitd/buildkitd.sock\n" +
				"export HARDENKIT_REGISTRY=127.0.0.1:5055\n" +
				"export HARDENKIT_FRONTEND=127.0.0.1:5055/hardenkit/frontend@sha256:aa\n" +
				"export HARDENKIT_BASE_BUSYBOX=127.0.0.1:5055/library/busybox@sha256:bb\n" +
				"export HARDENKIT_BASE_DEBIAN=127.0.0.1:5055/library/debian@sha256:cc\n",
		},
		{
			name: "without debian",
			env: Env{
				BuildkitAddr: "unix:///s/buildkitd.sock",
				Registry:     "127.0.0.1:6000",
				Frontend:     "127.0.0.1:6000/hardenkit/frontend@sha256:aa",
				BaseBusybox:  "127.0.0.1:6000/library/busybox@sha256:bb",
			},
			want: "export BUILDKIT_HOST=unix:///s/buildkitd.sock\n" +
				"export HARDENKIT_REGISTRY=127.0.0.1:6000\n" +
				"export HARDENKIT_FRONTEND=127.0.0.1:6000/hardenkit/frontend@sha256:aa\n" +
				"export HARDENKIT_BASE_BUSYBOX=127.0.0.1:6000/library/busybox@sha256:bb\n",
		},
		{
			name: "quoting",
			env: Env{
				BuildkitAddr: "unix:///tmp/my dir/it's.sock",
				Registry:     "127.0.0.1:5055",
			},
			want: "export BUILDKIT_HOST='unix:///tmp/my dir/it'\\''s.sock'\n" +
				"export HARDENKIT_REGISTRY=127.0.0.1:5055\n" +
				"export HARDENKIT_FRONTEND=''\n" +
				"export HARDENKIT_BASE_BUSYBOX=''\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.env.Exports()
			if got != tt.want {
				t.Fatalf("Exports() =\n%s\nwant\n%s", got, tt.want)
			}
			// A shell must read back exactly the values.
			sh, err := exec.LookPath("sh")
			if err != nil {
				return
			}
			out, err := exec.Command(sh, "-c", got+`printf '%s\n' "$BUILDKIT_HOST" "$HARDENKIT_REGISTRY"`).Output()
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.env.BuildkitAddr + "\n" + tt.env.Registry + "\n"; string(out) != want {
				t.Fatalf("shell read %q, want %q", out, want)
			}
		})
	}
}

func TestBuildkitdConfig(t *testing.T) {
	tests := []string{"127.0.0.1:5055", "127.0.0.1:6001"}
	for _, reg := range tests {
		t.Run(reg, func(t *testing.T) {
			cfg, err := bkconfig.Load(strings.NewReader(BuildkitdConfig(reg)))
			if err != nil {
				t.Fatal(err)
			}
			hub := cfg.Registries["docker.io"]
			if len(hub.Mirrors) != 1 || hub.Mirrors[0] != reg {
				t.Errorf("docker.io mirrors = %q", hub.Mirrors)
			}
			local := cfg.Registries[reg]
			if local.PlainHTTP == nil || !*local.PlainHTTP || local.Insecure == nil || !*local.Insecure {
				t.Errorf("%s: http=%v insecure=%v", reg, local.PlainHTTP, local.Insecure)
			}
		})
	}
}

func TestCheckModuleDir(t *testing.T) {
	tests := []struct {
		name    string
		gomod   string
		wantErr string
	}{
		{name: "hardenkit", gomod: "module github.com/hardenkit/hardenkit\n\ngo 1.26\n"},
		{name: "other module", gomod: "module example.com/x\n", wantErr: "not github.com/hardenkit/hardenkit"},
		{name: "no module line", gomod: "go 1.26\n", wantErr: "no module line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(tt.gomod), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := checkModuleDir(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil || got != dir {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serve runs ServeRegistry in the background until the returned func is
// called.
func serve(t *testing.T, addr, dir string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeRegistry(ctx, addr, dir, io.Discard) }()
	deadline := time.Now().Add(10 * time.Second)
	for pingRegistry(context.Background(), addr) != nil {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("registry on %s did not come up: %v", addr, <-done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("registry: %v", err)
		}
	}
}

// TestRegistryKeepsBlobsAcrossRestarts serves the registry on loopback,
// pushes an image, restarts it and checks that the blobs survived while
// the manifests did not, and that a push restores the image.
func TestRegistryKeepsBlobsAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	addr := freeAddr(t)
	dir := t.TempDir()
	img, err := busyboxImage([]byte("busybox binary"), testApplets)
	if err != nil {
		t.Fatal(err)
	}
	stop := serve(t, addr, dir)
	ref := addr + "/library/busybox:latest"
	pinned, err := PushImage(ctx, ref, img)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	if want := addr + "/library/busybox@" + digestOf(t, img).String(); pinned.String() != want {
		t.Errorf("pinned = %s, want %s", pinned, want)
	}
	// Pushing again is a no-op.
	if _, err := PushImage(ctx, ref, img); err != nil {
		t.Error(err)
	}
	stop()

	stop = serve(t, addr, dir)
	defer stop()
	if ok, err := imageInRegistry(ctx, pinned); err != nil || ok {
		t.Fatalf("manifest after restart: ok=%v err=%v (manifests should be in memory only)", ok, err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	ld, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Head("http://" + addr + "/v2/library/busybox/blobs/" + ld.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("blob after restart: %s", resp.Status)
	}
	if _, err := PushImage(ctx, ref, img); err != nil {
		t.Fatal(err)
	}
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(tag)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != digestOf(t, img) {
		t.Fatalf("tag points at %s", desc.Digest)
	}
}
