/**
 * Streaming with bounded memory: a 100 MB request body and its 100 MB echo stream through Latch at the
 * same time, byte-exact (SHA-256 on every side), while Latch's peak RSS grows far less than 100 MB.
 */
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { peakRssBytes } from '../helpers/proc-memory.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const MiB = 1024 * 1024
const TOTAL = 100 * MiB
// Far below the 100 MB that went through: buffering either body would blow it.
const MAX_GROWTH = 60 * MiB

let upstream: TestUpstream
let latch: LatchProcess

beforeAll(async () => {
  upstream = await startUpstream('stream', { streamBodies: true })
  latch = await startLatch({
    config: { listen: '127.0.0.1:0', server: { maxBodySize: '200MiB' }, pools: [{ name: 'stream', endpoints: [upstream.url] }] },
  })
})
afterAll(async () => {
  await latch.stop()
  await upstream.stop()
})

/** A 1 MiB block of pseudo-random bytes (incompressible, deterministic). */
function block(): Buffer {
  const out = Buffer.alloc(MiB)
  let seed = 0x9e3779b9
  for (let i = 0; i < out.length; i += 4) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
    out.writeUInt32LE(seed, i)
  }
  return out
}

/** Uploads `total` bytes (a multiple of 1 MiB) with backpressure while reading the echoed response; returns both hashes. */
function uploadAndEcho(port: number, path: string, total: number): Promise<{ status: number; sentSha: string; receivedSha: string; receivedBytes: number }> {
  const chunk = block()
  const sent = createHash('sha256')
  const received = createHash('sha256')
  let receivedBytes = 0
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-length': String(total) }, agent: false }, (res) => {
      res.on('data', (data: Buffer) => {
        received.update(data)
        receivedBytes += data.length
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sentSha: sent.digest('hex'), receivedSha: received.digest('hex'), receivedBytes }))
      res.on('error', reject)
    })
    req.on('error', reject)
    let written = 0
    const write = (): void => {
      while (written < total) {
        sent.update(chunk)
        written += chunk.length
        if (written >= total) {
          req.end(chunk)
          return
        }
        if (!req.write(chunk)) {
          req.once('drain', write)
          return
        }
      }
    }
    write()
  })
}

describe('streaming 100 MB each way', () => {
  it('is byte-exact and keeps Latch peak RSS growth far below the body size', async () => {
    // Warm up first: a small streamed exchange grows V8's young generation and the allocator's pools
    // to their working size (about the same ~60 MiB whether 25 or 300 MiB go through), so the figure
    // below measures what the size of the bodies adds, which buffering would make ~100+ MiB.
    expect((await uploadAndEcho(latch.port, '/warm', 20 * MiB)).status).toBe(200)
    const pid = latch.child.pid as number
    const idlePeak = peakRssBytes(pid)
    const result = await uploadAndEcho(latch.port, '/big', TOTAL)
    const growth = peakRssBytes(pid) - idlePeak
    expect(result.status).toBe(200)
    expect(result.receivedBytes).toBe(TOTAL)
    const arrival = upstream.arrivals.find((entry) => entry.url === '/big')
    expect(arrival?.bodyBytes).toBe(TOTAL)
    expect(arrival?.bodySha256).toBe(result.sentSha)
    expect(result.receivedSha).toBe(result.sentSha)
    console.log(`latch peak RSS: idle ${(idlePeak / MiB).toFixed(1)} MiB, grew by ${(growth / MiB).toFixed(1)} MiB while streaming ${TOTAL / MiB} MiB each way`)
    expect(growth).toBeLessThan(MAX_GROWTH)
  })
})
