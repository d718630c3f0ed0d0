/**
 * @module Checks `Authorization: Bearer <token>` in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

const BEARER = /^Bearer +([^\s]+) *$/i

/**
 * Returns a checker for `Authorization` header values against `token`. Both sides are hashed first,
 * so the comparison takes the same time whatever the length or content of the guess.
 */
export function bearerTokenCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token)
  return (authorization) => {
    const match = authorization === undefined ? null : BEARER.exec(authorization)
    return match !== null && timingSafeEqual(digest(match[1] as string), expected)
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
