// Command hardenkit-frontend is the entry point of hardenkit's frontend
// image: BuildKit starts it for `# syntax=<registry>/hardenkit:<ver>`.
// The frontend also runs it inside the build as `hardenkit-frontend scan`,
// the in-build image scanner (frontend/inspect/scanstep), and as
// `hardenkit-frontend sbom`, the in-build SBOM writer (frontend/evidence/sbomstep),
// and as `hardenkit-frontend harden`, hardening's analysis (llb/harden/hardenstep).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto"

	"github.com/hardenkit/hardenkit/frontend"
	"github.com/hardenkit/hardenkit/frontend/evidence/sbomstep"
	"github.com/hardenkit/hardenkit/frontend/inspect/scanstep"
	"github.com/hardenkit/hardenkit/llb/harden/hardenstep"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == scanstep.Subcommand {
		if err := scanstep.Main(appcontext.Context(), os.Args[2:], os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "hardenkit-frontend scan: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == sbomstep.Subcommand {
		if err := sbomstep.Main(appcontext.Context(), os.Args[2:], os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "hardenkit-frontend sbom: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == hardenstep.Subcommand {
		if err := hardenstep.Main(appcontext.Context(), os.Args[2:], os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "hardenkit-frontend harden: %v\n", err)
			os.Exit(1)
		}
		return
	}
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println("hardenkit-frontend", frontend.Version)
		return
	}
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		fmt.Fprintf(os.Stderr, "hardenkit-frontend: %v\n", err)
		os.Exit(1)
	}
}
