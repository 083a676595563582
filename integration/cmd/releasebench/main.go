// Command releasebench measures `hardenkit verify` against cosign's own
// verification for the same image: a 2-platform image hardenkit builds,
// pushes and signs (index, 2 images, 2 attestation manifests with 4
// statements each), verified against the local registry. It prints the
// median time and the registry round trips of each, and their ratios.
//
// hardenkit verify checks every signature, the statements, the SBOM binding
// and the release policy. The cosign side is what `cosign verify --key
// --insecure-ignore-tlog` runs (pkg/cosign.VerifyImageAttestations) on the
// same five digests — signatures only; cosign has no equivalent of the
// other checks, so its figure is a lower bound for the same work.
//
//	make bench   (starts the dev environment, then runs this)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v3/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/releasetest"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "releasebench:", err)
		os.Exit(1)
	}
}

// counter counts the HTTP requests (registry round trips) it carries.
type counter struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

const dockerfile = `FROM scratch
COPY app /app
USER 65532:65532
ENTRYPOINT ["/app"]
`

// config is the command line of releasebench.
type config struct {
	addr, registry, hardenkit string
	runs                      int
}

func run(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("releasebench", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.addr, "addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address")
	fs.StringVar(&c.registry, "registry", os.Getenv("HARDENKIT_REGISTRY"), "registry host:port")
	fs.StringVar(&c.hardenkit, "hardenkit", "bin/hardenkit", "hardenkit CLI")
	fs.IntVar(&c.runs, "runs", 5, "verifications per measurement (the median is reported)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.addr == "" || c.registry == "" {
		return errors.New("set BUILDKIT_HOST and HARDENKIT_REGISTRY (make bench starts the dev environment)")
	}
	tmp, err := os.MkdirTemp("", "hardenkit-releasebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	img, err := buildSigned(ctx, c, tmp)
	if err != nil {
		return err
	}
	pk, err := keys.LoadPublicKey(img.pub)
	if err != nil {
		return err
	}
	cosignRun, err := cosignVerifier(ctx, c.registry, img.digests, pk)
	if err != nil {
		return err
	}
	hkTime, hkTrips, err := measure(c.runs, hardenkitVerifier(ctx, img.digestRef, pk))
	if err != nil {
		return err
	}
	csTime, csTrips, err := measure(c.runs, cosignRun)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nrelease verify: %s (2 platforms, %d manifests signed, 4 statements per platform), median of %d\n", img.ref, len(img.digests), c.runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "verifier\ttime\tround trips\tchecks")
	fmt.Fprintf(tw, "hardenkit verify\t%s\t%d\tsignatures + statements + SBOM binding + release policy\n", hkTime.Round(time.Millisecond), hkTrips)
	fmt.Fprintf(tw, "cosign verify ×%d\t%s\t%d\tsignatures only\n", len(img.digests), csTime.Round(time.Millisecond), csTrips)
	fmt.Fprintf(tw, "ratio hardenkit/cosign\t%.2f\t%.2f\t\n", float64(hkTime)/float64(csTime), float64(hkTrips)/float64(csTrips))
	return tw.Flush()
}

// signedImage is the benchmark image, pushed and signed.
type signedImage struct {
	ref, digestRef string
	// digests are the signed manifests: the index, then its children.
	digests []string
	// pub is the public key that verifies the signatures.
	pub []byte
}

// buildSigned builds a two-platform image with the hardenkit CLI, pushes
// it to the registry and signs it with a fresh key (files under tmp).
func buildSigned(ctx context.Context, c config, tmp string) (*signedImage, error) {
	pass := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	pw := func(bool) ([]byte, error) { return []byte(pass), nil }
	priv, pub, err := keys.Generate(pw)
	if err != nil {
		return nil, err
	}
	keyFile := filepath.Join(tmp, "cosign.key")
	if err := os.WriteFile(keyFile, priv, 0o600); err != nil {
		return nil, err
	}
	app := filepath.Join(tmp, "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		return nil, err
	}
	for n, content := range map[string]string{"Dockerfile": dockerfile, "app": "#!/app\n"} {
		if err := os.WriteFile(filepath.Join(app, n), []byte(content), 0o755); err != nil {
			return nil, err
		}
	}
	img := &signedImage{ref: c.registry + "/hk-bench/release:v1", pub: pub}
	meta := filepath.Join(tmp, "metadata.json")
	cmd := exec.CommandContext(ctx, c.hardenkit, "build", "--addr", c.addr, "--progress", "quiet", "--platform", "linux/amd64,linux/arm64",
		"--sign-key", keyFile, "--metadata-file", meta, "-o", "type=image,name="+img.ref+",push=true", app)
	cmd.Env = append(os.Environ(), keys.PasswordEnv+"="+pass)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("hardenkit build: %w\n%s", err, out)
	}
	var md map[string]any
	dt, err := os.ReadFile(meta)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(dt, &md); err != nil {
		return nil, err
	}
	img.digestRef = c.registry + "/hk-bench/release@" + fmt.Sprint(md["containerimage.digest"])
	root, children, err := releasetest.Descriptors(ctx, img.digestRef)
	if err != nil {
		return nil, err
	}
	img.digests = []string{root.Digest.String()}
	for _, d := range children {
		img.digests = append(img.digests, d.Digest.String())
	}
	return img, nil
}

