/**
 * The PROXY protocol gate in front of a real node:http server on 127.0.0.1: the header may arrive in
 * pieces or together with the request; keep-alive requests after it keep the address; a reload turns
 * it off and on and changes the trusted sources for new connections.
 */
import { createServer, type Server } from 'node:http'
import { connect as http2Connect, createServer as createH2cServer, type Http2Server } from 'node:http2'
import { connect, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { ListenerConfig } from '../../../src/config/schema.js'
import { createLogger } from '../../../src/observability/logger.js'
import { peerAddress } from '../../../src/proxying/client-address.js'
import { ProxyProtocolGate, type ProxyRefusal } from '../../../src/server/proxy-protocol-gate.js'
import { proxyV2 } from '../../helpers/proxy-protocol.js'

const servers: (Server | Http2Server)[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

async function gated(config: Partial<ListenerConfig>): Promise<{ port: number; gate: ProxyProtocolGate; refusals: ProxyRefusal[] }> {
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => res.end(peerAddress(req.socket)))
  const refusals: ProxyRefusal[] = []
  const gate = new ProxyProtocolGate('test', { address: '127.0.0.1:0', ...config }, createLogger('silent'), { proxyHeaderRefused: (_listener, reason) => refusals.push(reason) })
  gate.install(server)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, gate, refusals }
}

/** Writes `pieces` one per 5 ms, then collects what comes back until the server closes or 1 s of quiet. */
function exchange(port: number, pieces: readonly (string | Buffer)[]): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    let quiet = setTimeout(() => socket.destroy(), 1000)
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      clearTimeout(quiet)
      quiet = setTimeout(() => socket.destroy(), 300)
    })
    socket.on('close', () => {
      clearTimeout(quiet)
      resolve(text)
    })
    socket.on('error', () => {})
    void (async () => {
      for (const piece of pieces) {
        socket.write(piece)
        await new Promise((wait) => setTimeout(wait, 5))
      }
    })()
  })
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
const bodies = (text: string): string[] => text.split(/HTTP\/1\.1 200 OK\r\n/).slice(1).map((response) => response.slice(response.indexOf('\r\n\r\n') + 4))

describe('ProxyProtocolGate', () => {
  it('reads a header that arrives byte by byte, then the request', async () => {
    const { port } = await gated({ proxyProtocol: 'v1', proxyProtocolFrom: ['127.0.0.1/32'] })
    const header = 'PROXY TCP4 203.0.113.9 127.0.0.1 5000 80\r\n'
    expect(bodies(await exchange(port, [...header.split(''), GET]))).toEqual(['203.0.113.9'])
  })

  it('hands on the bytes that came with the header: two pipelined requests in the same write both answered, both with its address', async () => {
    const { port } = await gated({ proxyProtocol: 'either', proxyProtocolFrom: ['127.0.0.0/8'] })
    expect(bodies(await exchange(port, [`PROXY TCP6 2001:db8::5 ::1 5000 80\r\n${GET}${GET}`]))).toEqual(['2001:db8::5', '2001:db8::5'])
  })

  it('works in front of a cleartext HTTP/2 (h2c) server too', async () => {
    const server = createH2cServer()
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 })
      // The HTTP/2 stream's session socket is the raw TCP socket the gate read the header from.
      stream.end(peerAddress(stream.session?.socket as never))
    })
    new ProxyProtocolGate('test', { address: '127.0.0.1:0', proxyProtocol: 'v2', proxyProtocolFrom: ['127.0.0.1/32'] }, createLogger('silent'), undefined).install(server)
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const header = proxyV2({ source: '198.51.100.3' })
    const session = http2Connect(`http://127.0.0.1:${port}`, { createConnection: () => {
      const socket = connect(port, '127.0.0.1')
      socket.write(header)
      return socket
    } })
    const body = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/' })
      let text = ''
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()))
      stream.on('end', () => resolve(text))
      stream.on('error', reject)
      stream.end()
    })
    session.close()
    expect(body).toBe('198.51.100.3')
  })

  it('follows reloads for new connections: off serves plain HTTP, on again refuses it, a narrowed source list refuses this peer', async () => {
    const { port, gate, refusals } = await gated({ proxyProtocol: 'v1', proxyProtocolFrom: ['127.0.0.1/32'] })
    expect(await exchange(port, [GET])).toBe('')
    expect(gate.update({ address: '127.0.0.1:0' })).toBe(true)
    expect(bodies(await exchange(port, [GET]))).toEqual(['127.0.0.1'])
    expect(gate.update({ address: '127.0.0.1:0', proxyProtocol: 'off' })).toBe(false)
    expect(gate.update({ address: '127.0.0.1:0', proxyProtocol: 'v1', proxyProtocolFrom: ['10.0.0.0/8'] })).toBe(true)
    expect(await exchange(port, ['PROXY TCP4 203.0.113.9 127.0.0.1 5000 80\r\n', GET])).toBe('')
    expect(refusals).toEqual(['missing', 'untrusted'])
  })
})
