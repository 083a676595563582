package main

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/spf13/cobra"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/pkg/ocilayout"
)

// inspectOptions are the flags of "hardenkit inspect".
type inspectOptions struct {
	platform string
	files    bool
	format   string
}

func newInspectCommand() *cobra.Command {
	o := &inspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect [flags] IMAGE.tar",
		Short: "Show the config, files and attestations of a built OCI tarball",
		Long: `inspect reads an OCI layout tarball (hardenkit build -o type=oci,dest=IMAGE.tar)
and prints what a user of the image gets: its config, its layers, a summary of
its root filesystem and the attestations attached to it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.OutOrStdout(), args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.platform, "platform", "", "platform to show in a multi-platform image (default: the only one)")
	cmd.Flags().BoolVar(&o.files, "files", false, "list every file of the flattened root filesystem")
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

// inspection is the JSON form of "hardenkit inspect".
type inspection struct {
	Manifest     string            `json:"manifest"`
	Config       json.RawMessage   `json:"config"`
	Layers       int               `json:"layers"`
	Files        int               `json:"files"`
	Bytes        int64             `json:"bytes"`
	Setuid       []string          `json:"setuid"`
	Attestations map[string]int    `json:"attestations"`
	Paths        map[string]string `json:"paths,omitempty"`
	statements   map[string][][]byte
}

func runInspect(w io.Writer, path string, o *inspectOptions) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--format %q: want text or json", o.format)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening image tarball: %w", err)
	}
	defer f.Close()
	layout, err := ocilayout.Read(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	var img *ocilayout.Image
	if o.platform != "" {
		img, err = layout.Platform(o.platform)
	} else {
		img, err = layout.Single()
	}
	if err != nil {
		return fmt.Errorf("%s: %w (use --platform)", path, err)
	}
	files, err := img.Files()
	if err != nil {
		return fmt.Errorf("reading layers of %s: %w", path, err)
	}
	atts, err := layout.Attestations(img.Descriptor.Digest)
	if err != nil {
		return fmt.Errorf("reading attestations of %s: %w", path, err)
	}

	res := inspection{
		Manifest:     img.Descriptor.Digest.String(),
		Config:       img.RawConfig,
		Layers:       len(img.Manifest.Layers),
		Files:        len(files),
		Setuid:       []string{},
		Attestations: map[string]int{},
	}
	if o.files {
		res.Paths = map[string]string{}
	}
	for _, p := range ocilayout.SortedPaths(files) {
		file := files[p]
		res.Bytes += file.Size
		if file.Type == tar.TypeReg && file.Mode&0o6000 != 0 {
			res.Setuid = append(res.Setuid, p)
		}
		if o.files {
			res.Paths[p] = file.Describe()
		}
	}
	res.statements = atts
	for pt, stmts := range atts {
		res.Attestations[pt] = len(stmts)
	}
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printInspection(w, res, img.Config, files, o.files)
}

func printInspection(w io.Writer, res inspection, cfg map[string]any, files map[string]ocilayout.File, listFiles bool) error {
	c, _ := cfg["config"].(map[string]any)
	fmt.Fprintf(w, "manifest:     %s\n", res.Manifest)
	fmt.Fprintf(w, "platform:     %v/%v\n", cfg["os"], cfg["architecture"])
	fmt.Fprintf(w, "created:      %v\n", cfg["created"])
	for _, key := range []string{"User", "Entrypoint", "Cmd", "WorkingDir", "Env", "ExposedPorts", "Healthcheck", "Labels"} {
		if v, ok := c[key]; ok && v != nil {
			dt, err := json.Marshal(v)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%-13s %s\n", strings.ToLower(key[:1])+key[1:]+":", dt)
		}
	}
	hist, _ := cfg["history"].([]any)
	fmt.Fprintf(w, "layers:       %d (%d history entries)\n", res.Layers, len(hist))
	fmt.Fprintf(w, "files:        %d, %d bytes\n", res.Files, res.Bytes)
	fmt.Fprintf(w, "setuid/gid:   %d %s\n", len(res.Setuid), strings.Join(res.Setuid, " "))
	if len(res.Attestations) == 0 {
		fmt.Fprintln(w, "attestations: none")
	}
	types := make([]string, 0, len(res.Attestations))
	for pt := range res.Attestations {
		types = append(types, pt)
	}
	sort.Strings(types)
	for _, pt := range types {
		fmt.Fprintf(w, "attestation:  %s (%d)\n", pt, res.Attestations[pt])
		for _, stmt := range res.statements[pt] {
			for _, line := range summarizeStatement(pt, stmt) {
				fmt.Fprintf(w, "              %s\n", line)
			}
		}
	}
	if listFiles {
		for _, p := range ocilayout.SortedPaths(files) {
			fmt.Fprintf(w, "  %s  %s\n", files[p].Describe(), p)
		}
	}
	return nil
}

// summarizeStatement describes an in-toto statement in a few lines: the
// packages of an SPDX SBOM, the policy and rule results of a compliance
// statement.
func summarizeStatement(predicateType string, stmt []byte) []string {
	var st struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(stmt, &st); err != nil {
		return []string{"unreadable statement: " + err.Error()}
	}
	switch predicateType {
	case intoto.PredicateSPDX:
		var doc struct {
			Packages []struct {
				Name string `json:"name"`
			} `json:"packages"`
		}
		if err := json.Unmarshal(st.Predicate, &doc); err != nil {
			return []string{"unreadable SPDX document: " + err.Error()}
		}
		names := make([]string, 0, len(doc.Packages))
		for _, p := range doc.Packages {
			names = append(names, p.Name)
		}
		sort.Strings(names)
		return []string{fmt.Sprintf("%d packages: %s", len(names), strings.Join(names, " "))}
	case compliance.PredicateType:
		var p struct {
			Policy          struct{ Name, Digest, Baseline string } `json:"policy"`
			Mode            string                                  `json:"mode"`
			SourceDateEpoch int64                                   `json:"sourceDateEpoch"`
			Rules           []struct{ ID, Result string }           `json:"rules"`
			Exceptions      []struct{ ID string }                   `json:"exceptions"`
			Vulnerabilities struct{ Status string }                 `json:"vulnerabilities"`
			Inspection      *struct {
				Scanner   string   `json:"scanner"`
				Unscanned []string `json:"unscanned"`
			} `json:"inspection"`
		}
		if err := json.Unmarshal(st.Predicate, &p); err != nil {
			return []string{"unreadable compliance statement: " + err.Error()}
		}
		results := map[string][]string{}
		for _, r := range p.Rules {
			results[r.Result] = append(results[r.Result], r.ID)
		}
		lines := []string{
			fmt.Sprintf("policy %s (baseline %s) %s, mode %s, SOURCE_DATE_EPOCH %d", p.Policy.Name, p.Policy.Baseline, p.Policy.Digest, p.Mode, p.SourceDateEpoch),
		}
		for _, r := range []string{"fail", "warn", "waived", "pass", "not-evaluated"} {
			if ids := results[r]; len(ids) > 0 {
				lines = append(lines, fmt.Sprintf("%-13s %d: %s", r, len(ids), strings.Join(ids, " ")))
			}
		}
		lines = append(lines, fmt.Sprintf("exceptions applied: %d; vulnerabilities: %s", len(p.Exceptions), p.Vulnerabilities.Status))
		if in := p.Inspection; in != nil {
			l := fmt.Sprintf("image inspected by the %s scanner; files too large to scan for secrets: %d", in.Scanner, len(in.Unscanned))
			if len(in.Unscanned) > 0 {
				l += " (" + strings.Join(in.Unscanned, " ") + ")"
			}
			lines = append(lines, l)
		}
		return lines
	}
	return nil
}
