// Package reportcmd is "hardenkit report": one page from an image's
// evidence, for a person (text), a pull request or job summary (markdown)
// or an auditor (one self-contained HTML file).
package reportcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/pkg/release/evidencereport"
	"github.com/hardenkit/hardenkit/pkg/release/keys"
	"github.com/hardenkit/hardenkit/pkg/release/releasepolicy"
	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// options are the flags of "hardenkit report".
type options struct {
	format   string
	output   string
	plain    string
	key      string
	policy   string
	insecure bool
}

// NewCommand returns "hardenkit report".
func NewCommand() *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "report [flags] IMAGE|OCI-ARCHIVE|OCI-LAYOUT",
		Short: "One page from an image's evidence: verdict, CIS table, exceptions, vulnerabilities, sizes",
		Long: `report reads the evidence attached to a hardenkit image — the compliance
statement, the SBOM and the provenance — and writes one page: the verdict, each
control family's results, the CIS Docker Benchmark §4 table, the exceptions with
owner, approver and expiry, vulnerabilities by severity with their VEX and
exception decisions, what was removed and what ships, the SBOM's packages and
licenses, the signatures and how to rebuild.

The image is a registry reference, an OCI archive (hardenkit build -o
type=oci,dest=FILE), an OCI layout directory, or oci-archive://FILE or
oci-layout://DIR. With --key (and --policy) the release gate runs too.
--plain names the same Dockerfile built with HARDENKIT_MODE=off, for the
before/after sizes. --format html writes one self-contained file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), cmd.OutOrStdout(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "text", "output format: "+strings.Join(evidencereport.Formats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to FILE instead of standard output")
	f.StringVar(&o.plain, "plain", "", "the same Dockerfile built with HARDENKIT_MODE=off (image, archive or layout), for the sizes before hardening")
	f.StringVar(&o.key, "key", "", "trusted cosign public key: also run the release gate")
	f.StringVar(&o.policy, "policy", "", "release policy file for the release gate (with --key)")
	f.BoolVar(&o.insecure, "insecure-registry", false, "allow plain HTTP to the registry (localhost is always allowed)")
	return cmd
}

func run(ctx context.Context, stdout io.Writer, image string, o *options) error {
	lo, err := o.loadOptions()
	if err != nil {
		return err
	}
	st, err := open(image, o.insecure)
	if err != nil {
		return err
	}
	if o.plain != "" {
		if lo.Plain, err = open(o.plain, o.insecure); err != nil {
			return fmt.Errorf("--plain: %w", err)
		}
	}
	rep, err := evidencereport.Load(ctx, st, lo)
	if err != nil {
		return err
	}
	if o.output == "" {
		return evidencereport.Write(stdout, rep, o.format)
	}
	fh, err := os.Create(o.output)
	if err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	err = evidencereport.Write(fh, rep, o.format)
	if cerr := fh.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("-o: %w", cerr)
	}
	return err
}

func (o *options) loadOptions() (evidencereport.LoadOptions, error) {
	lo := evidencereport.LoadOptions{Now: time.Now()}
	if !slices.Contains(evidencereport.Formats(), o.format) {
		return lo, fmt.Errorf("--format %q: want %s", o.format, strings.Join(evidencereport.Formats(), ", "))
	}
	if o.policy != "" && o.key == "" {
		return lo, fmt.Errorf("--policy is the release gate's policy: give --key too")
	}
	if o.key != "" {
		pem, err := os.ReadFile(o.key)
		if err != nil {
			return lo, fmt.Errorf("--key: %w", err)
		}
		if lo.Key, err = keys.LoadPublicKey(pem); err != nil {
			return lo, fmt.Errorf("--key %s: %w", o.key, err)
		}
		lo.Policy = releasepolicy.Default()
	}
	if o.policy != "" {
		p, err := releasepolicy.Load(o.policy)
		if err != nil {
			return lo, fmt.Errorf("--policy: %w", err)
		}
		lo.Policy = p
	}
	return lo, nil
}

// open reads an OCI layout directory or archive named by a plain path, as
// well as the oci-layout:// and oci-archive:// forms and registry
// references store.Open takes.
func open(ref string, insecure bool) (store.Store, error) {
	if fi, err := os.Stat(ref); err == nil && !strings.Contains(ref, "://") {
		if fi.IsDir() {
			return store.OpenLayout(ref)
		}
		return store.OpenArchive(ref)
	}
	return store.Open(ref, store.RemoteOptions{Insecure: insecure})
}
