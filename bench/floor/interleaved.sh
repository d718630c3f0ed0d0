#!/usr/bin/env bash
# Interleaved throughput of proxies that are already listening, for a machine whose speed drifts (CPU
# steal): short wrk runs alternate between them round after round, so each round compares them within
# a few seconds of each other; the per-round ratios are what count.
#
#   bench/floor/interleaved.sh ROUNDS SECONDS PORT[:MODE] [PORT[:MODE] ...]
#
# MODE is a request shape of lib/wrk-shapes.lua: rr (default: plain GET /), cookie or ip (X-Forwarded-For),
# 1000 virtual clients. wrk runs on CPU 1, -t1 -c64; start the proxies pinned to CPU 0
# and the upstreams on CPU 1 yourself (bench/README.md, "The floor"). Bounded: ROUNDS x ports x
# SECONDS of load, nothing else. Prints one line per round: rN req/s req/s ...
set -euo pipefail
rounds=$1 seconds=$2
shift 2
script="$(cd "$(dirname "$0")" && pwd)/../lib/wrk-shapes.lua"
# The shapes of lib/wrk-shapes.lua; rr and ip are accepted as the peer harness's names for plain and xff.
shape() { case "$1" in rr) echo plain ;; ip) echo xff ;; *) echo "$1" ;; esac; }
for round in $(seq "$rounds"); do
  line="r$round"
  for target in "$@"; do
    port=${target%%:*}
    mode=rr
    [ "$target" != "$port" ] && mode=${target#*:}
    rps=$(taskset -c 1 wrk -t1 -c64 -d"${seconds}s" -s "$script" "http://127.0.0.1:$port/" -- "$(shape "$mode")" 1000 | awk '/Requests\/sec/ {print $2}')
    line="$line ${rps:-0}"
  done
  echo "$line"
done
