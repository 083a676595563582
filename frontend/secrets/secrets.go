package secrets

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Finding is one secret at one place. It deliberately has no field that
// could hold the secret: callers may print, log, marshal and attest it.
type Finding struct {
	// Rule is the detector: a gitleaks rule id ("aws-access-token",
	// "generic-api-key") or one of hardenkit's (RulePrivateKey, …).
	Rule string `json:"rule"`
	// Where is the place, one of the Where* prefixes followed by a path or
	// name: "file:/etc/app.conf", "env:API_TOKEN", "label:x",
	// "history:3", "build-arg:TOKEN", "context:config/key.pem".
	Where string `json:"where"`
	// Line is the 1-based line in a text file, or in a multi-line config
	// value; 0 for single-line values, binary files and findings about a
	// whole file.
	Line int `json:"line,omitempty"`
	// Fingerprint is the first 16 hex digits of the SHA-256 of the secret
	// (Fingerprint): enough to correlate findings and rotations, far too
	// little to recover the value.
	Fingerprint string `json:"fingerprint"`
}

// The prefixes of Finding.Where.
const (
	// WhereFile is a file of the image, by absolute path.
	WhereFile = "file:"
	// WhereContext is a file of the build context, by path relative to
	// the context root.
	WhereContext = "context:"
	// WhereEnv is an Env variable of the image config, by name.
	WhereEnv = "env:"
	// WhereLabel is a label of the image config, by key.
	WhereLabel = "label:"
	// WhereHistory is an entry of the image config history, by 0-based
	// index in the slice given to ScanHistory.
	WhereHistory = "history:"
	// WhereBuildArg is a build argument given to the frontend, by name.
	WhereBuildArg = "build-arg:"
	// WhereOnBuild is an ONBUILD trigger of the image config, by index.
	WhereOnBuild = "onbuild:"
)

// hardenkit's own detector ids. They share Finding.Rule with gitleaks'
// ids, so they carry a prefix no gitleaks rule uses.
const (
	// RulePrivateKey is a private key: a PEM block with a key body, or a
	// key recognised by its structure (DER, bare base64, PKCS#12,
	// JKS/JCEKS, OpenPGP, OpenSSH, PuTTY).
	RulePrivateKey = "hk-private-key"
	// RuleCredentialFile is a credential file recognised by its name and
	// a credential in its content.
	RuleCredentialFile = "hk-credential-file"
	// RuleSecretName is a literal secret-looking value assigned to a
	// secret-named variable or label.
	RuleSecretName = "hk-secret-name"
	// RuleURLCredential is a random-looking password in a URL
	// (scheme://user:password@host) in a config value, a command, a
	// Dockerfile or a file (not a placeholder there).
	RuleURLCredential = "hk-url-credential"
	// RuleGitStore is a git object store (HEAD, objects/, refs/) in the
	// image, whatever its directory is called: its history keeps every
	// secret ever committed, and history never needs to ship.
	RuleGitStore = "hk-git-store"
)

// minReadSize is the smallest read size: a piece must be well over the
// overlap between pieces.
const minReadSize = 4 * chunkOverlap

// DefaultMaxFileSize is the read size when Options.MaxFileSize is 0; it
// is the built-in policies' controls.secrets.maxFileSize (10 MiB).
const DefaultMaxFileSize = 10 << 20

// Options configure a Scanner. They mirror the policy's
// controls.secrets.
type Options struct {
	// AllowPaths are path patterns (rootfs.Match) of file paths (image or context)
	// never scanned nor reported.
	AllowPaths []string
	// AllowRules are detector ids (gitleaks' or hardenkit's) whose
	// findings are dropped.
	AllowRules []string
	// MaxFileSize is the read size, in bytes: the policy's
	// controls.secrets.maxFileSize. A larger file is not skipped: it is
	// read and scanned in pieces of this size that overlap, so memory
	// stays bounded and no secret is cut in two. 0 means
	// DefaultMaxFileSize; values below minReadSize are raised to it.
	MaxFileSize int64
	// Parallelism bounds how many files are read and scanned at once; 0
	// means GOMAXPROCS, at least 4 so that gateway reads overlap.
	Parallelism int
}

// ruleIDShape is what detector ids look like.
var ruleIDShape = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// Scanner finds secrets. It is immutable after New and safe for
// concurrent use.
type Scanner struct {
	gitleaks    *gitleaksEngine
	allowPaths  []string
	allowRules  map[string]bool
	maxFileSize int64
	parallelism int
}

