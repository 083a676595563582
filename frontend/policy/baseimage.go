package policy

import (
	"github.com/distribution/reference"

	"github.com/hardenkit/hardenkit/pkg/baseimage"
)

// AllowsBase matches a base image against the allow-list, by
// pkg/baseimage's rules (shared with LLB hardening).
func AllowsBase(allowed []BaseImage, ref reference.Named) bool {
	return baseimage.Allows(allowed, ref)
}
