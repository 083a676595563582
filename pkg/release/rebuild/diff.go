package rebuild

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hardenkit/hardenkit/pkg/release/store"
)

// The levels of a Difference, outermost first (diffoci's strict order).
const (
	LevelInput    = "input"
	LevelIndex    = "index"
	LevelPlatform = "platform"
	LevelManifest = "manifest"
	LevelConfig   = "config"
	LevelHistory  = "history"
	LevelLayer    = "layer"
	LevelFile     = "file"
)

// Difference is one way the rebuild differs from the original.
type Difference struct {
	// Level is where it was found (LevelInput … LevelFile).
	Level string `json:"level"`
	// Platform is the platform it belongs to; empty for the index and
	// inputs shared by every platform.
	Platform string `json:"platform,omitempty"`
	// What names the field, layer index or file path.
	What string `json:"what"`
	// Change is "added", "removed" or "changed" for a file; the
	// attribute list ("content, mtime") it changed in.
	Change string `json:"change,omitempty"`
	// Want is the original's value, Got the rebuild's.
	Want string `json:"want,omitempty"`
	Got  string `json:"got,omitempty"`
	// Instruction is the Dockerfile instruction that most likely wrote a
	// differing file.
	Instruction string `json:"instruction,omitempty"`
}

// PlatformResult is one platform's verdict.
type PlatformResult struct {
	Platform string `json:"platform"`
	// Want is the original manifest digest, Got the rebuild's.
	Want string `json:"want"`
	Got  string `json:"got,omitempty"`
	// Reproduced is Want == Got.
	Reproduced bool `json:"reproduced"`
}

// Explain names the Dockerfile instruction that wrote path on platform;
// "" when unknown.
type Explain func(platform, path string) string

// maxFileDifferences bounds the files listed per platform: a build that
// stamps every file would otherwise list the whole image.
const maxFileDifferences = 200

// Compare compares the rebuilt image with the original, platform by
// platform, and explains every platform whose manifest differs down to
// the files.
func Compare(ctx context.Context, orig *Image, origStore store.Store, rebuilt *Image, rebuiltStore store.Store, explain Explain) ([]PlatformResult, []Difference, error) {
	var results []PlatformResult
	var diffs []Difference
	if orig.Root.Digest != rebuilt.Root.Digest {
		diffs = append(diffs, Difference{Level: LevelIndex, What: "index digest", Want: orig.Root.Digest.String(), Got: rebuilt.Root.Digest.String(),
			Change: "the index also lists the attestation manifests, whose compliance statements record each build's step timings: only the platforms' image manifests are compared"})
	}
	for _, p := range orig.Platforms {
		res := PlatformResult{Platform: p.Platform, Want: p.Manifest.Digest.String()}
		got := rebuilt.platform(p.Platform)
		if got == nil {
			diffs = append(diffs, Difference{Level: LevelPlatform, Platform: p.Platform, What: "platform", Change: "removed", Want: res.Want})
			results = append(results, res)
			continue
		}
		res.Got = got.Manifest.Digest.String()
		res.Reproduced = res.Want == res.Got
		results = append(results, res)
		if res.Reproduced {
			continue
		}
		d, err := comparePlatform(ctx, p, origStore, got, rebuiltStore, explain)
		if err != nil {
			return nil, nil, fmt.Errorf("comparing %s: %w", p.Platform, err)
		}
		diffs = append(diffs, d...)
	}
	for _, p := range rebuilt.Platforms {
		if orig.platform(p.Platform) == nil {
			diffs = append(diffs, Difference{Level: LevelPlatform, Platform: p.Platform, What: "platform", Change: "added", Got: p.Manifest.Digest.String()})
		}
	}
	return results, diffs, nil
}

// side is one image manifest and its config, read.
type side struct {
	manifest *store.Manifest
	config   map[string]any
}

func readSide(ctx context.Context, st store.Store, d v1.Descriptor) (side, error) {
	raw, _, err := st.Manifest(ctx, d.Digest)
	if err != nil {
		return side{}, err
	}
	m, err := store.ParseManifest(raw)
	if err != nil {
		return side{}, err
	}
	if m.Config == nil {
		return side{}, fmt.Errorf("manifest %s has no config", d.Digest)
	}
	cfg, err := st.Blob(ctx, m.Config.Digest)
	if err != nil {
		return side{}, err
	}
	var c map[string]any
	if err := json.Unmarshal(cfg, &c); err != nil {
		return side{}, fmt.Errorf("decoding config %s: %w", m.Config.Digest, err)
	}
	return side{manifest: m, config: c}, nil
}

// comparePlatform goes down one platform: manifest, config and history,
// layers, files.
func comparePlatform(ctx context.Context, want Platform, wantStore store.Store, got *Platform, gotStore store.Store, explain Explain) ([]Difference, error) {
	a, err := readSide(ctx, wantStore, want.Manifest)
	if err != nil {
		return nil, err
	}
	b, err := readSide(ctx, gotStore, got.Manifest)
	if err != nil {
		return nil, err
	}
	plat := want.Platform
	diffs := []Difference{{Level: LevelManifest, Platform: plat, What: "image manifest", Want: want.Manifest.Digest.String(), Got: got.Manifest.Digest.String()}}
	if a.manifest.Config.Digest != b.manifest.Config.Digest {
		diffs = append(diffs, configDiffs(plat, a.config, b.config)...)
	}
	for i := range max(len(a.manifest.Layers), len(b.manifest.Layers)) {
		var wd, gd string
		if i < len(a.manifest.Layers) {
			wd = a.manifest.Layers[i].Digest.String()
		}
		if i < len(b.manifest.Layers) {
			gd = b.manifest.Layers[i].Digest.String()
		}
		if wd != gd {
			diffs = append(diffs, Difference{Level: LevelLayer, Platform: plat, What: fmt.Sprintf("layer %d", i), Want: wd, Got: gd})
		}
	}
	fa, err := flatten(ctx, wantStore, a.manifest.Layers)
	if err != nil {
		return nil, err
	}
	fb, err := flatten(ctx, gotStore, b.manifest.Layers)
	if err != nil {
		return nil, err
	}
	return append(diffs, fileDiffs(plat, fa, fb, explain)...), nil
}

// configDiffs lists the config fields that differ (config.* one by one,
// history entry by entry).
func configDiffs(plat string, a, b map[string]any) []Difference {
	var out []Difference
	flat := func(m map[string]any) map[string]any {
		o := map[string]any{}
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && (k == "config" || k == "rootfs") {
				for sk, sv := range sub {
					o[k+"."+sk] = sv
				}
				continue
			}
			o[k] = v
		}
		return o
	}
	fa, fb := flat(a), flat(b)
	keys := slices.Sorted(maps.Keys(fa))
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if reflect.DeepEqual(fa[k], fb[k]) {
			continue
		}
		level := LevelConfig
		if k == "history" {
			level = LevelHistory
		}
		out = append(out, Difference{Level: level, Platform: plat, What: k, Want: short(fa[k]), Got: short(fb[k])})
	}
	return out
}

// short is a value's JSON, bounded for a report line.
func short(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
