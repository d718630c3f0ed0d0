/**
 * @module Memory figures of another process from /proc (Linux): current and peak resident set size.
 */
import { readFileSync } from 'node:fs'

function field(pid: number, name: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (match === null) throw new Error(`no ${name} in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/** Peak resident set size so far ("high water mark"), in bytes. */
export function peakRssBytes(pid: number): number {
  return field(pid, 'VmHWM')
}

/** Current resident set size, in bytes. */
export function rssBytes(pid: number): number {
  return field(pid, 'VmRSS')
}
