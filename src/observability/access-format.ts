/**
 * @module Compiles `log.accessFormat` into the line format, once per config load.
 */
import type { AccessFormatConfig } from '../config/access-log-schema.js'
import { ClfAccessFormat } from './access-line-clf.js'
import { FieldListAccessFormat } from './access-line-fields.js'
import { JsonAccessFormat } from './access-line-json.js'
import type { AccessLineFormat } from './access-record.js'

/** The line format `log.accessFormat` names; the default JSON line keeps its hand-compiled writer. */
export function compileAccessFormat(format: AccessFormatConfig): AccessLineFormat {
  if (Array.isArray(format)) return new FieldListAccessFormat(format)
  switch (format) {
    case 'common':
      return new ClfAccessFormat(false)
    case 'combined':
      return new ClfAccessFormat(true)
    case 'json':
      return new JsonAccessFormat()
  }
}
