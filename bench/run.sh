#!/usr/bin/env bash
# bench/run.sh quick|full - the benchmark behind `make bench-quick` and `make bench`.
#
# Installs what sjq is compared against from Debian's packages when missing
# (task-spooler, nq, parallel, hyperfine; Slurm through tests/slurm/setup.sh in a
# full run), then runs the Deno driver bench/bench.ts. Results go to
# bench/results/; a full run also rewrites the results section of
# docs/benchmarks.md. Everything started is stopped at the end, also when the
# driver fails.
set -euo pipefail

mode=${1:-quick}
case $mode in
  quick | full) ;;
  *) echo "usage: $0 quick|full" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
DENO=${DENO:-deno}

need=()
command -v tsp >/dev/null || need+=(task-spooler)
command -v nq >/dev/null || need+=(nq)
command -v sem >/dev/null || need+=(parallel)
command -v hyperfine >/dev/null || need+=(hyperfine)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench: missing ${need[*]}: run as root, or apt-get install them first" >&2
    exit 1
  fi
  echo "[bench] installing ${need[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The driver stops what it started, also on SIGINT/SIGTERM; this covers a
# driver that died harder than that.
if ! "$DENO" run -A bench/bench.ts --mode "$mode"; then
  "$DENO" run -A bench/bench.ts --cleanup || true
  exit 1
fi
