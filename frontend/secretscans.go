package frontend

import (
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/hardenkit/hardenkit/frontend/evidence/compliance"
	"github.com/hardenkit/hardenkit/frontend/secrets"
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
