#!/usr/bin/env bash
# Two Latch configs on one shared core (bench/floor/shared-core.sh, rr shape): requests per CPU-second of B ÷ A.
#   bench/floor/config-vs-config.sh CONFIG_A CONFIG_B [ROUNDS] [SECONDS] [OLD_CHECKOUT]
# The configs are YAML files that listen on 127.0.0.1:${PORT} and may use ${U1} ${U2} ${U3} (three node:http upstreams on CPU 1) and
# ${OTLP} (an OTLP/HTTP sink on CPU 1, bench/lib/otlp-sink-server.mjs); both Latches run pinned to CPU 0.
# A runs OLD_CHECKOUT's dist/ when given (a built checkout of another commit), else this checkout's; B this one's.
# Bounded: ROUNDS (default 7) × SECONDS (default 6) of load; everything started here is killed by PID at the end.
set -euo pipefail
config_a=$(realpath "${1:?usage: bench/floor/config-vs-config.sh CONFIG_A CONFIG_B [ROUNDS] [SECONDS] [OLD_CHECKOUT]}")
config_b=$(realpath "${2:?usage: bench/floor/config-vs-config.sh CONFIG_A CONFIG_B [ROUNDS] [SECONDS] [OLD_CHECKOUT]}")
rounds=${3:-7} seconds=${4:-6}
old=${5:-}
cd "$(dirname "$0")/../.."
cli_a=${old:+$old/dist/cli/main.js}
cli_a=${cli_a:-dist/cli/main.js}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
taskset -c 1 node bench/lib/upstream-server.mjs 3 600 > "$work/upstreams.json" < /dev/zero & pids+=($!)
sink_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
taskset -c 1 node bench/lib/otlp-sink-server.mjs "$sink_port" 600 > "$work/sink.log" < /dev/zero & pids+=($!)
sleep 1.5
read -r U1 U2 U3 < <(node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0];console.log(JSON.parse(l).ports.map(p=>"http://127.0.0.1:"+p).join(" "))' "$work/upstreams.json")
export U1 U2 U3 OTLP="http://127.0.0.1:$sink_port/v1/traces"
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
port_a=$(free_port) port_b=$(free_port)
PORT=$port_a taskset -c 0 node "$cli_a" --config "$config_a" --log-level warn > "$work/a.log" & A=$!; pids+=($A)
PORT=$port_b taskset -c 0 node dist/cli/main.js --config "$config_b" --log-level warn > "$work/b.log" & B=$!; pids+=($B)
# Wait (at most 20 s) until both answer: start-up is slow on a busy machine.
for _ in $(seq 200); do
  curl -s -o /dev/null "http://127.0.0.1:$port_a/" && curl -s -o /dev/null "http://127.0.0.1:$port_b/" && break
  sleep 0.1
done
echo "== A: $config_a ($cli_a, pid $A) | B: $config_b (dist/cli/main.js at $(git rev-parse --short HEAD), pid $B)"
bench/floor/shared-core.sh "$rounds" "$seconds" "$port_a:$A:rr" "$port_b:$B:rr" || { echo "A log:"; tail -5 "$work/a.log"; echo "B log:"; tail -5 "$work/b.log"; exit 1; }
sleep 1.2
echo "otlp sink: $(grep -c . "$work/sink.log" >/dev/null && tail -n1 "$work/sink.log")"
