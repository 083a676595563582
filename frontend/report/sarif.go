package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rules"
)

// SARIF constants.
const (
	sarifVersion   = "2.1.0"
	sarifSchema    = "https://json.schemastore.org/sarif-2.1.0.json"
	toolName       = "hardenkit"
	toolInfoURI    = "https://github.com/hardenkit/hardenkit"
	fingerprintKey = "hardenkit/v1"
)

// The SARIF 2.1.0 subset hardenkit writes. Field names follow the spec.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
		Properties  map[string]any    `json:"properties,omitempty"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
	}
	sarifNotification struct {
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations,omitempty"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string            `json:"id"`
		Name                 string            `json:"name,omitempty"`
		ShortDescription     sarifText         `json:"shortDescription"`
		FullDescription      sarifText         `json:"fullDescription"`
		Help                 sarifMessage      `json:"help"`
		HelpURI              string            `json:"helpUri,omitempty"`
		DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
		Properties           sarifRuleProperty `json:"properties"`
	}
	sarifRuleConfig struct {
		Level string `json:"level"`
	}
	sarifRuleProperty struct {
		Tags             []string `json:"tags"`
		SecuritySeverity string   `json:"security-severity"`
		Precision        string   `json:"precision"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifMessage struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           *int               `json:"ruleIndex,omitempty"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations,omitempty"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		Properties          map[string]any     `json:"properties,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
		EndLine   int `json:"endLine,omitempty"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification,omitempty"`
	}
)

// SARIF writes the report as a SARIF 2.1.0 log with one run. catalog is
// the rule metadata to publish as tool.driver.rules (pass catalog.All());
// results refer to it by index. Levels map enforce → error, warn →
// warning, waived → note with a suppression (kind external for an
// exception, inSource for an inline comment), which GitHub code scanning
// shows as dismissed. security-severity follows GitHub's bands (critical
// 9.5, high 8.0, medium 5.5, low 3.0).
func SARIF(w io.Writer, r Report, catalog []rules.Rule) error {
	index := map[string]int{}
	driver := sarifDriver{Name: toolName, Version: r.ToolVersion, InformationURI: toolInfoURI, Rules: []sarifRule{}}
	for _, rule := range catalog {
		if _, dup := index[rule.ID]; dup {
			continue
		}
		index[rule.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRuleOf(rule))
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}, Invocations: []sarifInvocation{sarifInvocationOf(r.Errors)}}
	if r.Policy != (PolicyRef{}) {
		run.Properties = map[string]any{"policy": r.Policy}
	}
	for _, f := range r.Findings {
		run.Results = append(run.Results, sarifResultOf(f, index))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	return nil
}

// sarifInvocationOf records whether the check ran; errors that stopped it
// become error-level tool execution notifications, located in the file
// when known.
func sarifInvocationOf(errs []Error) sarifInvocation {
	inv := sarifInvocation{ExecutionSuccessful: len(errs) == 0}
	for _, e := range errs {
		n := sarifNotification{Level: "error", Message: sarifText{Text: e.Message}}
		if e.File != "" {
			loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(e.File)}}}
			if e.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: e.Line}
			}
			n.Locations = []sarifLocation{loc}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	return inv
}

func sarifRuleOf(r rules.Rule) sarifRule {
	tags := []string{"security"}
	if r.Family != "" {
		tags = append(tags, string(r.Family))
	}
	for _, c := range r.CIS {
		tags = append(tags, "CIS-"+c)
	}
	level := "warning"
	if r.Severity == rules.SeverityHigh || r.Severity == rules.SeverityCritical {
		level = "error"
	}
	help := r.Remediation
	md := fmt.Sprintf("**%s**\n\n%s\n\n**Fix:** %s", r.Title, r.Rationale, r.Remediation)
	if r.HelpURI != "" {
		md += fmt.Sprintf("\n\n[%s documentation](%s)", r.ID, r.HelpURI)
	}
	return sarifRule{
		ID:                   r.ID,
		Name:                 r.Name,
		ShortDescription:     sarifText{Text: r.Title},
		FullDescription:      sarifText{Text: nonEmpty(r.Rationale, r.Title)},
		Help:                 sarifMessage{Text: nonEmpty(help, r.Title), Markdown: md},
		HelpURI:              r.HelpURI,
		DefaultConfiguration: sarifRuleConfig{Level: level},
		Properties: sarifRuleProperty{
			Tags:             tags,
			SecuritySeverity: securitySeverity(r.Severity),
			Precision:        "high",
		},
	}
}

func sarifResultOf(f rules.Finding, index map[string]int) sarifResult {
	res := sarifResult{
		RuleID:              f.Rule,
		Level:               sarifLevel(f.Level),
		Message:             sarifText{Text: nonEmpty(f.Message, f.Rule)},
		PartialFingerprints: map[string]string{fingerprintKey: resultFingerprint(f)},
	}
	if i, ok := index[f.Rule]; ok {
		res.RuleIndex = &i
	}
	if f.File != "" {
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(f.File)}}}
		if f.Line > 0 {
			reg := &sarifRegion{StartLine: f.Line}
			if f.EndLine > f.Line {
				reg.EndLine = f.EndLine
			}
			loc.PhysicalLocation.Region = reg
		}
		res.Locations = []sarifLocation{loc}
	}
	if f.Level == rules.LevelWaived {
		kind := "external"
		if isInlineWaiver(f.Waiver) {
			kind = "inSource"
		}
		res.Suppressions = []sarifSuppression{{Kind: kind, Status: "accepted", Justification: nonEmpty(f.Waiver, "waived")}}
	}
	props := map[string]any{"hardenkit/level": string(f.Level)}
	if f.StageName != "" {
		props["hardenkit/stage"] = f.StageName
	}
	if f.Fingerprint != "" {
		props["hardenkit/secretFingerprint"] = f.Fingerprint
	}
	if f.Waiver != "" {
		props["hardenkit/waiver"] = f.Waiver
	}
	res.Properties = props
	return res
}

// sarifLevel maps a finding level to a SARIF result level.
func sarifLevel(l rules.Level) string {
	switch l {
	case rules.LevelEnforce:
		return "error"
	case rules.LevelWarn:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is GitHub's numeric security-severity for a severity.
func securitySeverity(s rules.Severity) string {
	switch s {
	case rules.SeverityCritical:
		return "9.5"
	case rules.SeverityHigh:
		return "8.0"
	case rules.SeverityMedium:
		return "5.5"
	default:
		return "3.0"
	}
}

// artifactURI turns a file path into a relative URI reference with
// forward slashes and percent-encoding, as SARIF requires.
func artifactURI(file string) string {
	p := filepath.ToSlash(filepath.Clean(file))
	p = strings.TrimPrefix(p, "./")
	return (&url.URL{Path: p}).String()
}

// resultFingerprint identifies a result across runs independently of its
// line, so code scanning keeps tracking an alert when lines move.
func resultFingerprint(f rules.Finding) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Rule, f.File, f.StageName, f.Fingerprint, f.Message}, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
