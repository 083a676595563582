// Package sbom catalogs a root filesystem directory with syft, used as a
// library, and encodes the result as SPDX 2.3 JSON and CycloneDX JSON that
// are byte-for-byte reproducible.
//
// The rootfs is cataloged the way BuildKit's syft scanner catalogs an image
// (buildkit-syft-scanner: a directory source with syft's image catalogers):
// installed packages — dpkg/apk/rpm databases, Go build info in binaries,
// installed python/node/java packages, binary classifiers — and the files
// those packages own, with digests. Directory-only catalogers (lock files,
// go.mod, requirements.txt, …) are not run: they describe what a source tree
// declares, not what an image ships. syft's "sbom-cataloger", which BuildKit's
// scanner adds, is not run either: it lists the packages of SBOM documents
// found in the image, whether or not those packages are present.
//
// syft's encoders stamp the wall-clock time and random UUIDs into each
// document. Generate rewrites exactly those fields: the creation time becomes
// the build's SOURCE_DATE_EPOCH, the SPDX document namespace and CycloneDX
// serial number are derived from a SHA-256 of the rest of the document, and
// every list whose order syft does not fix is sorted.
//
// syft's RPM cataloger reads rpm sqlite databases through database/sql with
// the driver named "sqlite". This package links github.com/glebarez/go-sqlite
// for it, the same driver grype links, so a binary may contain both without
// two registrations of "sqlite" (which panics at init). Never link
// modernc.org/sqlite next to this package.
package sbom

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cyclonedx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"
	"github.com/spdx/tools-golang/spdx/v2/v2_3"

	_ "github.com/glebarez/go-sqlite" // the "sqlite" database/sql driver syft's RPM cataloger needs; see the package doc

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging/filecataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/format"
	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/spdxjson"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"github.com/anchore/syft/syft/source/directorysource"
)

// SyftVersion is the version of syft linked, recorded as the SPDX creator
// tool and CycloneDX tool. syft reads its own version from the binary's
// build info, which test binaries and stripped builds lack; a constant
// keeps the documents identical everywhere (a test keeps it equal to
// go.mod).
const SyftVersion = "v1.57.1"

// DefaultName names the document when Options.Name is empty.
const DefaultName = "rootfs"

// namespaceBase prefixes SPDX document namespaces; the namespace need not
// resolve, it only has to be a unique URI per document content.
const namespaceBase = "https://hardenkit.dev/spdx/"

// Options tune Generate.
type Options struct {
	// Epoch is the creation time written into both documents, the build's
	// SOURCE_DATE_EPOCH. The zero time means the Unix epoch, so that an
	// unset epoch is still deterministic.
	Epoch time.Time
	// Name is the image name the documents describe (the SPDX document
	// name and root package, the CycloneDX metadata component); DefaultName
	// when empty.
	Name string
}

// Result holds the encoded documents and a summary of the packages found.
type Result struct {
	// SPDX is the SPDX 2.3 JSON document.
	SPDX []byte
	// CycloneDX is the CycloneDX JSON document (syft's default spec
	// version, 1.7 for syft v1.57).
	CycloneDX []byte
	// Packages lists every cataloged package, sorted by type, name,
	// version and purl.
	Packages []Package
}

// Package is one cataloged package.
type Package struct {
	// Name of the package.
	Name string `json:"name"`
	// Version of the package as its ecosystem spells it.
	Version string `json:"version"`
	// PURL is the package URL, e.g. "pkg:deb/debian/apt@2.6.1?arch=amd64&distro=debian-12";
	// empty when syft could not form one.
	PURL string `json:"purl,omitempty"`
	// Type is syft's package type: "deb", "apk", "rpm", "go-module",
	// "python", "npm", "java-archive", …
	Type string `json:"type"`
}

// Generate catalogs the root filesystem at rootDir and returns its SBOM in
// SPDX and CycloneDX form. rootDir is the image root: absolute symlinks
// inside it resolve against it, and nothing outside it is read. The host
// path of rootDir appears nowhere in the output, so the same tree yields the
// same bytes wherever it is unpacked.
func Generate(ctx context.Context, rootDir string, opt Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	s, err := catalog(ctx, rootDir, opt)
	if err != nil {
		return nil, err
	}
	epoch := opt.Epoch
	if epoch.IsZero() {
		epoch = time.Unix(0, 0)
	}
	epoch = epoch.UTC()

	spdxDoc, err := encodeSPDX(*s, epoch)
	if err != nil {
		return nil, err
	}
	cdxDoc, err := encodeCycloneDX(*s, epoch)
	if err != nil {
		return nil, err
	}
	return &Result{SPDX: spdxDoc, CycloneDX: cdxDoc, Packages: packages(*s)}, nil
}

