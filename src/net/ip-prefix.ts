/**
 * @module Groups client addresses by prefix (`10.1.2.3` with /24 → `10.1.2.0/24`), for IP affinity.
 */
import { isIP } from 'node:net'

/** The address masked to `v4` or `v6` prefix bits, as `address/bits` (or the address at full length). */
export function maskAddress(address: string, v4: number, v6: number): string {
  const family = isIP(address)
  if (family === 4) return v4 === 32 ? address : `${maskV4(address, v4)}/${v4}`
  if (family === 6) return v6 === 128 ? address : `${maskV6(address, v6)}/${v6}`
  return address
}

function maskV4(address: string, bits: number): string {
  const value = address.split('.').reduce((acc, part) => acc * 256 + Number(part), 0)
  const mask = bits === 0 ? 0 : 0xffffffff - (2 ** (32 - bits) - 1)
  const masked = (value & mask) >>> 0
  return [24, 16, 8, 0].map((shift) => (masked >>> shift) & 255).join('.')
}

function maskV6(address: string, bits: number): string {
  const groups = expandV6(address)
  let remaining = bits
  const masked = groups.map((group) => {
    const keep = Math.max(0, Math.min(16, remaining))
    remaining -= 16
    return keep === 16 ? group : keep === 0 ? 0 : group & (0xffff << (16 - keep)) & 0xffff
  })
  return masked.map((group) => group.toString(16)).join(':')
}

/** Eight 16-bit groups of an IPv6 address (handles `::` and an embedded IPv4 tail). */
export function expandV6(address: string): number[] {
  let text = address
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4Tail !== null) {
    const parts = (v4Tail[1] as string).split('.').map(Number)
    text = `${text.slice(0, v4Tail.index)}${(((parts[0] as number) << 8) | (parts[1] as number)).toString(16)}:${(((parts[2] as number) << 8) | (parts[3] as number)).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const zeros = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length
  return [...headGroups, ...Array<string>(zeros).fill('0'), ...tailGroups].map((group) => parseInt(group, 16))
}
