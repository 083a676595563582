package devenv

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/hardenkit/hardenkit/frontend/policy"
)

// WithOrgPolicy returns the frontend image img with an organisation policy
// at policy.OrgPolicyPath: a layer of its own on top of the frontend's, so
// that an organisation builds its frontend image from this repository's
// and the policy outranks every policy a build brings along. The policy is
// parsed first: an image must not carry a policy that fails every build.
func WithOrgPolicy(img v1.Image, data []byte) (v1.Image, error) {
	if _, err := policy.Parse(policy.OrgPolicyPath, data, nil); err != nil {
		return nil, fmt.Errorf("organisation policy: %w", err)
	}
	tb, err := buildTar([]fileEntry{
		dirEntry("etc", 0o755),
		dirEntry("etc/hardenkit", 0o755),
		fileData("etc/hardenkit/policy.yaml", 0o644, data),
	}, epoch)
	if err != nil {
		return nil, fmt.Errorf("building the organisation policy layer: %w", err)
	}
	layer, err := layerFromBytes(tb)
	if err != nil {
		return nil, fmt.Errorf("organisation policy layer: %w", err)
	}
	out, err := mutate.AppendLayers(img, layer)
	if err != nil {
		return nil, fmt.Errorf("adding the organisation policy to the frontend image: %w", err)
	}
	return out, nil
}
