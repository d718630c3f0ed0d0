/**
 * @module DNS discovery failures, typed: a failure of DNS itself, or an answer with no records.
 */

/**
 * Stable codes of discovery problems (logged, and passed to metrics):
 * - `ERR_DNS_FAILURE`: DNS did not answer usefully (timeout, SERVFAIL, refused, unreachable…);
 * - `ERR_DNS_NO_RECORDS`: DNS answered that the name has no records (NXDOMAIN or NODATA).
 */
export type DnsDiscoveryErrorCode = 'ERR_DNS_FAILURE' | 'ERR_DNS_NO_RECORDS'

/**
 * Resolver codes that are answers, not failures: `ENOTFOUND` is NXDOMAIN (the name does not exist)
 * and `ENODATA` is NODATA (it exists, without records of the type asked).
 */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA'])

/** One failed discovery round. */
export class DnsDiscoveryError extends Error {
  readonly code: DnsDiscoveryErrorCode
  /** The resolver's own code: `ETIMEOUT`, `ESERVFAIL`, `ECONNREFUSED`, `ENOTFOUND`, `ENODATA`, … */
  readonly dnsCode: string
  /** What was asked, e.g. `A web.default.svc.cluster.local`. */
  readonly query: string

  constructor(dnsCode: string, query: string, options?: { cause?: unknown }) {
    const noRecords = NO_RECORDS.has(dnsCode)
    super(noRecords ? `${query}: no records (${dnsCode})` : `${query}: DNS failed (${dnsCode})`, options)
    this.name = 'DnsDiscoveryError'
    this.code = noRecords ? 'ERR_DNS_NO_RECORDS' : 'ERR_DNS_FAILURE'
    this.dnsCode = dnsCode
    this.query = query
  }
}

/** Wraps whatever a resolver call rejected with; errors without a code count as failures. */
export function toDiscoveryError(error: unknown, query: string): DnsDiscoveryError {
  if (error instanceof DnsDiscoveryError) return error
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return new DnsDiscoveryError(typeof code === 'string' ? code : 'EUNKNOWN', query, { cause: error })
}
