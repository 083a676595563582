package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/frontend"

	"github.com/hardenkit/hardenkit/cmd/hardenkit/buildflags"
	"github.com/hardenkit/hardenkit/cmd/hardenkit/checkcmd"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/promote"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/sign"
	"github.com/hardenkit/hardenkit/pkg/release/store"
	"github.com/hardenkit/hardenkit/pkg/release/verify"
	"github.com/hardenkit/hardenkit/pkg/release/vsa"
)

// Exit codes of verify and promote.
const (
	exitCompliant    = 0
	exitNotCompliant = 1
	exitCannotVerify = 2
)

func cannotVerify(err error) error {
	return &checkcmd.ExitError{Code: exitCannotVerify, Err: err}
}

// passworder is the key password source of the release commands.
func passworder() keys.Passworder {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		tty = nil
	}
	return keys.EnvOrPrompt(os.LookupEnv, tty)
}

func newKeygenCommand() *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "keygen [--output-prefix PREFIX]",
		Short: "Generate a cosign key pair for signing release images",
		Long: `keygen writes PREFIX.key (encrypted with the password from $COSIGN_PASSWORD,
else a prompt) and PREFIX.pub, in cosign's format: cosign reads them too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKeygen(cmd.OutOrStdout(), prefix, passworder())
		},
	}
	cmd.Flags().StringVar(&prefix, "output-prefix", "cosign", "write PREFIX.key and PREFIX.pub")
	return cmd
}

func runKeygen(w io.Writer, prefix string, pw keys.Passworder) error {
	for _, f := range []string{prefix + ".key", prefix + ".pub"} {
		if _, err := os.Stat(f); err == nil {
			return fmt.Errorf("%s exists; not overwriting a key", f)
		}
	}
	priv, pub, err := keys.Generate(pw)
	if err != nil {
		return err
	}
	if err := os.WriteFile(prefix+".key", priv, 0o600); err != nil {
		return fmt.Errorf("writing the private key: %w", err)
	}
	if err := os.WriteFile(prefix+".pub", pub, 0o644); err != nil {
		return fmt.Errorf("writing the public key: %w", err)
	}
	fmt.Fprintf(w, "Private key written to %s.key\nPublic key written to %s.pub\n", prefix, prefix)
	return nil
}

type releaseFlags struct {
	insecure bool
}

func (f *releaseFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.insecure, "insecure-registry", false, "allow plain HTTP to the registry (localhost is always allowed)")
}

func newSignCommand() *cobra.Command {
	var keyFile string
	var rf releaseFlags
	cmd := &cobra.Command{
		Use:   "sign --key cosign.key IMAGE",
		Short: "Sign a release image, its platforms and its attestations",
		Long: `sign resolves IMAGE (REF, oci-layout://DIR or oci-archive://FILE) to a digest
and signs, offline with a cosign key, the image index, every platform's image
manifest and every attestation manifest: sigstore bundles v0.3 stored as OCI
1.1 referrers, as "cosign sign" writes them. The key password comes from
$COSIGN_PASSWORD or a prompt.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSign(cmd.Context(), cmd.OutOrStdout(), keyFile, args[0], rf, passworder())
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "cosign private key file (required)")
	_ = cmd.MarkFlagRequired("key")
	rf.add(cmd)
	return cmd
}

func runSign(ctx context.Context, w io.Writer, keyFile, image string, rf releaseFlags, pw keys.Passworder) error {
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	kp, err := keys.LoadPrivateKey(pem, pw)
	if err != nil {
		return fmt.Errorf("--key %s: %w", keyFile, err)
	}
	signed, err := sign.SignRef(ctx, image, store.RemoteOptions{Insecure: rf.insecure}, kp, time.Now())
	if err != nil {
		return err
	}
	for _, s := range signed {
		fmt.Fprintf(w, "signed %-11s %s %s\n", s.Kind, s.Digest, s.Platform)
	}
	return nil
}

type verifyFlags struct {
	releaseFlags
	key    string
	policy string
	format string
	// attest asks verify for a SLSA verification summary: attached as a
	// signed referrer with signKey, written to attestOutput.
	attest       bool
	signKey      string
	attestOutput string
}

func (f *verifyFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.key, "key", "", "trusted cosign public key file (required)")
	cmd.Flags().StringVar(&f.policy, "policy", "", "release policy file (default: any build policy, every rule pass or waived)")
	_ = cmd.MarkFlagRequired("key")
	f.releaseFlags.add(cmd)
}

func (f *verifyFlags) options() (verify.Options, error) {
	pem, err := os.ReadFile(f.key)
	if err != nil {
		return verify.Options{}, fmt.Errorf("--key: %w", err)
	}
	pk, err := keys.LoadPublicKey(pem)
	if err != nil {
		return verify.Options{}, fmt.Errorf("--key %s: %w", f.key, err)
	}
	rp := releasepolicy.Default()
	if f.policy != "" {
		if rp, err = releasepolicy.Load(f.policy); err != nil {
			return verify.Options{}, err
		}
	}
	return verify.Options{Key: pk, Policy: rp, Now: time.Now()}, nil
}

func newVerifyCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --key cosign.pub [--policy release.yaml] IMAGE",
		Short: "Verify a release image: signatures, evidence and the release policy",
		Long: `verify checks, for every platform of IMAGE (REF, oci-layout://DIR or
oci-archive://FILE), the signature over the image manifest, the signed
attestation manifest with its SPDX SBOM, SLSA provenance and compliance
statement, the compliance result against the release policy and the
provenance constraints. Exit 0: compliant; 1: not compliant (every reason is
printed); 2: could not verify.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd.Context(), cmd.OutOrStdout(), args[0], f)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&f.format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&f.attest, "attest", false, "write a SLSA verification summary (VSA v1) of the verdict: attached to the image as a referrer signed with --sign-key, and/or written to --attest-output")
	cmd.Flags().StringVar(&f.signKey, "sign-key", "", "cosign private key signing the --attest summary (password from $COSIGN_PASSWORD or a prompt)")
	cmd.Flags().StringVar(&f.attestOutput, "attest-output", "", "file the --attest summary statement is written to")
	return cmd
}

func runVerify(ctx context.Context, w io.Writer, image string, f verifyFlags) error {
	if f.format != "text" && f.format != "json" {
		return cannotVerify(fmt.Errorf("--format %q: want text or json", f.format))
	}
	o, err := f.options()
	if err != nil {
		return cannotVerify(err)
	}
	st, err := store.Open(image, store.RemoteOptions{Insecure: f.insecure})
	if err != nil {
		return cannotVerify(err)
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	var kp *keys.Keypair
	if f.attest {
		// The key is decrypted before verifying, so a wrong password
		// costs no verification.
		if kp, err = f.attestKey(); err != nil {
			return cannotVerify(err)
		}
	}
	rep, err := verify.Verify(ctx, st, o)
	if err != nil {
		return cannotVerify(fmt.Errorf("verifying %s: %w", image, err))
	}
	if err := writeReport(w, rep, f.format); err != nil {
		return cannotVerify(err)
	}
	if f.attest {
		if err := f.writeSummary(ctx, st, rep, kp, o.Now); err != nil {
			return cannotVerify(err)
		}
	}
	if !rep.Compliant {
		return &checkcmd.ExitError{Code: exitNotCompliant, Err: fmt.Errorf("%s (%s) is not compliant", image, rep.Digest)}
	}
	return nil
}

// attestKey checks the --attest flags and loads the signing key, if any.
func (f *verifyFlags) attestKey() (*keys.Keypair, error) {
	if f.signKey == "" && f.attestOutput == "" {
		return nil, errors.New("--attest needs --sign-key (attach a signed summary) or --attest-output (write it)")
	}
	if f.signKey == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(f.signKey)
	if err != nil {
		return nil, fmt.Errorf("--sign-key: %w", err)
	}
	kp, err := keys.LoadPrivateKey(pem, passworder())
	if err != nil {
		return nil, fmt.Errorf("--sign-key %s: %w", f.signKey, err)
	}
	return kp, nil
}

// writeSummary writes the VSA of rep and attaches it, signed, to the
// verified digest (a tarball is rewritten in place).
func (f *verifyFlags) writeSummary(ctx context.Context, st store.Store, rep *verify.Report, kp *keys.Keypair, now time.Time) error {
	so := vsa.Options{Version: frontend.Version, Time: now}
	if f.policy != "" {
		dt, err := os.ReadFile(f.policy)
		if err != nil {
			return fmt.Errorf("--policy: %w", err)
		}
		abs, _ := filepath.Abs(f.policy)
		sum := sha256.Sum256(dt)
		so.PolicyURI, so.PolicyDigest = "file://"+abs, "sha256:"+hex.EncodeToString(sum[:])
	}
	statement, err := vsa.Summarize(rep, so)
	if err != nil {
		return err
	}
	if f.attestOutput != "" {
		if err := os.WriteFile(f.attestOutput, append(statement, '\n'), 0o644); err != nil {
			return fmt.Errorf("--attest-output: %w", err)
		}
	}
	if kp == nil || rep.Digest == "" {
		return nil
	}
	h, err := v1.NewHash(rep.Digest)
	if err != nil {
		return err
	}
	raw, mt, err := st.Manifest(ctx, h)
	if err != nil {
		return err
	}
	ref, err := vsa.Attach(ctx, st, v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(raw))}, statement, kp, now)
	if err != nil {
		return err
	}
	if a, ok := st.(*store.Archive); ok {
		if err := a.Save(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "hardenkit: attached the verification summary (%s) to %s as %s\n", map[bool]string{true: vsa.Passed, false: vsa.Failed}[rep.Compliant], rep.Digest, ref)
	return nil
}

// writeReport prints a verification report as text or JSON.
func writeReport(w io.Writer, rep *verify.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	verdict := "COMPLIANT"
	if !rep.Compliant {
		verdict = "NOT COMPLIANT"
	}
	fmt.Fprintf(w, "%s %s: %s\n", rep.Image, rep.Digest, verdict)
	printChecks := func(indent string, cs []verify.Check) {
		for _, c := range cs {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "%s%s %s", indent, mark, c.Name)
			if c.OK && c.Detail != "" {
				fmt.Fprintf(w, ": %s", c.Detail)
			}
			fmt.Fprintln(w)
			for _, r := range c.Reasons {
				fmt.Fprintf(w, "%s     - %s\n", indent, r)
			}
		}
	}
	printChecks("  ", rep.Checks)
	for _, p := range rep.Platforms {
		name := p.Platform
		if name == "" {
			name = "image"
		}
		fmt.Fprintf(w, "  %s %s\n", name, p.Digest)
		printChecks("    ", p.Checks)
	}
	return nil
}

func newPromoteCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "promote --key cosign.pub [--policy release.yaml] SRC DST",
		Short: "Verify a release image and copy it, by digest, with its signatures",
		Long: `promote resolves SRC to a digest once, verifies it as "hardenkit verify" does,
