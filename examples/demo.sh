#!/usr/bin/env bash
# make demo: build every example with hardenkit against the dev environment,
# side by side where the steps do not depend on each other, and end with the
# report of the evidence. Usage: examples/demo.sh BIN_DIR OUT_DIR LDFLAGS
#
# What runs in parallel: building the CLI, the examples' prebuilt server and
# starting the dev environment (which builds buildkitd once, into its state
# directory: make demo does not build a second one); then, per example, the
# hardened and the plain build. Each step prints when it starts and how long
# it took; its output goes to OUT_DIR/logs/ and is shown, filtered, in order.
set -euo pipefail

bin=$1 out=$2 ldflags=$3
go=${GO:-go}
logs=$out/logs
mkdir -p "$bin" "$out" "$logs"
start=$(date +%s)
exec > >(tee "$out/demo.log") 2>&1

elapsed() { echo $(( $(date +%s) - start ))s; }

# step NAME CMD...: run CMD in the background with its output in a log,
# announce it, and record its pid for wait_step.
declare -A pids
step() {
	local name=$1; shift
	echo "[$(elapsed)] started: $name"
	( t0=$(date +%s); rc=0; "$@" > "$logs/$name.log" 2>&1 || rc=$?
	  echo "[$(elapsed)] $( [ $rc -eq 0 ] && echo finished || echo FAILED ): $name ($(( $(date +%s) - t0 ))s)"; exit $rc ) &
	pids[$name]=$!
}

# wait_step NAME: wait for a step; on failure show the end of its log.
wait_step() {
	if ! wait "${pids[$1]}"; then
		echo "--- $1 failed; the end of $logs/$1.log:"; tail -n 30 "$logs/$1.log"; exit 1
	fi
}

# A progress line every 20 s while something runs, so that a first run
# (buildkitd and the base images are built from source) never looks stuck.
( while sleep 20; do echo "[$(elapsed)] still working…"; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT

step cli env CGO_ENABLED=0 "$go" build -trimpath -ldflags "$ldflags" -o "$bin/hardenkit" ./cmd/hardenkit
step example-server env CGO_ENABLED=0 "$go" build -trimpath -o examples/static-site/bin/server ./examples/static-site/server
step devenv sh -c "$go run ./integration/cmd/devenv up > '$out/env.sh'"
wait_step cli; wait_step example-server; wait_step devenv
# shellcheck disable=SC1091
. "$out/env.sh"

examples=()
for ex in examples/*/; do
	[ -f "$ex/Dockerfile" ] && examples+=("$(basename "$ex")")
done
for name in "${examples[@]}"; do
	step "$name" "$bin/hardenkit" build --addr "$BUILDKIT_HOST" --progress plain --output "type=oci,dest=$out/$name.tar" "examples/$name"
	step "$name-plain" "$bin/hardenkit" build --addr "$BUILDKIT_HOST" --progress quiet --build-arg HARDENKIT_MODE=off --output "type=oci,dest=$out/$name-plain.tar" "examples/$name"
done
first=""
for name in "${examples[@]}"; do
	wait_step "$name"
	[ -n "$first" ] || first=$(elapsed)
	wait_step "$name-plain"
done
kill $ticker 2>/dev/null || true
for name in "${examples[@]}"; do
	echo; echo "==> hardenkit build examples/$name"
	grep -E '\[hardenkit\]|warning|^ - |error|Dockerfile:|>>>' "$logs/$name.log" || true
	echo "--- the same Dockerfile with HARDENKIT_MODE=off (what dockerfile.v0 builds):"
	"$bin/hardenkit" inspect "$out/$name-plain.tar" | grep -E '^(user|layers|files|setuid)'
	echo "--- hardened:"
	"$bin/hardenkit" inspect "$out/$name.tar"
	for f in html markdown; do
		"$bin/hardenkit" report --format "$f" --plain "$out/$name-plain.tar" -o "$out/$name.report.${f/markdown/md}" "$out/$name.tar"
	done
done

echo; echo "static report of an example:"; "$bin/hardenkit" check examples/debian-app || true
last=debian-app
echo; echo "==> hardenkit report $out/$last.tar"
"$bin/hardenkit" report --plain "$out/$last-plain.tar" "$out/$last.tar"
echo "first hardened image after $first; whole demo $(elapsed)"
echo "images written to $out; dev environment left running (make devenv-down stops it)"
for name in "${examples[@]}"; do echo "report: $out/$name.report.html"; done

# No message may say the same thing twice in a row ("X: X: …"): such a
# line means an error was wrapped twice on its way out.
if perl -ne 'print if /(\b\w[\w ]{10,}\w): \1\b/' "$out/demo.log" | grep .; then
	echo "demo: the lines above repeat a phrase"; exit 1
fi
