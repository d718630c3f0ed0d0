/**
 * @module A real DNS server for tests: UDP on 127.0.0.1 at a free port, in the test's process,
 * speaking the wire format through `dns-packet` (installed by `npm ci`, nothing else to install).
 *
 * Names under the test domains are answered only from the test's records, as an authoritative
 * server does: NXDOMAIN for a name without any record, NODATA (NOERROR, no answer) for a type the
 * name has no record of. Any other name is REFUSED, as by a server without upstreams. Stopping
 * closes the socket (the kernel then refuses queries: ECONNREFUSED); pausing keeps the port bound
 * and drops queries (clients time out).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { Resolver } from 'node:dns/promises'
import { isIPv4, isIPv6 } from 'node:net'
import { AUTHORITATIVE_ANSWER, RECURSION_DESIRED, decode, encode, type Answer, type Packet, type Question } from 'dns-packet'

/** Address records: name → IPv4 and IPv6 addresses. */
export type AddressRecords = Readonly<Record<string, readonly string[]>>

/** One SRV record: `name` (e.g. `_http._tcp.web.latch.test`) points at `target`:`port`. */
export interface SrvRecord {
  readonly name: string
  readonly target: string
  readonly port: number
  readonly priority?: number
  readonly weight?: number
}

/** A running test DNS server. */
export interface TestDnsServer {
  readonly port: number
  /** `127.0.0.1:port`, as `discovery.resolver` takes it. */
  readonly address: string
  /** False between stop() and restart(). */
  running(): boolean
  /** Replaces every A/AAAA record; answers change with the next query (also while stopped, for restart()). */
  setRecords(records: AddressRecords): Promise<void>
  /** Replaces every SRV record. */
  setSrv(records: readonly SrvRecord[]): Promise<void>
  /** Closes the socket: queries are then refused (ICMP port unreachable). */
  stop(): Promise<void>
  /** Binds the same port again, with the current records. */
  restart(): Promise<void>
  /** While paused the port stays bound and queries go unanswered, so clients time out. */
  pause(): void
  resume(): void
}

/** The test domain: answered only from the test's records. */
export const TEST_DOMAIN = 'latch.test'
/** Also answered only locally: the Kubernetes cluster domain, so tests can use real Service names. */
const CLUSTER_DOMAIN = 'cluster.local'
const LOCAL_DOMAINS = [TEST_DOMAIN, CLUSTER_DOMAIN]

/** Response codes (RFC 1035 §4.1.1), in the low four bits of the flags. */
const RCODE = { noError: 0, formErr: 1, nxDomain: 3, refused: 5 } as const
/** Short, so a record changed by a test is never held by a caching client for long. */
const TTL_SECONDS = 1

/** What the server answers from; replaced whole by setRecords/setSrv. */
interface Zone {
  addresses: AddressRecords
  srv: readonly SrvRecord[]
}

/** Starts a DNS server with `records` (and `srv`) on a free loopback port. */
export async function startDnsServer(records: AddressRecords = {}, srv: readonly SrvRecord[] = []): Promise<TestDnsServer> {
  const zone: Zone = { addresses: lowerCaseNames(records), srv }
  let paused = false
  const onQuery = (socket: Socket, message: Buffer, peer: RemoteInfo): void => {
    if (paused) return
    const response = respond(zone, message)
    if (response !== undefined) socket.send(response, peer.port, peer.address)
  }
  let socket: Socket | undefined = await bind(0, onQuery)
  const port = socket.address().port
  const server: TestDnsServer = {
    port,
    address: `127.0.0.1:${port}`,
    running: () => socket !== undefined,
    async setRecords(next) {
      zone.addresses = lowerCaseNames(next)
    },
    async setSrv(next) {
      zone.srv = next
    },
    async stop() {
      const open = socket
      socket = undefined
      paused = false
      if (open !== undefined) await new Promise<void>((resolve) => open.close(() => resolve()))
    },
    async restart() {
      socket ??= await bind(port, onQuery)
    },
    pause: () => void (paused = true),
    resume: () => void (paused = false),
  }
  cleanups.push(() => server.stop())
  return server
}

const cleanups: (() => Promise<void>)[] = []

/** Stops every DNS server started by this test file (call in afterAll/afterEach). */
export async function stopDnsServers(): Promise<void> {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
}

/** A resolver asking only the test server, quickly. */
export function testResolver(address: string): Resolver {
  const resolver = new Resolver({ timeout: 500, tries: 1 })
  resolver.setServers([address])
  return resolver
}

function bind(port: number, onQuery: (socket: Socket, message: Buffer, peer: RemoteInfo) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    socket.once('error', reject)
    socket.on('message', (message, peer) => onQuery(socket, message, peer))
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject)
      resolve(socket)
    })
  })
}

function lowerCaseNames(records: AddressRecords): AddressRecords {
  return Object.fromEntries(Object.entries(records).map(([name, addresses]) => [name.toLowerCase(), addresses]))
}

/** The response to one query datagram; undefined for something that is not a query at all. */
function respond(zone: Zone, message: Buffer): Buffer | undefined {
  let query: Packet
  try {
    query = decode(message)
  } catch {
    return undefined
  }
  if (query.type !== 'query') return undefined
  const questions = query.questions ?? []
  const question = questions[0]
  const reply = (rcode: number, answers: Answer[] = []): Buffer =>
    encode({ type: 'response', id: query.id ?? 0, flags: AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & RECURSION_DESIRED) | rcode, questions, answers })
  if (question === undefined || questions.length > 1) return reply(RCODE.formErr)
  const name = question.name.toLowerCase()
  if (!LOCAL_DOMAINS.some((domain) => name === domain || name.endsWith(`.${domain}`))) return reply(RCODE.refused)
  const answers = answersFor(zone, name, question)
  if (answers.length > 0) return reply(RCODE.noError, answers)
  return reply(nameExists(zone, name) ? RCODE.noError : RCODE.nxDomain)
}

function answersFor(zone: Zone, name: string, question: Question): Answer[] {
  const addresses = zone.addresses[name] ?? []
  switch (question.type) {
    case 'A':
      return addresses.filter((address) => isIPv4(address)).map((data) => ({ type: 'A', name: question.name, ttl: TTL_SECONDS, data }))
    case 'AAAA':
      return addresses.filter((address) => isIPv6(address)).map((data) => ({ type: 'AAAA', name: question.name, ttl: TTL_SECONDS, data }))
    case 'SRV':
      return zone.srv
        .filter((record) => record.name.toLowerCase() === name)
        .map((record) => ({ type: 'SRV', name: question.name, ttl: TTL_SECONDS, data: { target: record.target, port: record.port, priority: record.priority ?? 0, weight: record.weight ?? 0 } }))
    default:
      return []
  }
}

/** A name with a record of any type exists (its other types get NODATA); any other is NXDOMAIN. */
function nameExists(zone: Zone, name: string): boolean {
  return (zone.addresses[name]?.length ?? 0) > 0 || zone.srv.some((record) => record.name.toLowerCase() === name)
}
