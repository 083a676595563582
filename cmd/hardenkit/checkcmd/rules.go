package checkcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/policysource"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// RulesOptions are the inputs of `hardenkit rules`.
type RulesOptions struct {
	// Format is text or json.
	Format string
	// Policy, when set (a file or a baseline name), adds each rule's level
	// under that policy.
	Policy string
	// Stdout receives the listing.
	Stdout io.Writer
}

// NewRulesCommand returns `hardenkit rules`.
func NewRulesCommand() *cobra.Command {
	o := &RulesOptions{}
	cmd := &cobra.Command{
		Use:   "rules [flags]",
		Short: "List hardenkit's rule catalog",
		Long: `rules lists every rule hardenkit checks, with its family, severity and CIS
Docker Benchmark §4 items. With --policy it also shows the level (enforce,
warn, off) each rule has under that policy. docs/rules.md is generated from
the same catalog.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("rules takes no arguments, got %q", args)
			}
			return nil
		},
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Stdout = cmd.OutOrStdout()
			return Rules(cmd.Context(), *o)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	cmd.Flags().StringVar(&o.Format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&o.Policy, "policy", "", "show levels under this policy file or built-in baseline (strict, cis-docker)")
	return cmd
}

// ruleListing is the JSON form of `hardenkit rules`: the policy the
// levels are for (with --policy) and the catalog.
type ruleListing struct {
	Policy *ruleListingPolicy `json:"policy,omitempty"`
	Rules  []ruleEntry        `json:"rules"`
}

// ruleListingPolicy names the policy of the listed levels.
type ruleListingPolicy struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// ruleEntry is a catalog rule with its level under the policy, if any.
type ruleEntry struct {
	rules.Rule
	Level rules.Level `json:"level,omitempty"`
}

// Rules writes the catalog. Errors are *ExitError with ExitUsage.
func Rules(ctx context.Context, o RulesOptions) error {
	if o.Format == "" {
		o.Format = "text"
	}
	if o.Format != "text" && o.Format != "json" {
		return usagef("--format %q: want text or json", o.Format)
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	var pol *policy.Policy
	if o.Policy != "" {
		p, err := policy.Discover(ctx, policy.Sources{
			Explicit:     o.Policy,
			ReadExplicit: func(_ context.Context, path string) ([]byte, error) { return os.ReadFile(path) },
			Ranking:      policy.Ranking{Catalog: catalog.All(), BuiltinTools: policysource.BuiltinTools},
		}, catalog.Known)
		if err != nil {
			return usageErr(err)
		}
		pol = p
	}
	listing := ruleListing{Rules: []ruleEntry{}}
	if pol != nil {
		listing.Policy = &ruleListingPolicy{Name: pol.Name, Digest: pol.Digest()}
	}
	for _, r := range catalog.All() {
		e := ruleEntry{Rule: r}
		if pol != nil {
			e.Level = pol.Level(r)
		}
		listing.Rules = append(listing.Rules, e)
	}
	var err error
	if o.Format == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		err = enc.Encode(listing)
	} else {
		err = writeRulesText(o.Stdout, listing)
	}
	if err != nil {
		return fmt.Errorf("writing rules: %w", err)
	}
	return nil
}

// writeRulesText writes one aligned row per rule.
func writeRulesText(w io.Writer, l ruleListing) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	level := l.Policy != nil
	header := "ID\tSEVERITY\tFAMILY\tSTAGE\tCIS\t"
	if level {
		header += "LEVEL\t"
	}
	fmt.Fprintln(tw, header+"TITLE")
	for _, r := range l.Rules {
		cis := strings.Join(r.CIS, ",")
		if cis == "" {
			cis = "-"
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t", r.ID, r.Severity, r.Family, r.Stage, cis)
		if level {
			row += string(r.Level) + "\t"
		}
		fmt.Fprintln(tw, row+r.Title)
	}
	return tw.Flush()
}
