import { describe, expect, it } from 'vitest'
import { ReloadLog, RELOADS_KEPT } from '../../../src/admin/reload-log.js'

describe('ReloadLog', () => {
  it('keeps the last reloads newest first, with changes or the reason of a refusal', () => {
    const log = new ReloadLog()
    log.record('signal', { ok: true, changes: ['pool web: endpoints changed'] }, Date.UTC(2026, 0, 1))
    log.record('admin', { ok: false, code: 'CONFIG_INVALID', message: 'latch.yaml: pools[0].name: expected a string', issues: [] }, Date.UTC(2026, 0, 2))
    expect(log.records).toEqual([
      { at: '2026-01-02T00:00:00.000Z', trigger: 'admin', ok: false, error: 'CONFIG_INVALID', message: 'latch.yaml: pools[0].name: expected a string' },
      { at: '2026-01-01T00:00:00.000Z', trigger: 'signal', ok: true, changes: ['pool web: endpoints changed'] },
    ])
  })

  it(`keeps no more than ${RELOADS_KEPT}`, () => {
    const log = new ReloadLog()
    for (let i = 0; i < RELOADS_KEPT + 5; i++) log.record('file', { ok: true, changes: [String(i)] })
    expect(log.records).toHaveLength(RELOADS_KEPT)
    expect(log.records[0]?.changes).toEqual([String(RELOADS_KEPT + 4)])
  })
})
