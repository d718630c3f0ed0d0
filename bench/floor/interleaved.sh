#!/usr/bin/env bash
# Interleaved A/B(/C...) throughput of proxies that are already listening, for a machine whose speed
# drifts (CPU steal): short wrk runs alternate between the proxies round after round, so every round
# compares them within a few seconds of each other; the per-round ratios are what count.
#
#   bench/floor/interleaved.sh ROUNDS SECONDS PORT [PORT ...] [-- MODE CLIENTS]
#
# wrk runs on CPU 1 with the peer harness's script (../shared/bench/lua/bench.lua; MODE rr by
# default); start the proxies pinned to CPU 0 and the upstreams on CPU 1 yourself (bench/README.md).
# Bounded: ROUNDS x ports x SECONDS of load, nothing else. Prints one line per round: rN req/s...
set -euo pipefail
rounds=$1 seconds=$2
shift 2
ports=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do ports+=("$1"); shift; done
[ $# -gt 0 ] && shift
script="$(dirname "$0")/../../../shared/bench/lua/bench.lua"
for round in $(seq "$rounds"); do
  line="r$round"
  for port in "${ports[@]}"; do
    rps=$(taskset -c 1 wrk -t1 -c64 -d"${seconds}s" -s "$script" "http://127.0.0.1:$port/" -- "${@:-rr}" | awk '/Requests\/sec/ {print $2}')
    line="$line ${rps:-0}"
  done
  echo "$line"
done
