-- Latch bench: wrk's summary as one JSON line (prefix {"wrk":), read by bench/lib/loadgen.mjs.
-- Shaping scripts for later scenarios must end with this same done() function.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"wrk":{"requests":%.0f,"durationUs":%.0f,"p50Us":%.0f,"p99Us":%.0f,' ..
    '"connectErrors":%.0f,"readErrors":%.0f,"writeErrors":%.0f,"timeouts":%.0f,"statusErrors":%.0f}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status))
end
