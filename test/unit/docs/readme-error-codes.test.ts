import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
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
