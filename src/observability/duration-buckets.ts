/**
 * @module The request duration buckets, shared by the Prometheus histogram (metrics-requests.ts) and
 * the per-endpoint latency windows (endpoint-latency.ts). A leaf module: endpoints import it without
 * loading prom-client.
 */

/** Request duration buckets in seconds: proxy overhead (ms) up to slow upstreams (a minute). */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
