#!/bin/sh
# Container figures for docs/benchmarks.md: a cold `scripts/container-env.sh up` (empty cache: rootfs,
# Node binary, engine data root, BuildKit cache), warm ones (everything cached, nothing changed), a warm
# rebuild after a source change, and the image sizes. Root on Debian, like the container tests.
#   sh bench/containers/run.sh [cold-runs] [warm-runs]
set -eu
cd "$(dirname "$0")/../.."
cold_runs=${1:-1}
warm_runs=${2:-3}
cache=$(mktemp -d /tmp/asc-bench-cache.XXXXXX)
run_dir=$(mktemp -d /tmp/asc-b.XXXXXX)
export AGENT_SIDECARS_CACHE="$cache" AGENT_SIDECARS_ENGINE_DIR="$run_dir"
cleanup() {
  sh scripts/container-env.sh stop >/dev/null 2>&1 || true
  rm -rf "$cache" "$run_dir"
}
trap cleanup EXIT INT TERM

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
timed_up() {
  start=$(date +%s%N)
  sh scripts/container-env.sh up >/dev/null 2>"$run_dir/up.log" || { cat "$run_dir/up.log" >&2; exit 1; }
  seconds "$start" "$(date +%s%N)"
}

for n in $(seq 1 "$cold_runs"); do
  sh scripts/container-env.sh stop >/dev/null 2>&1 || true
  rm -rf "${cache:?}"/* "${run_dir:?}"/*
  echo "cold up $n: $(timed_up) s"
done
for n in $(seq 1 "$warm_runs"); do
  sh scripts/container-env.sh stop >/dev/null 2>&1
  echo "warm up $n (engine restarted, nothing changed): $(timed_up) s"
done
# A source change: what a developer's rerun of the container tests pays.
touch_file=packages/shared/src/index.ts
cp "$touch_file" "$run_dir/saved.ts"
trap 'cp "$run_dir/saved.ts" "$touch_file"; cleanup' EXIT INT TERM
printf '\n// bench: %s\n' "$(date +%s%N)" >>"$touch_file"
start=$(date +%s%N)
sh scripts/container-env.sh build >/dev/null 2>"$run_dir/up.log"
echo "warm rebuild after a source change: $(seconds "$start" "$(date +%s%N)") s"
cp "$run_dir/saved.ts" "$touch_file"
DOCKER_HOST=unix://$run_dir/docker.sock /usr/bin/docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
  sort | sed 's/^/image /'