// New compiles the rule set and validates opts: an invalid path pattern,
// an unknown rule id or a negative limit is an error, because a policy
// that does not mean what it says must not silently scan less or more.
func New(opts Options) (*Scanner, error) {
	if opts.MaxFileSize < 0 {
		return nil, fmt.Errorf("secrets: negative max file size %d", opts.MaxFileSize)
	}
	if opts.Parallelism < 0 {
		return nil, fmt.Errorf("secrets: negative parallelism %d", opts.Parallelism)
	}
	var errs []error
	for _, p := range opts.AllowPaths {
		if err := rootfs.ValidatePattern(p); err != nil {
			errs = append(errs, fmt.Errorf("allow path %q: %w", p, err))
		}
	}
	gl, err := newGitleaks()
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	s := &Scanner{
		gitleaks:    gl,
		allowPaths:  slices.Clone(opts.AllowPaths),
		allowRules:  map[string]bool{},
		maxFileSize: max(cmp.Or(opts.MaxFileSize, DefaultMaxFileSize), minReadSize),
		parallelism: opts.Parallelism,
	}
	if s.parallelism == 0 {
		s.parallelism = max(runtime.GOMAXPROCS(0), 4)
	}
	known := s.RuleIDs()
	for i, r := range opts.AllowRules {
		if _, ok := slices.BinarySearch(known, r); !ok {
			// Quote the entry only when it has the shape of a rule id: a
			// secret pasted into the wrong policy field must not end up
			// in an error message.
			if ruleIDShape.MatchString(r) {
				errs = append(errs, fmt.Errorf("allow rule %q: no such secret detector", r))
			} else {
				errs = append(errs, fmt.Errorf("allow rule #%d: not a secret detector id", i+1))
			}
			continue
		}
		s.allowRules[r] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	return s, nil
}

// RuleIDs returns every detector id a Finding may carry, sorted: the
// gitleaks default rules in use and hardenkit's.
func (s *Scanner) RuleIDs() []string {
	ids := append(slices.Clone(s.gitleaks.ruleIDs), RulePrivateKey, RuleCredentialFile, RuleSecretName, RuleURLCredential, RuleGitStore)
	slices.Sort(ids)
	return ids
}

// MaxFileSize is the effective read size of file scans.
func (s *Scanner) MaxFileSize() int64 { return s.maxFileSize }

// Fingerprint is the identifier of a secret in findings: the first 16 hex
// digits of its SHA-256.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:8])
}

func fingerprintBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// ScanBytes scans one blob. where is a Finding.Where value and says what
// the blob is: for WhereFile and WhereContext the path selects
// path-scoped rules, credential-file detection and the allow-listed
// paths, and lines are counted; for WhereEnv, WhereLabel and
// WhereBuildArg the name after the prefix is checked with the value; for
// WhereHistory every NAME=VALUE word of the command is.
func (s *Scanner) ScanBytes(where string, dt []byte) []Finding {
	return s.scan(context.Background(), where, dt)
}

func (s *Scanner) scan(ctx context.Context, where string, dt []byte) []Finding {
	var hits []hit
	switch kind, name := splitWhere(where); kind {
	case WhereFile, WhereContext:
		if s.pathAllowed(name) {
			return nil
		}
		hits = s.scanFile(ctx, name, dt, fileOpts{binary: isBinary(dt), low: !isBinary(dt)})
	case WhereEnv, WhereLabel, WhereBuildArg:
		hits = s.scanAssignment(ctx, name, string(dt))
	case WhereHistory, WhereOnBuild:
		hits = s.scanCommand(ctx, string(dt))
	default:
		hits = s.scanValue(ctx, string(dt))
	}
	return s.findings(where, hits)
}

// splitWhere splits a Where value into its prefix (with the colon) and
// the rest; an unknown prefix yields an empty kind.
func splitWhere(where string) (kind, name string) {
	for _, k := range []string{WhereFile, WhereContext, WhereEnv, WhereLabel, WhereHistory, WhereBuildArg, WhereOnBuild} {
		if rest, ok := strings.CutPrefix(where, k); ok {
			return k, rest
		}
	}
	return "", where
}

func (s *Scanner) pathAllowed(p string) bool {
	for _, pat := range s.allowPaths {
		if rootfs.Match(pat, p) {
			return true
		}
	}
	return false
}

// findings turns hits into sorted, de-duplicated findings at where,
// dropping allow-listed rules.
func (s *Scanner) findings(where string, hits []hit) []Finding {
	var out []Finding
	for _, h := range hits {
		if s.allowRules[h.rule] {
			continue
		}
		out = append(out, Finding{Rule: h.rule, Where: where, Line: h.line, Fingerprint: h.fingerprint})
	}
	sortFindings(out)
	return slices.Compact(out)
}

func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Where, b.Where), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
}
