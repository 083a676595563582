// Package stepio is how the frontend and the build steps of its own image
// (`hardenkit-frontend scan`, `hardenkit-frontend harden`) exchange JSON:
// the frontend writes a request into the step's definition, the step reads
// it from its mount and writes its answer to an output mount, and the
// frontend solves the step and reads the answer back in bounded ranges.
package stepio

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/hardenkit/hardenkit/pkg/rootfs"
)

// Answer solves out — a step's output mount — through c and decodes the
// JSON file name in it into v. what names the step in errors.
func Answer(ctx context.Context, c gwclient.Client, out llb.State, name, what string, v any) error {
	def, err := out.Marshal(ctx)
	if err != nil {
		return fmt.Errorf("%s: marshaling LLB: %w", what, err)
	}
	r, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return fmt.Errorf("%s failed (its output in the progress says why): %w", what, err)
	}
	ref, err := r.SingleRef()
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", what, err)
	}
	dt, err := rootfs.ReferenceSource(ref).ReadFile(ctx, "/"+name, 0, 0)
	if err != nil {
		return fmt.Errorf("%s: reading %s: %w", what, name, err)
	}
	if err := json.Unmarshal(dt, v); err != nil {
		return fmt.Errorf("%s: decoding %s: %w", what, name, err)
	}
	return nil
}

// ReadRequest decodes the step's request file into v.
func ReadRequest(path string, v any) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	if err := json.Unmarshal(dt, v); err != nil {
		return fmt.Errorf("decoding the request: %w", err)
	}
	return nil
}

// WriteAnswer writes v as JSON to the step's answer file.
func WriteAnswer(path string, v any) error {
	out, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the answer: %w", err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("writing the answer: %w", err)
	}
	return nil
}
