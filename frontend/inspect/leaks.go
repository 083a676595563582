package inspect

// Files that should not ship.
//
//	HK3030 CredentialStoreInImage  CIS 4.10 — credential directories and
//	                               files: .ssh/, .aws/, .azure/, .kube/,
//	                               .gnupg/, gcloud's config, Docker's
//	                               config.json, an .npmrc with a token,
//	                               .env files, .netrc, .pypirc, .pgpass,
//	                               .git-credentials
//	HK3031 UnneededFileInImage     — repository metadata (.git/, .svn/,
//	                               .hg/), build files (Dockerfile, compose
//	                               files, .dockerignore), editor and OS
//	                               droppings (*.swp, *~, #*#, .DS_Store,
//	                               .idea/, .vscode/)
//
// These are dockle's CIS-DI-0010 and DKL-LI-0003 file lists, extended.
// A directory is reported once, not each file in it. Whether the files
// hold secrets is HK3052's question; these rules say they should not be
// in an image at all: a COPY . . that brought them in brought in
// everything else of the developer's checkout too.

import (
	"context"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

var ruleCredentialStore = imageRule(rules.Rule{
	ID: "HK3030", Name: "CredentialStoreInImage", Title: "Credential directory or file in the final image",
	Family: rules.FamilySecrets, Severity: rules.SeverityHigh, CIS: []string{"4.10"},
	Rationale:   "SSH keys, cloud CLI credentials, registry logins, package registry tokens and .env files are credentials by purpose: in an image they are readable by everyone who can pull it (CIS Docker Benchmark 4.10).",
	Remediation: "Exclude them in .dockerignore and pass what the build needs with RUN --mount=type=secret or --mount=type=ssh; rotate what has shipped.",
})

var ruleUnneededFile = imageRule(rules.Rule{
	ID: "HK3031", Name: "UnneededFileInImage", Title: "Repository, build or editor file in the final image",
	Family: rules.FamilyMinimalImage, Severity: rules.SeverityLow,
	Rationale:   "Repository metadata, Dockerfiles and editor swap files serve no purpose at run time and disclose source history, build details and unsaved edits (dockle DKL-LI-0003).",
	Remediation: "Add them to .dockerignore, or copy only what the application needs instead of the whole context.",
})

var leaksCheck = check{rules: []rules.Rule{ruleCredentialStore, ruleUnneededFile}, run: checkLeaks}

// leakDirs are directory base names reported as a whole.
var leakDirs = map[string]rules.Rule{
	".ssh": ruleCredentialStore, ".aws": ruleCredentialStore, ".azure": ruleCredentialStore,
	".kube": ruleCredentialStore, ".gnupg": ruleCredentialStore,
	".git": ruleUnneededFile, ".svn": ruleUnneededFile, ".hg": ruleUnneededFile,
	".idea": ruleUnneededFile, ".vscode": ruleUnneededFile,
}

// Credential files by base name; .npmrc counts only with a token.
var credentialFileNames = []string{".dockercfg", ".netrc", "_netrc", ".pypirc", ".pgpass", ".git-credentials"}

// envFileRe matches dotenv files; their templates hold no values.
var (
	envFileRe     = regexp.MustCompile(`^\.env(?:\.[A-Za-z0-9_-]+)?$`)
	envTemplateRe = regexp.MustCompile(`^\.env\.(?:example|sample|template|dist|defaults)$`)
	npmTokenRe    = regexp.MustCompile(`(?m)(?:^|[:\s])(?:_authToken|_auth|_password)[ \t]*=[ \t]*"?[^\s"$]`)
	unneededRe    = regexp.MustCompile(`^(?:Dockerfile|Containerfile|.+\.[Dd]ockerfile|Dockerfile\..+|(?:docker-)?compose(?:\.[A-Za-z0-9_-]+)?\.ya?ml|\.dockerignore|\..+\.sw[a-p]|.+\.sw[op]|.+~|#.+#|\.DS_Store)$`)
)

func checkLeaks(ctx context.Context, e *env) ([]rules.Finding, error) {
	var out []rules.Finding
	var reported []string // directories already reported
	for _, ent := range e.in.Tree.Entries() {
		if slices.ContainsFunc(reported, func(d string) bool { return rootfs.IsUnder(ent.Path, d) }) {
			continue
		}
		base := path.Base(ent.Path)
		if ent.IsDir() {
			r, ok := leakDirs[base]
			if !ok && strings.HasSuffix(ent.Path, "/.config/gcloud") {
				r, ok = ruleCredentialStore, true
			}
			if ok {
				reported = append(reported, ent.Path)
				out = append(out, finding(r, ent.Path, 0, "directory %s should not be in the image (%s)", ent.Path, r.Name))
			}
			continue
		}
		if !ent.IsRegular() {
			continue
		}
		switch {
		case slices.Contains(credentialFileNames, base),
			base == "config.json" && path.Base(path.Dir(ent.Path)) == ".docker",
			envFileRe.MatchString(base) && !envTemplateRe.MatchString(base):
			out = append(out, finding(ruleCredentialStore, ent.Path, 0, "credential file %s should not be in the image", ent.Path))
		case base == ".npmrc" || base == "npmrc":
			if !e.on(ruleCredentialStore) {
				continue
			}
			dt, _, err := e.readFile(ctx, ent.Path)
			if err != nil {
				return nil, err
			}
			if npmTokenRe.Match(dt) {
				out = append(out, finding(ruleCredentialStore, ent.Path, 0, "%s holds an npm registry credential", ent.Path))
			}
		case unneededRe.MatchString(base):
			out = append(out, finding(ruleUnneededFile, ent.Path, 0, "%s should not be in the image (%s)", ent.Path, ruleUnneededFile.Name))
		}
	}
	return out, nil
}
