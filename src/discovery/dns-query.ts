/**
 * @module Asks DNS for a name's targets: A and AAAA records, or SRV records and their targets' addresses.
 */
import type { Resolver } from 'node:dns/promises'
import { isIP } from 'node:net'
import { DnsDiscoveryError, toDiscoveryError } from './dns-error.js'

/** One discovered address and port. */
export interface DnsTarget {
  readonly address: string
  readonly port: number
}

/** The resolver calls discovery makes (node:dns/promises `Resolver`). */
export type DnsClient = Pick<Resolver, 'resolve4' | 'resolve6' | 'resolveSrv'>

/** What to ask: a name and the port of its A/AAAA records, or an SRV name. */
export interface DnsQuery {
  readonly dns: string
  readonly port?: number | undefined
  readonly srv: boolean
}

/**
 * Resolves `query` to targets, never empty. Throws a DnsDiscoveryError: `ERR_DNS_FAILURE` when any
 * part of the answer is missing through a failure (a partial set must not replace a whole one),
 * `ERR_DNS_NO_RECORDS` when DNS answered that there is nothing.
 */
export async function queryTargets(client: DnsClient, query: DnsQuery): Promise<DnsTarget[]> {
  if (query.srv) return querySrv(client, query.dns)
  const port = query.port
  if (port === undefined) throw new DnsDiscoveryError('EBADQUERY', `A/AAAA ${query.dns} (no port)`)
  const addresses = await queryAddresses(client, query.dns)
  return addresses.map((address) => ({ address, port }))
}

/** A and AAAA of `name`, asked together. */
async function queryAddresses(client: DnsClient, name: string): Promise<string[]> {
  const answers = await Promise.allSettled([client.resolve4(name), client.resolve6(name)])
  return combineAnswers(name, answers)
}

/**
 * Merges the A and AAAA answers. Any failure fails the whole (an IPv4-only answer while AAAA timed
 * out would drain every IPv6 endpoint); NXDOMAIN/NODATA for one family is normal (IPv4-only
 * services answer NODATA to AAAA); no address at all is `ERR_DNS_NO_RECORDS`.
 */
export function combineAnswers(name: string, answers: readonly PromiseSettledResult<string[]>[]): string[] {
  const addresses: string[] = []
  let noRecords: DnsDiscoveryError | undefined
  for (const [index, answer] of answers.entries()) {
    if (answer.status === 'fulfilled') {
      addresses.push(...answer.value)
      continue
    }
    const error = toDiscoveryError(answer.reason, `${index === 0 ? 'A' : 'AAAA'} ${name}`)
    if (error.code === 'ERR_DNS_FAILURE') throw error
    noRecords ??= error
  }
  if (addresses.length === 0) throw noRecords ?? new DnsDiscoveryError('ENODATA', `A/AAAA ${name}`)
  return addresses
}

/**
 * SRV records of `name`, each target resolved to its addresses with the record's port. Priority
 * and weight are not used: every target becomes an endpoint. A target of "." means "no service"
 * (RFC 2782) and a target without addresses contributes nothing; a failure fails the whole.
 */
async function querySrv(client: DnsClient, name: string): Promise<DnsTarget[]> {
  let records: Awaited<ReturnType<DnsClient['resolveSrv']>>
  try {
    records = await client.resolveSrv(name)
  } catch (error) {
    throw toDiscoveryError(error, `SRV ${name}`)
  }
  const targets = await Promise.all(
    records.filter((record) => record.name !== '' && record.name !== '.').map(async (record) => {
      const addresses = isIP(record.name) !== 0 ? [record.name] : await addressesOrNone(client, record.name)
      return addresses.map((address) => ({ address, port: record.port }))
    }),
  )
  const flat = targets.flat()
  if (flat.length === 0) throw new DnsDiscoveryError('ENODATA', `SRV ${name} (no target has an address)`)
  return flat
}

async function addressesOrNone(client: DnsClient, name: string): Promise<string[]> {
  try {
    return await queryAddresses(client, name)
  } catch (error) {
    if (error instanceof DnsDiscoveryError && error.code === 'ERR_DNS_NO_RECORDS') return []
    throw error
  }
}
