import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'

// Without settleLogger ('pino flush'), most of these runs end on an earlier line (checked by hand).
const MODE = (process.env.SETTLE_MODE ?? 'settleLogger') as 'settleLogger' | 'pino flush'
const LOGGER = pathToFileURL(resolve(import.meta.dirname, '../../../dist/observability/logger.js')).href

/**
 * A process that logs a burst, then a last line, settles the logger and exits at once, as Latch does
 * when it stops. Returns the message of the last line the reader got.
 */
async function lastLineOfExitingProcess(settle: 'settleLogger' | 'pino flush'): Promise<string> {
  const script = `
    const { createLogger, settleLogger } = await import(${JSON.stringify(LOGGER)})
    const logger = createLogger('info')
    for (let i = 0; i < 2000; i++) logger.info({ i }, 'burst')
    await new Promise((r) => setTimeout(r, 1))
    logger.info('shutting down')
    await new Promise((r) => setImmediate(r))
    logger.info('latch stopped')
    if (${JSON.stringify(settle)} === 'settleLogger') await settleLogger(logger)
    else await new Promise((r) => logger.flush(r))
    process.exit(0)
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await new Promise((done) => child.once('close', done))
  const lines = output.trim().split('\n')
  return (JSON.parse(lines.at(-1) as string) as { msg: string }).msg
}

describe('settleLogger', () => {
  it('makes the last line logged before exit the last line written, with a write in flight', async () => {
    const last = await Promise.all(Array.from({ length: 8 }, () => lastLineOfExitingProcess(MODE)))
    expect(last).toEqual(Array.from({ length: 8 }, () => 'latch stopped'))
  })

})
