/**
 * @module `log.accessFormat`: a format by name, or the fields of a JSON line.
 */
import { z } from 'zod'
import { ACCESS_FIELDS, ACCESS_FORMATS, isAccessField } from '../observability/access-fields.js'

const field = z.string({ error: 'expected a field name' }).refine(isAccessField, { error: (issue) => `unknown access-log field ${JSON.stringify(issue.input)} — expected one of ${ACCESS_FIELDS.join(', ')}, or header:NAME` })

export const AccessFormat = z
  .union([z.enum(ACCESS_FORMATS, { error: `expected ${ACCESS_FORMATS.join(', ')}, or a list of fields` }), z.array(field).min(1, { error: 'expected at least one field' })], { error: `expected ${ACCESS_FORMATS.join(', ')}, or a list of fields` })
  .superRefine((format, ctx) => {
    if (!Array.isArray(format)) return
    const seen = new Set<string>()
    format.forEach((name, index) => {
      const key = name.toLowerCase()
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [index], message: `${name} is listed twice` })
      seen.add(key)
    })
  })
  .default('json')
  .meta({
    description:
      'Access-line format: `json` (default: one JSON object per line, the fields listed in docs/concepts/request-pipeline.md), `common` or `combined` (Apache/nginx; `combined` adds Referer and User-Agent; the request line carries the path without its query string, times are UTC), or a list of fields for a JSON line of your own: any default field, or `traceId`, `spanId`, `query`, `protocol`, `userAgent`, `referer`, `upstreamConnectMs`, `upstreamFirstByteMs`, `upstreamTotalMs`, `header:NAME`. Headers and query strings are logged only when named here.',
  })

export type AccessFormatConfig = z.output<typeof AccessFormat>
