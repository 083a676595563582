package dockerfilecheck

// Control: transport and signature verification left on — every stage.
//
//	HK1021 TLSVerificationDisabled        CIS 4.11
//	HK1022 PackageSignatureCheckDisabled  CIS 4.11, 4.12

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/hardenkit/hardenkit/pkg/rules"
	"github.com/hardenkit/hardenkit/pkg/shellscript"
)

var (
	ruleTLSDisabled = rules.Rule{
		ID:          "HK1021",
		Name:        "TLSVerificationDisabled",
		Title:       "TLS certificate verification switched off",
		Family:      rules.FamilySupplyChain,
		Severity:    rules.SeverityHigh,
		Stage:       rules.StageStatic,
		CIS:         []string{"4.11"},
		Rationale:   "curl -k, wget --no-check-certificate, pip --trusted-host, npm strict-ssl false, git http.sslVerify=false, GIT_SSL_NO_VERIFY and NODE_TLS_REJECT_UNAUTHORIZED=0 let anyone on the network path substitute what the build downloads.",
		Remediation: "Keep verification on. For a private CA, install its certificate (COPY it and run update-ca-certificates, or point the tool at it with --cacert, PIP_CERT, npm cafile, git http.sslCAInfo) instead of disabling checks.",
		HelpURI:     helpURI("HK1021"),
	}
	ruleSignatureDisabled = rules.Rule{
		ID:          "HK1022",
		Name:        "PackageSignatureCheckDisabled",
		Title:       "Package signature verification switched off",
		Family:      rules.FamilySupplyChain,
		Severity:    rules.SeverityCritical,
		Stage:       rules.StageStatic,
		CIS:         []string{"4.11", "4.12"},
		Rationale:   "apt --allow-unauthenticated, [trusted=yes] sources (other than a local file: repository of packages the build made), apk --allow-untrusted, yum/dnf --nogpgcheck (gpgcheck=0), rpm --nosignature and GOSUMDB=off install packages nobody vouched for: CIS 4.11 asks for verified packages only.",
		Remediation: "Import the repository's signing key (apt: signed-by=<keyring>, apk: /etc/apk/keys, rpm: rpm --import) and keep signature checks on.",
		HelpURI:     helpURI("HK1022"),
	}
)

var tlsDisabledControl = control{
	rules: []rules.Rule{ruleTLSDisabled, ruleSignatureDisabled},
	check: checkTLSDisabled,
}

// curlSpec lists curl's short options that take a value, so `-H k` is not
// read as `-k`.
var curlSpec = shellscript.OptSpec{Short: "AbcCdDeEFHKmoPQrtTuUwxXyYz"}

// insecureEnv are environment settings that switch TLS verification off;
// the func says whether a value does.
var insecureEnv = map[string]func(v string) bool{
	"GIT_SSL_NO_VERIFY":            func(string) bool { return true }, // git: any value, even empty
	"NODE_TLS_REJECT_UNAUTHORIZED": func(v string) bool { return v == "0" },
	"PYTHONHTTPSVERIFY":            func(v string) bool { return v == "0" },
	"NPM_CONFIG_STRICT_SSL":        isFalse,
	"YARN_STRICT_SSL":              isFalse,
	"YARN_ENABLE_STRICT_SSL":       isFalse,
	"PIP_TRUSTED_HOST":             func(v string) bool { return v != "" },
	"GOINSECURE":                   func(v string) bool { return v != "" },
	"GOFLAGS":                      func(v string) bool { return strings.Contains(v, "-insecure") },
}

// unsignedEnv are environment settings that switch signature or checksum
// database verification off.
var unsignedEnv = map[string]func(v string) bool{
	"GOSUMDB": func(v string) bool { return v == "off" },
}

// isFalse reports a false-ish config value.
func isFalse(v string) bool {
	switch strings.ToLower(strings.Trim(v, `"'`)) {
	case "false", "0", "no", "off":
		return true
	}
	return false
}

var (
	// gitSSLVerifyKey matches http.sslVerify and http.<url>.sslVerify.
	gitSSLVerifyKey = regexp.MustCompile(`(?i)^http\.(.+\.)?sslverify$`)
	// gpgcheckOff matches gpgcheck=0 in yum/dnf options and repo files.
	gpgcheckOff = regexp.MustCompile(`(?i)\b(repo_|localpkg_)?gpgcheck\s*=\s*(0|false|no|off)\b`)
	// aptTrustedSource matches an apt source entry with [trusted=yes],
	// and the repository URI after it.
	aptTrustedSource = regexp.MustCompile(`\[[^\]\n]*\btrusted=yes\b[^\]\n]*\]\s*([^\s"'\]]*)`)
	// aptUnauthOption matches -o options that accept unsigned repositories.
	aptUnauthOption = regexp.MustCompile(`(?i)(AllowUnauthenticated|AllowInsecureRepositories|AllowDowngradeToInsecureRepositories)\s*=\s*"?(true|1|yes)`)
)

