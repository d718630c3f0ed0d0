#!/usr/bin/env bash
# Two builds of Latch on one shared core (bench/floor/shared-core.sh), rr then cookie; upstreams on CPU 1.
#   bench/floor/old-vs-new.sh OLD_CHECKOUT   (OLD_CHECKOUT: a built checkout, e.g. git worktree of an older commit + npm ci + npm run build)
# B is this checkout's dist/. Bounded: 2 × 7 rounds × 8 s of load.
set -euo pipefail
old=${1:?usage: bench/floor/old-vs-new.sh OLD_CHECKOUT}
cd "$(dirname "$0")/../.."
# stdin: a pipe that stays open and silent (/dev/zero kept the upstreams busy reading it)
taskset -c 1 node bench/lib/upstream-server.mjs 3 600 > "$old/.upstreams.json" < <(sleep 600) &
UP=$!
sleep 1.5
PORTS=$(node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0];console.log(JSON.parse(l).ports.map(p=>"http://127.0.0.1:"+p).join(","))' "$old/.upstreams.json")
run() { # mode port_old port_new
  taskset -c 0 node "$old/dist/cli/main.js" --listen 127.0.0.1:$2 --upstream $PORTS --affinity $1 --access-log off --log-level warn & A=$!
  taskset -c 0 node dist/cli/main.js --listen 127.0.0.1:$3 --upstream $PORTS --affinity $1 --access-log off --log-level warn & B=$!
  sleep 2
  echo "== $1: A = $(git -C "$old" rev-parse --short HEAD) (pid $A), B = $(git rev-parse --short HEAD) (pid $B)"
  bench/floor/shared-core.sh 7 8 $2:$A:$1 $3:$B:$1
  kill $A $B; wait $A $B 2>/dev/null || true
}
run rr 18301 18302
run cookie 18303 18304
kill $UP
