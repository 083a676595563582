package frontend

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/catalog"
	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/inspect"
	"github.com/hardenkit/hardenkit/frontend/policy"
	"github.com/hardenkit/hardenkit/frontend/secrets"
	"github.com/hardenkit/hardenkit/pkg/rules"
)

// secretScans says, per place, how much the secret scan read and what it
// trusted, for the compliance statement: the files of the image and of
// the build context (with the files scanned with the high-confidence
// detectors only, and why), and the config values and build arguments,
// which are all scanned with every detector.
func secretScans(image, context *secrets.TreeStats, img *dockerspec.DockerOCIImage, buildArgs map[string]string) []compliance.SecretScan {
	var out []compliance.SecretScan
	files := func(place string, s *secrets.TreeStats) {
		if s == nil {
			return
		}
		out = append(out, compliance.SecretScan{Place: place, Scanned: s.Files, Bytes: s.Bytes, Names: s.Names,
			Binary: s.Binary, PackageVerified: s.PackageVerified, Chunked: s.Chunked, AllowListed: s.AllowListed, Decoded: s.Decoded})
	}
	files("image-files", image)
	files("context-files", context)
	if img != nil {
		out = append(out,
			compliance.SecretScan{Place: "env", Scanned: len(img.Config.Env)},
			compliance.SecretScan{Place: "labels", Scanned: len(img.Config.Labels)},
			compliance.SecretScan{Place: "history", Scanned: len(img.History)})
	}
	return append(out, compliance.SecretScan{Place: "build-args", Scanned: len(buildArgs)})
}

// publicOrigins returns res's findings with the public content ones
// checked against the Dockerfile (inspect.PublicOrigins): a package file
// or database that an instruction of the shipped stage's chain wrote or
// names vouches for nothing. origins.Of says "written …" for exactly
// those: a COPY or ADD whose destination covers the path, or a RUN that
// names it.
func publicOrigins(res inspect.Result, pol *policy.Policy, origins dockerfilemodel.Origins) []rules.Finding {
	if len(res.Public) == 0 {
		return res.Findings
	}
	level := func(id string) rules.Level {
		r, _ := catalog.Lookup(id)
		return pol.Level(r)
	}
	writtenBy := func(p string) string {
		what, _ := origins.Of(p)
		if strings.HasPrefix(what, "written") {
			return what
		}
		return ""
	}
	return inspect.PublicOrigins(append([]rules.Finding(nil), res.Findings...), res.Public, level, writtenBy)
}

// findingOrigin names the instruction an image finding's path comes from
// (dockerfilemodel Origins.Of). A secret in a file (HK3052) is pointed at
// the instruction that created it (Origins.CreatedBy): a key a RUN or a
// package's maintainer script generated is fixed where it is made, not at
// the last RUN; its advice says so, since a key removed by a later RUN
// stays in the earlier layer, and "rotate" means generating it at run
// time.
func findingOrigin(o dockerfilemodel.Origins, f *rules.Finding) (string, []parser.Range) {
	if f.Rule != ruleSecretInFile || inspect.IsPublicContent(*f) {
		return o.Of(f.File)
	}
	what, how, rs := o.CreatedBy(f.File)
	if how == "run" {
		f.Message = strings.Replace(f.Message, inspect.FileSecretAdvice, fmt.Sprintf(
			"it was generated during the build, so every container of this image has the same key: remove it in the same RUN that creates it (… && rm -f %s) or keep the build from creating it, and generate it when the container starts (an entrypoint step, a mounted secret)", f.File), 1)
	}
	return what, rs
}
