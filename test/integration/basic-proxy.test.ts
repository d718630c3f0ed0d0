import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startLatch, accessLines, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

describe('proxying through the CLI with a config file', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        pools: [{ name: 'web', endpoints: upstreams.map((upstream) => upstream.url) }],
      },
    })
  })

  afterAll(async () => {
    await latch.stop()
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  })

  it('spreads requests over every endpoint in round-robin order', async () => {
    const seen: string[] = []
    for (let i = 0; i < 6; i++) {
      const response = await request(`${latch.url}/hello?x=1`)
      expect(response.statusCode).toBe(200)
      seen.push(response.headers['x-upstream'] as string)
      await response.body.dump()
    }
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b', 'c'])
  })

  it('writes one access line per request with status, pool and endpoint', async () => {
    const response = await request(`${latch.url}/logged`)
    await response.body.dump()
    const line = await waitFor(() => accessLines(latch).find((entry) => entry.path === '/logged'), 5000, 20, 'access line')
    expect(line).toMatchObject({ method: 'GET', status: 200, pool: 'web', attempts: 1 })
    expect(upstreams.map((upstream) => `127.0.0.1:${upstream.port}`)).toContain(line.endpoint)
  })
})
