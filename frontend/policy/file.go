package policy

import (
	sy "github.com/hardenkit/hardenkit/frontend/policy/strictyaml"
)

// The file model mirrors the policy document key for key. Every setting is
// a strictyaml.Value so that merging knows what the file set, and errors
// found after decoding still have a line. docs/policy.schema.json describes
// the same keys; schema_test.go keeps the two in step.

// strList is a list of strings with a line per item.
type strList = sy.Value[[]sy.Value[string]]

type policyFile struct {
	APIVersion sy.Value[string]                      `yaml:"apiVersion"`
	Kind       sy.Value[string]                      `yaml:"kind"`
	Name       sy.Value[string]                      `yaml:"name"`
	Baseline   sy.Value[string]                      `yaml:"baseline"`
	Defaults   *defaultsFile                         `yaml:"defaults"`
	Rules      sy.Value[map[string]sy.Value[string]] `yaml:"rules"`
	Controls   *controlsFile                         `yaml:"controls"`
}

type defaultsFile struct {
	Level  sy.Value[string]                   `yaml:"level"`
	Select sy.Value[[]sy.Value[selectorFile]] `yaml:"select"`
}

type selectorFile struct {
	Families   strList          `yaml:"families"`
	CIS        strList          `yaml:"cis"`
	Severities strList          `yaml:"severities"`
	Stages     strList          `yaml:"stages"`
	Level      sy.Value[string] `yaml:"level"`
}

type controlsFile struct {
	Epoch           *epochFile      `yaml:"epoch"`
	Distroless      *distrolessFile `yaml:"distroless"`
	Tooling         *toolingFile    `yaml:"tooling"`
	User            *userFile       `yaml:"user"`
	Secrets         *secretsFile    `yaml:"secrets"`
	Vulnerabilities *vulnFile       `yaml:"vulnerabilities"`
	Exceptions      *exceptionsFile `yaml:"exceptions"`
	Mode            *modeFile       `yaml:"mode"`
}

type epochFile struct {
	Default sy.Value[int64] `yaml:"default"`
}

type distrolessFile struct {
	Mode         sy.Value[string]               `yaml:"mode"`
	AllowedBases sy.Value[[]sy.Value[baseFile]] `yaml:"allowedBases"`
}

type baseFile struct {
	Pattern sy.Value[string] `yaml:"pattern"`
	Digest  sy.Value[string] `yaml:"digest"`
}

// The tool lists are nullable: null means hardenkit's built-in list, which
// lets a file undo a list its baseline set.
type toolingFile struct {
	PackageManagers strList `yaml:"packageManagers,nullable"`
	NetworkTools    strList `yaml:"networkTools,nullable"`
	Debuggers       strList `yaml:"debuggers,nullable"`
	Shells          strList `yaml:"shells,nullable"`
	Keep            strList `yaml:"keep"`
}

type userFile struct {
	Inject sy.Value[bool] `yaml:"inject"`
	UID    sy.Value[int]  `yaml:"uid"`
	GID    sy.Value[int]  `yaml:"gid"`
}

type secretsFile struct {
	AllowPaths  strList         `yaml:"allowPaths"`
	AllowRules  strList         `yaml:"allowRules"`
	MaxFileSize sy.Value[int64] `yaml:"maxFileSize"`
}

type vulnFile struct {
	FailOn    sy.Value[string] `yaml:"failOn"`
	RequireDB sy.Value[bool]   `yaml:"requireDB"`
	MaxDBAge  sy.Value[string] `yaml:"maxDBAge"`
	DB        sy.Value[string] `yaml:"db"`
}

type exceptionsFile struct {
	File             sy.Value[string] `yaml:"file"`
	MaxLifetime      sy.Value[string] `yaml:"maxLifetime"`
	RequireSignature sy.Value[bool]   `yaml:"requireSignature"`
	ApproverKeys     strList          `yaml:"approverKeys"`
	AllowInline      sy.Value[bool]   `yaml:"allowInline"`
}

type modeFile struct {
	AllowOff sy.Value[bool] `yaml:"allowOff"`
}
