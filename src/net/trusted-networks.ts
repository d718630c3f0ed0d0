/**
 * @module The `trustedProxies` CIDR set, checked per request with a bounded memo.
 *
 * `BlockList.check` parses the address into a new `SocketAddress` on every call, which profiled at
 * ~3 % of a proxied request's CPU. The addresses checked are mostly the same few peers, so a small
 * map of answers saves that; it is bounded (cleared when full) because forwarded addresses come
 * from clients.
 */
import { isIP, type BlockList } from 'node:net'
import { buildCidrList } from './address.js'

const MEMO_LIMIT = 4096

/** Whether an address is inside the configured trusted networks. */
export class TrustedNetworks {
  readonly #list: BlockList
  readonly #memo = new Map<string, boolean>()

  constructor(cidrs: readonly string[]) {
    this.#list = buildCidrList(cidrs)
  }

  /** True when `address` (a plain IPv4 or IPv6 address, no port) is inside the set; false for anything else. */
  contains(address: string): boolean {
    const known = this.#memo.get(address)
    if (known !== undefined) return known
    const family = isIP(address)
    const inside = family !== 0 && this.#list.check(address, family === 6 ? 'ipv6' : 'ipv4')
    if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear()
    this.#memo.set(address, inside)
    return inside
  }
}
