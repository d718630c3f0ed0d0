import { describe, expect, it } from 'vitest'
import { parsePrometheusText, valueOf } from '../../helpers/prometheus-text.js'

describe('parsePrometheusText (test helper)', () => {
  it('groups histogram samples under their family and reads escaped label values', () => {
    const families = parsePrometheusText([
      '# HELP t_seconds Time.',
      '# TYPE t_seconds histogram',
      't_seconds_bucket{le="0.1",pool="a\\"b"} 1',
      't_seconds_bucket{le="+Inf",pool="a\\"b"} 2',
      't_seconds_sum{pool="a\\"b"} 0.3',
      't_seconds_count{pool="a\\"b"} 2',
      '# TYPE up gauge',
      'up 1 1700000000000',
      'lag Nan',
    ].join('\n'))
    expect(families.get('t_seconds')?.type).toBe('histogram')
    expect(families.get('t_seconds')?.samples).toHaveLength(4)
    expect(valueOf(families, 't_seconds_bucket', { le: '+Inf', pool: 'a"b' })).toBe(2)
    expect(valueOf(families, 'up')).toBe(1)
    expect(valueOf(families, 'lag')).toBeNaN()
  })

  it.each(['up{pool=a} 1', 'up{pool="a"', 'up one', 'not a line'])('refuses the malformed line %s', (line) => {
    expect(() => parsePrometheusText(line)).toThrow()
  })
})
