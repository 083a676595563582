// Package secrets finds credentials — API tokens, private keys, passwords,
// credential files — in an image's files, in its config (Env, labels,
// history), in a build's arguments and in the build context, and reports
// them without ever carrying them: a Finding names the detector, the
// place and a short hash of the secret, nothing else. No field, error or
// log line of this package holds secret bytes, a prefix or suffix of
// them, or gitleaks' Match/Secret/Line fields.
//
// Detection is gitleaks' default rule set (github.com/zricethezav/gitleaks/v8,
// about 220 rules with a keyword prefilter, entropy thresholds and
// allow-lists) used as a library, plus hardenkit's detectors for what it
// misses:
//
//   - RulePrivateKey: any PEM "-----BEGIN … PRIVATE KEY-----" block with a
//     key body, also truncated, indented, JSON-escaped or found in a
//     binary (it replaces gitleaks' private-key rule), and a private key
//     recognised by its structure whatever wraps it (keys.go): DER
//     PKCS#1, SEC 1, PKCS#8 (encrypted too) anywhere in a file's bytes or
//     as a bare base64 body, PKCS#12 key bags, JKS/JCEKS key entries,
//     OpenPGP secret-key packets, OpenSSH's binary format, PuTTY files;
//   - RuleCredentialFile: credential files recognised by name and content
//     (.aws/credentials, .docker/config.json auths, .npmrc tokens, .netrc,
//     .pypirc, .pgpass, .git-credentials, SSH identity files);
//   - RuleSecretName: a literal, random-looking value assigned to a
//     secret-named variable (BuildKit's SecretsUsedInArgOrEnv tokens) in
//     Env, labels, build args and history;
//   - RuleURLCredential: a password in scheme://user:password@host, in
//     config values and commands, and in files unless it is a
//     placeholder (urlcred.go).
//
// Every file is scanned whole, a large one in overlapping pieces; a file
// that cannot be read fails the scan. Binary files (a NUL byte in their
// first 8000 bytes, as git and grep decide) are reduced to their
// printable strings first and scanned with the high-confidence detectors
// only, as are files whose bytes match their package database's digest
// (pkgdigest.go) and those gitleaks' global allow-list skips by path. In a binary a match must stand apart from the bytes
// around it, except a provider token whose checksum or layout tells it
// from packed string literals (glued.go). Encoded, compressed and reversed secrets are decoded
// in depth — base16/32/64 in every common form, backslash escapes,
// UTF-16, gzip, bzip2, xz, zstd, zlib, deflate, zip and tar wherever they
// start and however nested (decode.go, decode_text.go,
// decode_compress.go) — within a per-file depth and byte budget
// (budget.go): a file whose budget runs out is unscanned, not clean.
// Entry names, symlink targets and git object stores are checked too
// (tree.go). The static Dockerfile rules use the same
// detectors (text.go).
//
// gitleaks' detector runs a rule's regular expression on a whole fragment
// as soon as one of the rule's keywords occurs anywhere in it; for rules
// keyed on common words ("key", "token", "api") that is nearly every
// fragment, and its generic-api-key pattern costs microseconds per byte
// on Go's regexp engine. Here every rule runs in its own single-rule
// gitleaks detector, only on windows of text around occurrences of its
// own keywords, sized to what the rule's pattern can reach (gitleaks.go).
// The findings are gitleaks' — same rules, entropy thresholds and
// allow-lists — at a fraction of the cost; TestWindowsFindWhatGitleaksFinds
// holds the two to the same answers.
package secrets
