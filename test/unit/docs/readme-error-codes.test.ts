import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ADMIN_ERRORS } from '../../../src/admin/admin-error.js'
import { ERRORS, type ErrorCode } from '../../../src/errors/proxy-error.js'

const README = readFileSync(resolve(import.meta.dirname, '../../../README.md'), 'utf8')

function errorTable(): string {
  const start = README.indexOf('<!-- error-codes:start -->')
  const end = README.indexOf('<!-- error-codes:end -->')
  expect(start).toBeGreaterThan(-1)
  expect(end).toBeGreaterThan(start)
  return README.slice(start, end)
}

describe('README error-code table', () => {
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

describe('README admin API error-code table', () => {
  function adminTable(): string {
    const start = README.indexOf('<!-- admin-error-codes:start -->')
    const end = README.indexOf('<!-- admin-error-codes:end -->')
    expect(start).toBeGreaterThan(-1)
    expect(end).toBeGreaterThan(start)
    return README.slice(start, end)
  }

  it('lists every ADMIN_ERRORS code, in order, with its HTTP status', () => {
    const rows = [...adminTable().matchAll(/^\| `(ERR_ADMIN_[A-Z_]+)` \| (\d+) \|/gm)].map((match) => [match[1], Number(match[2])])
    expect(rows).toEqual(Object.entries(ADMIN_ERRORS).map(([code, spec]) => [code, spec.status]))
  })
})
