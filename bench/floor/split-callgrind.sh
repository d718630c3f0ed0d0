#!/usr/bin/env bash
# Instructions per request (repeatable on a loaded machine) of issue 12's split benchmark: cookie affinity
# on one pool (A) and the 90/10 split with rule (or pool) cookie sessions (B), each under
# `valgrind --tool=callgrind --instr-atstart=no` on CPU 0, driven by bench/floor/callgrind-clients.mjs
# (1,000 cookie-jar clients, WARMUP requests uncounted, then MEASURED returning-session requests counted).
#
#   bench/floor/split-callgrind.sh [WARMUP=20000] [MEASURED=5000] [rule|pool] [OUT_DIR=/tmp]
#
# Prints instructions per request of each and B ÷ A; the callgrind files stay in OUT_DIR for
# callgrind_annotate (discard a run whose window shows v8::internal::compiler work: its JS was still
# warming up). Slow under valgrind (minutes), bounded by the request counts.
set -euo pipefail
warmup=${1:-20000} measured=${2:-5000} kind=${3:-rule} out=${4:-/tmp}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
# stdin: a pipe that stays open and silent (the upstreams exit when it closes; /dev/zero would keep them busy reading)
taskset -c 1 node bench/lib/upstream-server.mjs 3 1800 > "$tmp/upstreams.json" < <(sleep 1800) &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/upstreams.json" ] && break; sleep 0.1; done
read -r u1 u2 u3 < <(node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0];console.log(JSON.parse(l).ports.map(p=>"http://127.0.0.1:"+p).join(" "))' "$tmp/upstreams.json")
node bench/floor/split-config.mjs 18322 "$kind" "$u1" "$u2" "$u3" > "$tmp/split.json"
cg() { taskset -c 0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/cg.split-$1" "${@:2}" 2> "$tmp/$1.valgrind" & }
cg cookie node dist/cli/main.js --listen 127.0.0.1:18321 --upstream "$u1,$u2,$u3" --affinity cookie --access-log off --log-level warn; A=$!
pids+=($A)
cg "$kind" node dist/cli/main.js --config "$tmp/split.json"; B=$!
pids+=($B)
for port in 18321 18322; do
  for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.5; done
done
taskset -c 1 node bench/floor/callgrind-clients.mjs 18321 $A 1000 "$warmup" "$measured" > "$tmp/a.out" &
ca=$!
taskset -c 1 node bench/floor/callgrind-clients.mjs 18322 $B 1000 "$warmup" "$measured" > "$tmp/b.out" &
cb=$!
wait $ca $cb
sleep 1
per() { awk -v n="$measured" '/^totals:/ { printf "%.1f", $2 / n / 1000 }' "$out/cg.split-$1".*; }
a=$(per cookie) b=$(per "$kind")
echo "A cookie affinity, one pool: $a k instructions/request ($(cat "$tmp/a.out"))"
echo "B 90/10 split, $kind sessions: $b k instructions/request ($(cat "$tmp/b.out"))"
awk -v a="$a" -v b="$b" 'BEGIN { printf "B/A instructions per request: %.3f\n", b / a }'
echo "files: $out/cg.split-cookie.* $out/cg.split-$kind.* (commit $(git rev-parse --short HEAD))"
