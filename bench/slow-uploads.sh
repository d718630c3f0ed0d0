#!/usr/bin/env bash
# Issue 15, risk 7: slow uploads against the default settings, at full length (the CI test runs the
# same shape for 15 s). 400 raw-socket clients POST bodies (half Content-Length: 1 MB, half chunked)
# at 50 bytes/s to a pool of three endpoints (384 slots with the defaults) and reconnect when cut,
# while ordinary requests (GET and a 1 KiB POST, alternately) run at 40/s; prints the share of
# ordinary requests that succeeded. Bounded: SECONDS (default 60) plus start-up, 400 connections.
#
#   bench/slow-uploads.sh [SECONDS] [BURST]
#
# BURST (default 0): bytes each uploader sends at once before trickling. 65536 or more gets past the
# 64 KiB read-ahead: the case the minimum upload rate alone has to handle (README, "Request bodies").
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
LATCH_SLOW_UPLOAD_SECONDS=${1:-60} LATCH_SLOW_UPLOAD_BURST=${2:-0} npx vitest run test/integration/slow-uploads.test.ts --reporter verbose 2>&1 | grep -E 'slow uploads:|✓|×|Error' || true
