import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { ProxyError } from '../../../src/errors/proxy-error.js'
import { limitBody } from '../../../src/proxying/body-limit.js'
import { StreamedUpload } from '../../../src/proxying/request-body-rate.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A client stream piped through limitBody after `prefix`, read by a consumer that can be paused. */
function streamed(prefix?: Buffer[]): { client: PassThrough; body: ReturnType<typeof limitBody>; read: Buffer[]; errors: unknown[] } {
  const client = new PassThrough()
  const body = limitBody(client, 1_000_000, prefix)
  const read: Buffer[] = []
  const errors: unknown[] = []
  body.on('error', (error) => errors.push(error))
  body.on('data', (chunk: Buffer) => read.push(chunk))
  return { client, body, read, errors }
}

describe('limitBody with a buffered prefix', () => {
  it('passes the prefix first, then the rest of the client stream, and counts every byte', async () => {
    const { client, body, read } = streamed([Buffer.from('ab'), Buffer.from('cd')])
    client.end(Buffer.from('ef'))
    await new Promise((resolve) => body.once('end', resolve))
    expect(Buffer.concat(read).toString()).toBe('abcdef')
    expect(body.received).toBe(6)
  })
})

describe('StreamedUpload', () => {
  it('cuts a body read by its consumer that delivers less than minBytes in a window with ERR_BODY_TOO_SLOW', async () => {
    const { client, body, errors } = streamed()
    const upload = new StreamedUpload(body, 100, 1000, 0)
    client.write(Buffer.alloc(150))
    await tick()
    expect(upload.check(1000)).toBe(true)
    client.write(Buffer.alloc(99))
    await tick()
    expect(upload.check(1500)).toBe(true)
    expect(upload.check(2000)).toBe(false)
    await tick()
    expect(body.destroyed).toBe(true)
    expect(errors).toHaveLength(1)
    const error = errors[0]
    expect(error instanceof ProxyError && error.code === 'ERR_BODY_TOO_SLOW' && error.status === 408).toBe(true)
  })

  it('does not count a window in which the consumer was not reading', async () => {
    const { client, body, errors } = streamed()
    const upload = new StreamedUpload(body, 100, 1000, 0)
    body.pause()
    client.write(Buffer.alloc(10))
    await tick()
    expect(upload.check(1000)).toBe(true)
    expect(upload.check(2000)).toBe(true)
    body.resume()
    await tick()
    // Reading again: the window that started at the last sample taken while paused (2000) is the
    // first to count, and only once it is whole.
    expect(upload.check(2500)).toBe(true)
    expect(upload.check(2999)).toBe(true)
    expect(upload.check(3000)).toBe(false)
    await tick()
    expect(errors).toHaveLength(1)
  })

  it('stops watching once the client has sent its whole body', async () => {
    const { client, body, errors } = streamed()
    const upload = new StreamedUpload(body, 100, 1000, 0)
    client.end(Buffer.alloc(5))
    await tick()
    expect(upload.check(5000)).toBe(false)
    expect(errors).toEqual([])
  })
})