func checkTLSDisabled(f *file, r *reporter) {
	// Instructions already reported for an unsigned-package command; the
	// text scan below would find the same option again.
	unsigned := map[*instr]bool{}
	f.eachCall(func(in *instr, argv []string, _ shellscript.Call) {
		if len(argv) > 2 && shellscript.CommandName(argv[0]) == "go" && argv[1] == "env" && argv[2] == "-w" {
			for _, a := range argv[3:] {
				if n, v, ok := strings.Cut(a, "="); ok {
					checkEnvSetting(r, in, "RUN go env -w sets", n, v)
				}
			}
		}
		if why := insecureTLSCommand(argv); why != "" {
			r.add(ruleTLSDisabled, in.at, in.stage, fmt.Sprintf("%sRUN %s", onbuildPrefix(in), why))
		}
		if why := unsignedPackageCommand(argv); why != "" {
			unsigned[in] = true
			r.add(ruleSignatureDisabled, in.at, in.stage, fmt.Sprintf("%sRUN %s", onbuildPrefix(in), why))
		}
	})
	f.eachScript(func(in *instr, s *shellscript.Script) {
		for _, a := range s.Assigns {
			checkEnvSetting(r, in, "RUN sets", a.Name, a.Value)
		}
	})
	f.each(func(in *instr) {
		switch c := in.cmd.(type) {
		case *instructions.OnbuildCommand:
			return // its trigger is checked as the wrapped instruction
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				checkEnvSetting(r, in, "ENV sets", kv.Key, kv.Value)
			}
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if kv.Value != nil {
					checkEnvSetting(r, in, "ARG sets", kv.Key, *kv.Value)
				}
			}
		}
		// Repository definitions written by RUN or COPY/ADD heredocs.
		if text := in.heredocText(); !unsigned[in] && (text != "" || isRun(in)) {
			if isRun(in) && in.node != nil {
				text = in.node.Original + "\n" + text
			}
			if strings.Contains(text, "trusted=yes") && trustsRemoteSource(text) {
				r.add(ruleSignatureDisabled, in.at, in.stage, fmt.Sprintf("%s%s writes an apt source with [trusted=yes], which accepts unsigned packages", onbuildPrefix(in), strings.ToUpper(in.cmd.Name())))
			}
			if strings.Contains(strings.ToLower(text), "gpgcheck") && gpgcheckOff.MatchString(text) {
				r.add(ruleSignatureDisabled, in.at, in.stage, fmt.Sprintf("%s%s sets gpgcheck=0, which accepts unsigned RPM packages", onbuildPrefix(in), strings.ToUpper(in.cmd.Name())))
			}
		}
	})
}

// trustsRemoteSource reports whether text writes an apt source with
// [trusted=yes] for a repository outside the image. A file: or copy:
// repository holds packages the build itself made (official images build
// .debs and install them from a local repository in the same RUN): there
// is no download to verify.
func trustsRemoteSource(text string) bool {
	for _, m := range aptTrustedSource.FindAllStringSubmatch(text, -1) {
		uri := strings.ToLower(m[1])
		if !strings.HasPrefix(uri, "file:") && !strings.HasPrefix(uri, "copy:") {
			return true
		}
	}
	return false
}

// checkEnvSetting reports an environment variable that turns verification
// off.
func checkEnvSetting(r *reporter, in *instr, how, name, value string) {
	if f, ok := insecureEnv[name]; ok && f(value) {
		r.add(ruleTLSDisabled, in.at, in.stage, fmt.Sprintf("%s%s %s=%s, which turns TLS certificate verification off", onbuildPrefix(in), how, name, value))
	}
	if f, ok := unsignedEnv[name]; ok && f(value) {
		r.add(ruleSignatureDisabled, in.at, in.stage, fmt.Sprintf("%s%s %s=%s, which turns checksum/signature verification off", onbuildPrefix(in), how, name, value))
	}
}