// catalog runs syft over rootDir with the image catalogers.
func catalog(ctx context.Context, rootDir string, opt Options) (*syftsbom.SBOM, error) {
	abs, err := filepath.Abs(rootDir)
	if err != nil {
		return nil, fmt.Errorf("sbom: resolving rootfs %q: %w", rootDir, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("sbom: rootfs: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("sbom: rootfs %q is not a directory", rootDir)
	}
	name := cmp.Or(opt.Name, DefaultName)

	// Base = Path makes the directory a chroot: "/usr/lib/x" symlinks and
	// reported locations are relative to the image root. The alias fixes
	// the source's name and artifact id (otherwise derived from the host
	// path).
	src, err := directorysource.New(directorysource.Config{
		Path:  abs,
		Base:  abs,
		Alias: source.Alias{Name: name},
	})
	if err != nil {
		return nil, fmt.Errorf("sbom: opening rootfs %q: %w", rootDir, err)
	}
	defer src.Close()

	cfg := syft.DefaultCreateSBOMConfig().
		WithTool("syft", SyftVersion).
		WithPackagesConfig(hermeticPackagesConfig()).
		WithCatalogerSelection(pkgcataloging.NewSelectionRequest().
			WithDefaults(pkgcataloging.ImageTag, filecataloging.FileTag))

	// syft builds its license scanner (licensecheck's matcher, about 0.7 s
	// of CPU) before it reads a file, and then indexes the directory: on a
	// small image that is most of the SBOM step. Build the scanner here,
	// the way CreateSBOM would, while the directory is indexed (the source
	// keeps its index); CreateSBOM uses a scanner the context carries.
	type licenseScanner struct {
		ctx context.Context
		err error
	}
	scanner := make(chan licenseScanner, 1)
	go func() {
		sctx, err := syft.SetContextLicenseScanner(ctx, cfg.Licenses)
		scanner <- licenseScanner{sctx, err}
	}()
	_, indexErr := src.FileResolver(source.SquashedScope)
	ls := <-scanner
	if err := cmp.Or(indexErr, ls.err); err != nil {
		return nil, fmt.Errorf("sbom: cataloging rootfs: %w", err)
	}
	s, err := syft.CreateSBOM(ls.ctx, src, cfg)
	if err == nil {
		// syft's catalogers do not all watch ctx: a cancelled build
		// must not pass off a partial catalog as the SBOM.
		err = ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("sbom: cataloging rootfs: %w", err)
	}
	// The SBOM describes the image's "/", not the directory it was
	// unpacked to: CycloneDX derives the root component's bom-ref from
	// this path.
	s.Source.Metadata = source.DirectoryMetadata{Path: "/"}
	return s, nil
}

// hermeticPackagesConfig is syft's default package configuration with every
// lookup outside the rootfs switched off: no registry or proxy requests for
// licenses or parent POMs, and no reading of the host's Go module cache or
// Maven repository, whose contents would make the SBOM depend on the machine
// that built it.
func hermeticPackagesConfig() pkgcataloging.Config {
	c := pkgcataloging.DefaultConfig()
	c.Golang = c.Golang.
		WithSearchRemoteLicenses(false).
		WithSearchLocalModCacheLicenses(false).
		WithSearchLocalVendorLicenses(false).
		WithUsePackagesLib(false)
	c.JavaArchive = c.JavaArchive.
		WithUseNetwork(false).
		WithUseMavenLocalRepository(false)
	c.JavaScript = c.JavaScript.WithSearchRemoteLicenses(false)
	c.Python = c.Python.WithSearchRemoteLicenses(false)
	return c
}

func packages(s syftsbom.SBOM) []Package {
	var out []Package
	for _, p := range s.Artifacts.Packages.Sorted() {
		out = append(out, Package{Name: p.Name, Version: p.Version, PURL: p.PURL, Type: string(p.Type)})
	}
	slices.SortFunc(out, func(a, b Package) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version), cmp.Compare(a.PURL, b.PURL))
	})
	return out
}

