// Command hardenkit-frontend is the entry point of hardenkit's frontend
// image: BuildKit starts it for `# syntax=<registry>/hardenkit:<ver>`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto"

	"github.com/hardenkit/hardenkit/frontend"
)

func main() {
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
