package rebuild

import "github.com/hardenkit/hardenkit/pkg/rootfs"

func dirSource(dir string) rootfs.Source { return rootfs.DirSource(dir) }