// insecureTLSCommand explains how a command turns TLS verification off,
// or returns "".
func insecureTLSCommand(argv []string) string {
	name := shellscript.CommandName(argv[0])
	args := argv[1:]
	switch {
	case name == "curl":
		for _, o := range curlSpec.Options(args) {
			switch {
			case o == "--insecure" || o == "--proxy-insecure" || o == "--doh-insecure":
				return "runs curl " + o + ", which skips TLS certificate verification"
			case !strings.HasPrefix(o, "--") && shortGroupHas(o, 'k', curlSpec):
				return "runs curl -k (--insecure), which skips TLS certificate verification"
			}
		}
	case name == "wget":
		for _, a := range args {
			if a == "--no-check-certificate" {
				return "runs wget --no-check-certificate, which skips TLS certificate verification"
			}
			if strings.Contains(strings.ReplaceAll(a, "-", "_"), "check_certificate=off") {
				return "runs wget with check_certificate=off, which skips TLS certificate verification"
			}
		}
	case pipName.MatchString(name) || (pythonName.MatchString(name) && len(args) > 1 && args[0] == "-m" && pipName.MatchString(args[1])):
		for i, a := range args {
			if a == "--trusted-host" || strings.HasPrefix(a, "--trusted-host=") {
				return "runs pip --trusted-host, which accepts the host without a valid TLS certificate"
			}
			if strings.HasSuffix(a, "trusted-host") && i > 0 && args[i-1] == "set" {
				return "runs pip config set …trusted-host, which accepts the host without a valid TLS certificate"
			}
		}
	case name == "npm" || name == "yarn" || name == "pnpm":
		for i, a := range args {
			key, val, hasVal := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if key != "strict-ssl" && key != "enableStrictSsl" {
				continue
			}
			if !hasVal && i+1 < len(args) {
				val = args[i+1]
			}
			if isFalse(val) {
				return "runs " + name + " with strict-ssl false, which skips TLS certificate verification"
			}
		}
	case name == "git":
		for i, a := range args {
			key, val, hasVal := strings.Cut(a, "=")
			if !gitSSLVerifyKey.MatchString(key) {
				continue
			}
			if !hasVal && i+1 < len(args) {
				val = args[i+1]
			}
			if isFalse(val) {
				return "runs git with " + key + "=false, which skips TLS certificate verification"
			}
		}
	}
	return ""
}

// unsignedPackageCommand explains how a command installs unsigned
// packages, or returns "".
func unsignedPackageCommand(argv []string) string {
	if name := shellscript.CommandName(argv[0]); name == "rpm" {
		for _, a := range argv[1:] {
			if a == "--nosignature" || a == "--nodigest" || a == "--nogpgcheck" {
				return "runs rpm " + a + ", which installs packages without verifying their signature"
			}
		}
	}
	op, ok := pkgOpOf(argv)
	if !ok {
		return ""
	}
	switch op.manager {
	case "apt":
		if op.hasOption("allow-unauthenticated", "allow-insecure-repositories", "force-yes") {
			return "runs " + op.tool + " with --allow-unauthenticated/--allow-insecure-repositories/--force-yes, which accepts unsigned packages"
		}
		for _, a := range op.args {
			if aptUnauthOption.MatchString(a) {
				return "runs " + op.tool + " -o " + a + ", which accepts unsigned packages"
			}
		}
	case "apk":
		if op.hasOption("allow-untrusted") {
			return "runs apk --allow-untrusted, which installs packages without verifying their signature"
		}
	case "rpm":
		if op.hasOption("nogpgcheck", "no-gpgchecks") {
			return "runs " + op.tool + " --nogpgcheck, which installs packages without verifying their signature"
		}
		for _, a := range op.args {
			if gpgcheckOff.MatchString(a) {
				return "runs " + op.tool + " with gpgcheck=0, which installs packages without verifying their signature"
			}
		}
	case "zypper":
		if op.hasOption("no-gpg-checks") {
			return "runs zypper --no-gpg-checks, which installs packages without verifying their signature"
		}
	}
	return ""
}

// shortGroupHas reports whether a short-option group (-fsSLk) contains
// the letter before any option that takes the rest of the group as its
// value.
func shortGroupHas(group string, letter byte, spec shellscript.OptSpec) bool {
	for i := 1; i < len(group); i++ {
		if group[i] == letter {
			return true
		}
		if strings.IndexByte(spec.Short, group[i]) >= 0 {
			return false
		}
	}
	return false
}

// isRun reports whether the instruction is a RUN.
func isRun(in *instr) bool {
	_, ok := in.cmd.(*instructions.RunCommand)
	return ok
}

// heredocText joins the instruction's heredoc bodies (RUN scripts, COPY
// and ADD inline files).
func (in *instr) heredocText() string {
	if in.node == nil || len(in.node.Heredocs) == 0 {
		return ""
	}
	var b strings.Builder
	for _, h := range in.node.Heredocs {
		b.WriteString(h.Content)
		b.WriteByte('\n')
	}
	return b.String()
}
