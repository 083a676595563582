#!/usr/bin/env bash
# Compares hardenkit's in-process SBOM generation with the syft CLI on the
# same root filesystem (the Debian bookworm minbase rootfs of the devenv)
# and prints the ratio.
#
# The CLI is built from the syft module at the version go.mod requires, with
# `go install …@version`: the released CLI with its own dependency set,
# leaving hardenkit's go.mod untouched. Both sides run syft's image and file
# catalogers and write SPDX and CycloneDX JSON.
#
#   frontend/evidence/sbom/bench.sh                  # 3 runs each
#   BENCHTIME=10x frontend/evidence/sbom/bench.sh
#   HARDENKIT_DEBIAN_ROOTFS_TAR=/path/rootfs.tar frontend/evidence/sbom/bench.sh
set -euo pipefail

cd "$(dirname "$0")/../../.."
GO=${GO:-go}
BENCHTIME=${BENCHTIME:-3x}
BIN=${HARDENKIT_BENCH_BIN:-$PWD/bin/bench}

syft_version=$($GO list -m -f '{{.Version}}' github.com/anchore/syft)
if [ ! -x "$BIN/syft-$syft_version" ]; then
	echo "building syft CLI $syft_version" >&2
	mkdir -p "$BIN"
	GOBIN="$BIN" CGO_ENABLED=0 $GO install "github.com/anchore/syft/cmd/syft@$syft_version"
	mv "$BIN/syft" "$BIN/syft-$syft_version"
fi

HARDENKIT_SYFT_CLI="$BIN/syft-$syft_version" \
	$GO test -run '^$' -bench '^BenchmarkSBOMDebianRootfs$' -benchtime "$BENCHTIME" ./frontend/evidence/sbom/ |
	awk -v ver="$syft_version" '
		{ print }
		/^BenchmarkSBOMDebianRootfs\/library/  { lib = $3 / 1e9 }
		/^BenchmarkSBOMDebianRootfs\/syft-cli/ { cli = $3 / 1e9 }
		END {
			if (lib == 0 || cli == 0) { print "no ratio: a benchmark did not run" > "/dev/stderr"; exit 1 }
			printf "SBOM of the Debian rootfs: in-frontend %.2fs, syft CLI %s %.2fs, in-frontend/CLI ratio %.2f\n", lib, ver, cli, lib / cli
		}'
