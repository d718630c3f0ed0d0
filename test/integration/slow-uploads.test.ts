import { afterEach, describe, expect, it } from 'vitest'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startNormalTraffic, startSlowUploaders, type NormalTraffic, type SlowUploaders } from '../helpers/slow-uploaders.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { sleep } from '../helpers/traffic.js'
import { waitFor } from '../helpers/wait.js'

/**
 * Issue 15, risk 7: slow uploads must not take every upstream slot. The shape of the acceptance run
 * (400 uploaders at 50 B/s against a 3-endpoint pool with default settings, ordinary traffic at a
 * bounded rate) for a CI-sized duration; bench/slow-uploads.sh runs the same test for 60 s.
 */
const SECONDS = Number(process.env.LATCH_SLOW_UPLOAD_SECONDS ?? 15)
/** bench/slow-uploads.sh --burst: uploaders that send this much at once before trickling (0 in CI). */
const BURST = Number(process.env.LATCH_SLOW_UPLOAD_BURST ?? 0)
const UPLOADERS = 400
const NORMAL_PER_SECOND = 40

let latch: LatchProcess | undefined
let upstreams: TestUpstream[] = []
let uploaders: SlowUploaders | undefined
let normal: NormalTraffic | undefined

afterEach(async () => {
  uploaders?.stop()
  await normal?.stop()
  await latch?.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
  latch = undefined
  uploaders = undefined
  normal = undefined
  upstreams = []
})

describe('slow uploads with the default settings', () => {
  it(`400 uploaders at 50 B/s for ${SECONDS} s leave at least 99 % of ordinary requests succeeding`, async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
    latch = await startLatch({ config: { listen: '127.0.0.1:0', log: { level: 'info', access: 'off' }, pools: [{ name: 'web', endpoints: upstreams.map((upstream) => upstream.url) }] } })
    uploaders = startSlowUploaders(latch.port, { count: UPLOADERS, bytesPerSecond: 50, declared: 1_000_000, framing: 'mixed', burst: BURST })
    const crowd = uploaders
    await waitFor(() => crowd.stats.connections >= UPLOADERS, 10_000, 50, 'every uploader connected')
    // Let them send their first bytes: on the old code that is when they hold every slot.
    await sleep(2000)
    normal = startNormalTraffic(latch.url, { perSecond: NORMAL_PER_SECOND, timeoutMs: 10_000, postBytes: 1024 })
    await sleep(SECONDS * 1000)
    await normal.stop()
    const { sent, ok, failures } = normal.outcomes
    const share = ok / sent
    console.log(`slow uploads: ${UPLOADERS} uploaders at 50 B/s after a burst of ${BURST} B, ${SECONDS} s; ordinary requests ${ok}/${sent} ok (${(share * 100).toFixed(2)} %), failures ${JSON.stringify(Object.fromEntries(failures))}; uploaders: ${crowd.stats.connections} connections, statuses ${JSON.stringify(Object.fromEntries(crowd.stats.statuses))}`)
    expect(sent).toBeGreaterThan(SECONDS * NORMAL_PER_SECOND * 0.5)
    expect(share).toBeGreaterThanOrEqual(0.99)
  }, (SECONDS + 60) * 1000)
})
