package rebuildcmd

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/hardenkit/hardenkit/frontend"
	"github.com/hardenkit/hardenkit/pkg/release/rebuild"
)

// runBuild runs this hardenkit's own `build` with the plan, writing an OCI
// tarball to out. A record of an in-process build is rebuilt in process
// by the same hardenkit version; a record of a frontend image is rebuilt
// by that image, by digest (gatewayBuild).
func runBuild(ctx context.Context, stderr io.Writer, plan rebuild.Plan, o Options, out string) error {
	if plan.FrontendImage != "" {
		return gatewayBuild(ctx, plan, o, out)
	}
	if plan.HardenkitVersion != frontend.Version {
		return usage(fmt.Errorf("the image was built in process by hardenkit %s; this is hardenkit %s: rebuild with that version", plan.HardenkitVersion, frontend.Version))
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the hardenkit binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, self, buildArgs(plan, o, out)...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the rebuild failed (its output is above): %w", err)
	}
	return nil
}

// buildArgs are the `hardenkit build` arguments of the plan: recorded
// args, pins and named contexts first, the verifier's flags after them
// (a later --build-arg or --build-context wins).
func buildArgs(plan rebuild.Plan, o Options, out string) []string {
	var args []string
	if o.Addr != "" {
		args = append(args, "--addr", o.Addr)
	}
	args = append(args, "build", "--no-cache", "--progress", o.Progress, "--output", "type=oci,dest="+out)
	if plan.Target != "" {
		args = append(args, "--target", plan.Target)
	}
	if len(plan.Platforms) > 0 {
		args = append(args, "--platform", strings.Join(plan.Platforms, ","))
	}
	file := o.File
	if file == "" && plan.Dockerfile != "" {
		file = o.Context + string(os.PathSeparator) + plan.Dockerfile
	}
	if file != "" {
		args = append(args, "--file", file)
	}
	buildArgs := plan.BuildArgs
	for _, k := range slices.Sorted(maps.Keys(buildArgs)) {
		args = append(args, "--build-arg", k+"="+buildArgs[k])
	}
	for _, k := range slices.Sorted(maps.Keys(plan.Pins)) {
		args = append(args, "--build-context", k+"="+plan.Pins[k])
	}
	for _, k := range slices.Sorted(maps.Keys(plan.NamedContexts)) {
		args = append(args, "--build-context", k+"="+plan.NamedContexts[k])
	}
	for _, v := range o.BuildArgs {
		args = append(args, "--build-arg", v)
	}
	for _, v := range o.BuildContexts {
		args = append(args, "--build-context", v)
	}
	for _, v := range o.Secrets {
		args = append(args, "--secret", v)
	}
	for _, v := range o.SSH {
		args = append(args, "--ssh", v)
	}
	return append(args, o.Context)
}
