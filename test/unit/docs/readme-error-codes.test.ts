import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ADMIN_ERRORS } from '../../../src/admin/admin-error.js'
import { ERRORS, type ErrorCode } from '../../../src/errors/proxy-error.js'

const ERROR_CODES_DOC = readFileSync(resolve(import.meta.dirname, '../../../docs/reference/error-codes.md'), 'utf8')
const ADMIN_API_DOC = readFileSync(resolve(import.meta.dirname, '../../../docs/reference/admin-api.md'), 'utf8')

function errorTable(): string {
  const start = ERROR_CODES_DOC.indexOf('<!-- error-codes:start -->')
  const end = ERROR_CODES_DOC.indexOf('<!-- error-codes:end -->')
  expect(start).toBeGreaterThan(-1)
  expect(end).toBeGreaterThan(start)
  return ERROR_CODES_DOC.slice(start, end)
}

describe('error-code table (docs/reference/error-codes.md)', () => {
  it.each(Object.keys(ERRORS) as ErrorCode[])('lists %s with its HTTP status', (code) => {
    const row = errorTable()
      .split('\n')
      .find((line) => line.startsWith(`| \`${code}\` |`))
    expect(row, `${code} has a row`).toBeDefined()
    expect(row?.split('|').map((cell) => cell.trim())[2]).toBe(String(ERRORS[code].status))
  })

  it('lists no code that ERRORS does not define', () => {
    const listed = [...errorTable().matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((match) => match[1])
    expect(listed).toEqual(Object.keys(ERRORS))
  })
})

describe('admin API error-code table (docs/reference/admin-api.md)', () => {
  function adminTable(): string {
    const start = ADMIN_API_DOC.indexOf('<!-- admin-error-codes:start -->')
    const end = ADMIN_API_DOC.indexOf('<!-- admin-error-codes:end -->')
    expect(start).toBeGreaterThan(-1)
    expect(end).toBeGreaterThan(start)
    return ADMIN_API_DOC.slice(start, end)
  }

  it('lists every ADMIN_ERRORS code, in order, with its HTTP status', () => {
    const rows = [...adminTable().matchAll(/^\| `(ERR_ADMIN_[A-Z_]+)` \| (\d+) \|/gm)].map((match) => [match[1], Number(match[2])])
    expect(rows).toEqual(Object.entries(ADMIN_ERRORS).map(([code, spec]) => [code, spec.status]))
  })
})
