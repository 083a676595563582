package dockerfilemodel

import (
	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// PlatformArgs are the automatic ARGs dockerfile2llb defines for every
// build (its defaultArgs, in platform.go), in its order: the build and
// target platforms and the target stage's name ("default" when it has
// none). A build argument of the same name overrides one, as it does in
// BuildKit.
func PlatformArgs(build, target ocispecs.Platform, targetStage string, overrides map[string]string) map[string]string {
	if targetStage == "" {
		targetStage = "default"
	}
	s := [...][2]string{
		{"BUILDPLATFORM", platforms.Format(build)},
		{"BUILDOS", build.OS},
		{"BUILDOSVERSION", build.OSVersion},
		{"BUILDARCH", build.Architecture},
		{"BUILDVARIANT", build.Variant},
		{"TARGETPLATFORM", platforms.FormatAll(target)},
		{"TARGETOS", target.OS},
		{"TARGETOSVERSION", target.OSVersion},
		{"TARGETARCH", target.Architecture},
		{"TARGETVARIANT", target.Variant},
		{"TARGETSTAGE", targetStage},
	}
	env := make(map[string]string, len(s))
	for _, kv := range s {
		v := kv[1]
		if ov, ok := overrides[kv[0]]; ok {
			v = ov
		}
		env[kv[0]] = v
	}
	return env
}