// encodeSPDX encodes s with syft's SPDX 2.3 JSON encoder, then decodes it
// to fix what the encoder leaves to chance: the creation time, the random
// namespace and list order.
func encodeSPDX(s syftsbom.SBOM, epoch time.Time) ([]byte, error) {
	cfg := spdxjson.DefaultEncoderConfig()
	cfg.Version = "2.3"
	enc, err := spdxjson.NewFormatEncoderWithConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("sbom: creating SPDX encoder: %w", err)
	}
	raw, err := format.Encode(s, enc)
	if err != nil {
		return nil, fmt.Errorf("sbom: encoding SPDX: %w", err)
	}
	var doc v2_3.Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("sbom: re-reading SPDX: %w", err)
	}
	if doc.CreationInfo == nil {
		return nil, errors.New("sbom: SPDX document without creation info")
	}
	doc.CreationInfo.Created = epoch.Format(time.RFC3339)
	sortSPDX(&doc)

	// The namespace is a hash of the document without one: equal
	// documents share it, different ones cannot.
	doc.DocumentNamespace = ""
	body, err := marshalJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("sbom: encoding SPDX: %w", err)
	}
	sum := sha256.Sum256(body)
	doc.DocumentNamespace = namespaceBase + namespaceName(doc.DocumentName) + "-" + hex.EncodeToString(sum[:])
	out, err := marshalJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("sbom: encoding SPDX: %w", err)
	}
	return out, nil
}

// sortSPDX orders every list of the document by its identifiers.
func sortSPDX(doc *v2_3.Document) {
	slices.SortStableFunc(doc.Packages, func(a, b *v2_3.Package) int {
		return cmp.Compare(a.PackageSPDXIdentifier, b.PackageSPDXIdentifier)
	})
	slices.SortStableFunc(doc.Files, func(a, b *v2_3.File) int {
		return cmp.Or(cmp.Compare(a.FileSPDXIdentifier, b.FileSPDXIdentifier), cmp.Compare(a.FileName, b.FileName))
	})
	slices.SortStableFunc(doc.Relationships, func(a, b *v2_3.Relationship) int {
		return cmp.Or(
			cmp.Compare(a.RefA.DocumentRefID, b.RefA.DocumentRefID),
			cmp.Compare(a.RefA.ElementRefID, b.RefA.ElementRefID),
			cmp.Compare(a.Relationship, b.Relationship),
			cmp.Compare(a.RefB.DocumentRefID, b.RefB.DocumentRefID),
			cmp.Compare(a.RefB.ElementRefID, b.RefB.ElementRefID),
			cmp.Compare(a.RelationshipComment, b.RelationshipComment))
	})
	slices.SortStableFunc(doc.OtherLicenses, func(a, b *v2_3.OtherLicense) int {
		return cmp.Compare(a.LicenseIdentifier, b.LicenseIdentifier)
	})
}

// namespaceName makes a document name usable as a URI path segment, as
// syft's own namespace helper does ("#" and ":" are not allowed).
func namespaceName(name string) string {
	r := strings.NewReplacer("#", "-", ":", "-", "/", "-", " ", "-", "?", "-")
	return r.Replace(name)
}

// marshalJSON encodes v like syft's JSON encoders do: compact, no HTML
// escaping, one trailing newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeCycloneDX encodes s with syft's CycloneDX JSON encoder, then fixes
// the timestamp, the random serial number and the dependency order.
func encodeCycloneDX(s syftsbom.SBOM, epoch time.Time) ([]byte, error) {
	enc, err := cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.DefaultEncoderConfig())
	if err != nil {
		return nil, fmt.Errorf("sbom: creating CycloneDX encoder: %w", err)
	}
	raw, err := format.Encode(s, enc)
	if err != nil {
		return nil, fmt.Errorf("sbom: encoding CycloneDX: %w", err)
	}
	var bom cyclonedx.BOM
	if err := cyclonedx.NewBOMDecoder(bytes.NewReader(raw), cyclonedx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("sbom: re-reading CycloneDX: %w", err)
	}
	if bom.Metadata == nil {
		return nil, errors.New("sbom: CycloneDX document without metadata")
	}
	bom.Metadata.Timestamp = epoch.Format(time.RFC3339)
	if bom.Dependencies != nil {
		deps := *bom.Dependencies
		for i := range deps {
			if deps[i].Dependencies != nil {
				slices.Sort(*deps[i].Dependencies)
			}
		}
		slices.SortStableFunc(deps, func(a, b cyclonedx.Dependency) int { return cmp.Compare(a.Ref, b.Ref) })
	}

	bom.SerialNumber = ""
	body, err := encodeBOM(&bom)
	if err != nil {
		return nil, err
	}
	// A name-based (version 5) UUID of the document without its serial:
	// the schema requires a urn:uuid, and equal documents get equal ones.
	bom.SerialNumber = uuid.NewSHA1(uuid.NameSpaceURL, body).URN()
	return encodeBOM(&bom)
}

func encodeBOM(bom *cyclonedx.BOM) ([]byte, error) {
	var buf bytes.Buffer
	enc := cyclonedx.NewBOMEncoder(&buf, cyclonedx.BOMFileFormatJSON)
	enc.SetPretty(false)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, bom.SpecVersion); err != nil {
		return nil, fmt.Errorf("sbom: encoding CycloneDX: %w", err)
	}
	return buf.Bytes(), nil
}
