#!/usr/bin/env bash
# Relative CPU cost of two proxies that share one core, for a VM whose speed drifts (CPU steal).
#
#   bench/floor/shared-core.sh ROUNDS SECONDS PORT:PID[:MODE] PORT:PID[:MODE]
#
# Both proxies must already listen, pinned to the same CPU (taskset -c 0), with the upstreams on CPU 1
# (bench/README.md, "The floor"). Each round loads both at once, each with its own wrk (CPU 1, -t1
# -c64, lib/wrk-shapes.lua with MODE: rr (default), cookie or ip, 1000 clients), and reads the
# CPU time each process used from /proc/PID/stat. The kernel shares the core between them, so a slow
# moment of the VM slows both alike; requests per CPU-second of B ÷ A is then their speed ratio, to
# about ±3 % per round instead of ±15–50 % for runs made one after the other. It is the same ratio as
# the harness's req/s ratio when each has the core to itself. The first round warms up the JIT and
# is left out of the median. Bounded: ROUNDS × SECONDS of load, nothing else. Linux only (/proc).
set -euo pipefail
[ $# -eq 4 ] || { sed -n 4p "$0" >&2; exit 2; }
rounds=$1 seconds=$2
script="$(cd "$(dirname "$0")" && pwd)/../lib/wrk-shapes.lua"
# The shapes of lib/wrk-shapes.lua; rr and ip are accepted as the peer harness's names for plain and xff.
shape() { case "$1" in rr) echo plain ;; ip) echo xff ;; *) echo "$1" ;; esac; }
IFS=: read -r port_a pid_a mode_a <<< "$3"
IFS=: read -r port_b pid_b mode_b <<< "$4"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ratios=()
for round in $(seq "$rounds"); do
  a0=$(cpu_ticks "$pid_a") b0=$(cpu_ticks "$pid_b")
  taskset -c 1 wrk -t1 -c64 -d"${seconds}s" -s "$script" "http://127.0.0.1:$port_a/" -- "$(shape "${mode_a:-rr}")" 1000 > "$out/a" &
  taskset -c 1 wrk -t1 -c64 -d"${seconds}s" -s "$script" "http://127.0.0.1:$port_b/" -- "$(shape "${mode_b:-rr}")" 1000 > "$out/b" &
  wait
  a1=$(cpu_ticks "$pid_a") b1=$(cpu_ticks "$pid_b")
  requests_a=$(awk '/requests in/ {print $1}' "$out/a") requests_b=$(awk '/requests in/ {print $1}' "$out/b")
  broken_a=$(grep -o '"broken":[0-9]*' "$out/a" | cut -d: -f2) broken_b=$(grep -o '"broken":[0-9]*' "$out/b" | cut -d: -f2)
  ratio=$(awk -v ra="$requests_a" -v rb="$requests_b" -v ca=$((a1 - a0)) -v cb=$((b1 - b0)) 'BEGIN { printf "%.3f", (rb / cb) / (ra / ca) }')
  echo "r$round A $requests_a requests, $((a1 - a0)) ticks, broken ${broken_a:-0} | B $requests_b requests, $((b1 - b0)) ticks, broken ${broken_b:-0} | B/A $ratio"
  [ "$round" -gt 1 ] && ratios+=("$ratio")
done
[ ${#ratios[@]} -gt 0 ] && printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "median B/A of rounds 2-%d: %.3f\n", NR + 1, m }'
