package secrets

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// credentialFormat is a kind of credential file: which paths it lives at
// and where in its content the credentials are. A file that matches by
// name but holds no credential (an .npmrc with only a registry, a Docker
// config.json with only a credsStore) is not a finding.
type credentialFormat struct {
	// match reports whether a path, by its base name and parent
	// directory, is such a file.
	match func(base, parent string) bool
	// value's first group is a credential.
	value *regexp.Regexp
}

// sshIdentityNames are ssh-keygen's default private key file names.
var sshIdentityNames = []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", "identity"}

// credentialFormats are the credential files gitleaks' content rules miss
// because the credential is a plain password, a base64 user:password or a
// token without a vendor prefix. Never modified after initialisation.
var credentialFormats = []credentialFormat{
	{ // AWS CLI shared credentials and config files.
		match: func(b, d string) bool { return d == ".aws" && (b == "credentials" || b == "config") },
		value: regexp.MustCompile(`(?mi)^[ \t]*(?:aws_secret_access_key|aws_session_token|aws_security_token)[ \t]*=[ \t]*([^\s#;]+)`),
	},
	{ // Docker client config: base64 user:password, identity tokens.
		match: func(b, d string) bool { return (d == ".docker" && b == "config.json") || b == ".dockercfg" },
		value: regexp.MustCompile(`"(?:auth|identitytoken|registrytoken|password)"\s*:\s*"([^"]+)"`),
	},
	{ // npm user and global config.
		match: func(b, _ string) bool { return b == ".npmrc" || b == "npmrc" },
		value: regexp.MustCompile(`(?m)(?:^|[:\s])(?:_authToken|_auth|_password)[ \t]*=[ \t]*"?([^\s"]+)`),
	},
	{ // ftp/curl/git machine passwords.
		match: func(b, _ string) bool { return b == ".netrc" || b == "_netrc" },
		value: regexp.MustCompile(`(?:^|\s)password\s+(\S+)`),
	},
	{ // PyPI upload credentials.
		match: func(b, _ string) bool { return b == ".pypirc" },
		value: regexp.MustCompile(`(?mi)^[ \t]*password[ \t]*[=:][ \t]*(\S+)`),
	},
	{ // PostgreSQL password file: host:port:database:user:password.
		match: func(b, _ string) bool { return b == ".pgpass" },
		value: regexp.MustCompile(`(?m)^[^#:\n][^:\n]*:[^:\n]*:[^:\n]*:[^:\n]*:([^\n]+)$`),
	},
	{ // git's credential store: scheme://user:password@host.
		match: func(b, d string) bool { return b == ".git-credentials" || (d == "git" && b == "credentials") },
		value: regexp.MustCompile(`(?m)^[a-zA-Z][a-zA-Z0-9+.-]*://[^:@/\s]*:([^@\s]+)@`),
	},
}

// credentialFile finds credentials in a file recognised by its path p.
// text is the content scanned (printable strings for binaries), whole the
// raw content, prior the hits already found in it.
func credentialFile(p, text string, whole []byte, lines bool, prior []hit) []hit {
	base, parent := path.Base(p), path.Base(path.Dir(p))
	if slices.Contains(sshIdentityNames, base) {
		// The file is the credential, PEM or not. A key the PEM detector
		// already reported is not reported twice.
		if slices.ContainsFunc(prior, func(h hit) bool { return h.rule == RulePrivateKey }) || len(whole) == 0 {
			return nil
		}
		return []hit{{rule: RuleCredentialFile, fingerprint: fingerprintBytes(whole)}}
	}
	var out []hit
	for _, f := range credentialFormats {
		if !f.match(base, parent) {
			continue
		}
		for _, m := range f.value.FindAllStringSubmatchIndex(text, -1) {
			v := strings.Trim(text[m[2]:m[3]], `"'`)
			if v == "" || strings.HasPrefix(v, "$") {
				continue // a reference to the environment, not a value
			}
			h := hit{rule: RuleCredentialFile, fingerprint: Fingerprint(v)}
			if lines {
				h.line = lineAt(text, m[2])
			}
			out = append(out, h)
		}
	}
	return out
}