and only then copies that digest — index, images, attestation manifests and
signature referrers — to DST (a repository, optionally with a tag). Nothing is
copied when verification fails. Exit codes as for verify.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPromote(cmd.Context(), cmd.OutOrStdout(), args[0], args[1], f)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&f.format, "format", "text", "output format of the verification report: text or json")
	return cmd
}

func runPromote(ctx context.Context, w io.Writer, src, dst string, f verifyFlags) error {
	if f.format != "text" && f.format != "json" {
		return cannotVerify(fmt.Errorf("--format %q: want text or json", f.format))
	}
	o, err := f.options()
	if err != nil {
		return cannotVerify(err)
	}
	res, err := promote.Promote(ctx, src, dst, promote.Options{Verify: o, Remote: store.RemoteOptions{Insecure: f.insecure}})
	if res != nil && res.Report != nil {
		if werr := writeReport(w, res.Report, f.format); werr != nil && err == nil {
			err = werr
		}
	}
	switch {
	case errors.Is(err, promote.ErrNotCompliant):
		return &checkcmd.ExitError{Code: exitNotCompliant, Err: err}
	case err != nil:
		return cannotVerify(err)
	}
	fmt.Fprintf(os.Stderr, "promoted %s to %s (%d signatures)\n", res.Digest, res.Destination, res.Referrers)
	return nil
}

// signTargets are the images `hardenkit build --sign-key` signs: each OCI
// output (tarball or layout) and each pushed image, by the digest the
// exporter reported. Any other output cannot be signed and is refused
// before the build runs (digest "" checks the outputs only).
func signTargets(outs []buildflags.Output, digest string) ([]string, error) {
	var out []string
	for _, o := range outs {
		switch {
		case o.Type == buildflags.OutputOCI && o.Dest != "" && o.Dest != "-":
			if o.Tarball() {
				out = append(out, "oci-archive://"+o.Dest)
			} else {
				out = append(out, "oci-layout://"+o.Dest)
			}
		case o.Type == buildflags.OutputImage && o.Attrs["push"] == "true" && o.Attrs["name"] != "":
			for _, n := range strings.Split(o.Attrs["name"], ",") {
				if n = strings.TrimSpace(n); n != "" {
					out = append(out, n+"@"+digest)
				}
			}
		default:
			return nil, fmt.Errorf("--sign-key signs OCI outputs written to a file or directory and pushed images; --output type=%s cannot be signed", o.Type)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--sign-key needs an output to sign (-o type=oci,dest=FILE or -o type=registry,name=REF)")
	}
	// BuildKit merges the exporters' responses into one map, so the pushed
	// image's digest is only known when no other output reports one.
	pushed := slices.ContainsFunc(outs, func(o buildflags.Output) bool { return o.Type == buildflags.OutputImage })
	if pushed && len(outs) > 1 {
		return nil, errors.New("--sign-key with a pushed image: push it as the only output (BuildKit reports one image digest for all outputs); write other outputs in another build or sign them with hardenkit sign")
	}
	return out, nil
}

// buildSigner checks, before a build, that --sign-key can sign its
// outputs: the key decrypts and every output is signable. The returned
// function signs them after the build.
func buildSigner(keyFile string, outs []buildflags.Output) (func(ctx context.Context, exporterResponse map[string]string) error, error) {
	if _, err := signTargets(outs, ""); err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--sign-key: %w", err)
	}
	kp, err := keys.LoadPrivateKey(pem, passworder())
	if err != nil {
		return nil, fmt.Errorf("--sign-key %s: %w", keyFile, err)
	}
	return func(ctx context.Context, er map[string]string) error {
		d := er["containerimage.digest"]
		targets, err := signTargets(outs, d)
		if err != nil {
			return err
		}
		for _, t := range targets {
			if strings.Contains(t, "@") && !strings.HasPrefix(d, "sha256:") {
				return fmt.Errorf("--sign-key: the build reported no image digest to sign %s by", t)
			}
			signed, err := sign.SignRef(ctx, t, store.RemoteOptions{}, kp, time.Now())
			if err != nil {
				return fmt.Errorf("--sign-key: %w", err)
			}
			fmt.Fprintf(os.Stderr, "hardenkit: signed %s (%d manifests)\n", t, len(signed))
		}
		return nil
	}, nil
}
