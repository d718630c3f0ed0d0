#!/usr/bin/env bash
# Issue 12's split figure: a 90/10 HTTPRoute split with cookie session persistence (B) against cookie
# affinity on one pool (A), both Latch processes pinned together to CPU 0, upstreams and wrk on CPU 1,
# compared by bench/floor/shared-core.sh (requests per CPU-second, B ÷ A, per round; round 1 = warm-up).
#
#   bench/floor/split-vs-cookie.sh [ROUNDS=7] [SECONDS=6] [rule|pool]
#
# rule (default): B's rule has `sessionPersistence: {type: Cookie}` (rule-level sessions, GEP-1619);
# pool: B's two pools have their own `affinity.mode: cookie` instead (quick mode --canary -a cookie,
# Ingress canaries). A is `--upstream u1,u2,u3 --affinity cookie`; B's pools are main (u1,u2) and
# canary (u3). Both with the access log off. Bounded: ROUNDS × SECONDS of load (≤ 60 s by default: 42).
set -euo pipefail
rounds=${1:-7} seconds=${2:-6} kind=${3:-rule}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
# stdin: a pipe that stays open and silent (the upstreams exit when it closes; /dev/zero would keep them busy reading)
taskset -c 1 node bench/lib/upstream-server.mjs 3 $((rounds * seconds + 60)) > "$tmp/upstreams.json" < <(sleep $((rounds * seconds + 60))) &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/upstreams.json" ] && break; sleep 0.1; done
read -r u1 u2 u3 < <(node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0];console.log(JSON.parse(l).ports.map(p=>"http://127.0.0.1:"+p).join(" "))' "$tmp/upstreams.json")
node bench/floor/split-config.mjs 18312 "$kind" "$u1" "$u2" "$u3" > "$tmp/split.json"
taskset -c 0 node dist/cli/main.js --listen 127.0.0.1:18311 --upstream "$u1,$u2,$u3" --affinity cookie --access-log off --log-level warn & A=$!
pids+=($A)
taskset -c 0 node dist/cli/main.js --config "$tmp/split.json" & B=$!
pids+=($B)
for port in 18311 18312; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
done
echo "== A = cookie affinity on one pool (pid $A), B = 90/10 split, $kind sessions (pid $B); commit $(git rev-parse --short HEAD)"
bench/floor/shared-core.sh "$rounds" "$seconds" 18311:$A:cookie 18312:$B:cookie
