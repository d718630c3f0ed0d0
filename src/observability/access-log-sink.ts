/**
 * @module Where access lines are written: whole lines, batched, one synchronous write per batch.
 *
 * A request appends its line to a string; the batch is written with one `writeSync` when it is full or
 * after `FLUSH_AFTER_MS`, and by `flush()` at shutdown and on reload. A synchronous write of a batch
 * costs one syscall of a few microseconds and no thread-pool round trip, and nothing is ever in flight
 * when the process exits, so no line is lost or reordered at shutdown. Like nginx's buffered access
 * log, a consumer that cannot keep up slows the proxy down rather than losing lines.
 *
 * Lines must be ASCII (the formats guarantee it), so a batch's length in characters is its size in bytes.
 */
import { closeSync, fstatSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/** Linux's PIPE_BUF: the largest write to a pipe that the kernel never interleaves with others. */
const PIPE_BUF = 4096
/** Batch size for files and character devices (/dev/null, a terminal). */
const FILE_BATCH = 64 * 1024
/** The longest a line waits in the batch when traffic is light. */
const FLUSH_AFTER_MS = 100
/** How long to wait before retrying when a non-blocking pipe is full. */
const EAGAIN_WAIT_MS = 1

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** A batched writer of ASCII lines to a file descriptor. */
export class AccessLogSink {
  readonly #fd: number
  readonly #ownsFd: boolean
  /**
   * Largest write. A pipe or socket gets batches of at most PIPE_BUF bytes, of whole lines, so the lines of
   * several worker processes sharing one stdout pipe never interleave.
   */
  readonly #batchLimit: number
  #pending = ''
  #timer: NodeJS.Timeout | undefined
  #warned = false

  /** `target`: `stdout`, `stderr`, or a file path (appended to, its folder created). */
  constructor(target: string) {
    if (target === 'stdout' || target === 'stderr') {
      this.#fd = target === 'stdout' ? 1 : 2
      this.#ownsFd = false
    } else {
      mkdirSync(dirname(target), { recursive: true })
      this.#fd = openSync(target, 'a')
      this.#ownsFd = true
    }
    const stat = fstatSync(this.#fd)
    this.#batchLimit = stat.isFIFO() || stat.isSocket() ? PIPE_BUF : FILE_BATCH
  }

  /** Adds one line (ASCII, ending in a newline). */
  append(line: string): void {
    if (this.#pending.length + line.length > this.#batchLimit) this.flush()
    this.#pending += line
    if (this.#pending.length >= this.#batchLimit) this.flush()
    else this.#timer ??= setTimeout(this.#onTimer, FLUSH_AFTER_MS).unref()
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.flush()
  }

  /** Writes every pending line now. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    let text = this.#pending
    this.#pending = ''
    while (text.length > 0) {
      try {
        const written = writeSync(this.#fd, text, null, 'latin1')
        text = written === text.length ? '' : text.slice(written)
      } catch (error) {
        // A non-blocking pipe that is full: wait for its reader, as a blocking write would.
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, EAGAIN_WAIT_MS)
        else {
          this.#dropped(error as NodeJS.ErrnoException)
          return
        }
      }
    }
  }

  /** Flushes, then closes a file this sink opened. */
  close(): void {
    this.flush()
    if (this.#ownsFd) closeSync(this.#fd)
  }

  /** The destination failed (EPIPE, disk full): the batch is dropped rather than crash the proxy; said once. */
  #dropped(error: NodeJS.ErrnoException): void {
    if (this.#warned) return
    this.#warned = true
    process.emitWarning(`access log: a write failed (${error.code ?? error.message}); the lines of failed writes are dropped`, { code: 'LATCH_ACCESS_LOG_WRITE' })
  }
}
