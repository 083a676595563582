package rebuild

import (
	"github.com/containerd/platforms"

	"github.com/hardenkit/hardenkit/frontend/dockerfilemodel"
)

// Explainer returns an Explain that names, per platform, the Dockerfile
// instruction that most likely wrote a path (dockerfilemodel's origins of
// the exported stage); nil when the Dockerfile does not parse.
func Explainer(dockerfile []byte, name string, plan Plan) Explain {
	f, err := dockerfilemodel.Parse(dockerfile)
	if err != nil {
		return nil
	}
	origins := map[string]*dockerfilemodel.Origins{}
	return func(platform, p string) string {
		o, ok := origins[platform]
		if !ok {
			o = originsFor(f, name, plan, platform)
			origins[platform] = o
		}
		if o == nil {
			return ""
		}
		what, _, _ := o.CreatedBy(p)
		return what
	}
}

func originsFor(f *dockerfilemodel.File, name string, plan Plan, platform string) *dockerfilemodel.Origins {
	p, err := platforms.Parse(platform)
	if err != nil {
		return nil
	}
	v, err := f.For(dockerfilemodel.Target{Stage: plan.Target, BuildArgs: plan.BuildArgs, Platform: p, BuildPlatform: platforms.DefaultSpec()})
	if err != nil {
		return nil
	}
	o, err := v.Origins(name)
	if err != nil {
		return nil
	}
	return &o
}