// hardenkitVerifier verifies the image as `hardenkit verify` does, with a
// policy that accepts what the benchmark image is.
func hardenkitVerifier(ctx context.Context, digestRef string, pk *keys.PublicKey) func(*counter) error {
	rp := &releasepolicy.Policy{Allow: releasepolicy.Allow{Warn: []string{"*"}, NotEvaluated: []string{"*"}, VulnerabilitiesNotEvaluated: true}}
	return func(c *counter) error {
		st, err := store.OpenRemote(digestRef, store.RemoteOptions{Transport: c})
		if err != nil {
			return err
		}
		rep, err := verify.Verify(ctx, st, verify.Options{Key: pk, Policy: rp, Now: time.Now()})
		if err != nil {
			return err
		}
		if !rep.Compliant {
			return fmt.Errorf("the benchmark image does not verify: %+v", rep)
		}
		return nil
	}
}

// cosignVerifier verifies each signed manifest as `cosign verify` does:
// signatures only.
func cosignVerifier(ctx context.Context, registry string, digests []string, pk *keys.PublicKey) (func(*counter) error, error) {
	sv, err := signature.LoadDefaultVerifier(pk.Key)
	if err != nil {
		return nil, err
	}
	return func(c *counter) error {
		for _, d := range digests {
			r, err := name.ParseReference(registry + "/hk-bench/release@" + d)
			if err != nil {
				return err
			}
			co := &cosign.CheckOpts{SigVerifier: sv, IgnoreTlog: true, NewBundleFormat: true, ClaimVerifier: cosign.IntotoSubjectClaimVerifier,
				RegistryClientOpts: []ociremote.Option{ociremote.WithRemoteOptions(remote.WithTransport(c))}}
			if _, ok, err := cosign.VerifyImageAttestations(ctx, r, co); err != nil || !ok {
				return fmt.Errorf("cosign verify %s: %v", d, err)
			}
		}
		return nil
	}, nil
}

// measure runs f runs times and returns the median time and the round
// trips of the last run.
func measure(runs int, f func(*counter) error) (time.Duration, int64, error) {
	var times []time.Duration
	var trips int64
	for range runs {
		c := &counter{next: http.DefaultTransport}
		start := time.Now()
		if err := f(c); err != nil {
			return 0, 0, err
		}
		times = append(times, time.Since(start))
		trips = c.n.Load()
	}
	slices.Sort(times)
	return times[len(times)/2], trips, nil
}
