/**
 * Carries an authenticated connection's messages from the socket to its handler (the
 * `WireSession`) and each reply back, without pg-gateway's web streams: pg-gateway runs
 * the startup and authentication, then hands the connection over (pg-server.ts).
 *
 * Why: under pgbench select-only the web-stream path (a ReadableStream, a
 * WritableStream, async generators and their promises per message) took about a tenth
 * of the node's CPU (docs/benchmarks.md, "Read path (wave 8)").
 *
 * Invariants:
 * - Messages are handled one at a time, in the order they arrived; a reply leaves in
 *   one socket write before the next message is handled (DESIGN.md 13).
 * - Bounded: past READ_PAUSE_MESSAGES waiting messages the socket is paused until the
 *   handler has caught up (one message's size is bounded by the FrameGuard); a reply the
 *   socket cannot take at once is waited for ('drain') before the next message.
 * - A reply asking to close ends the connection once written; nothing after it is handled.
 * - A handler that throws drops the connection (`onError`); other connections go on.
 */
import type { Socket } from 'node:net'
import { FrontendFrames } from './frontend-frames.js'

export interface PumpReply {
  bytes?: Uint8Array
  close?: boolean
}

/** Messages waiting before the socket is paused. */
const READ_PAUSE_MESSAGES = 64

export class MessagePump {
  private readonly frames = new FrontendFrames()
  private queue: Uint8Array[] = []
  private next = 0
  private running = false
  private closed = false

  private readonly io: Socket
  private readonly handler: (message: Uint8Array) => PumpReply | Promise<PumpReply>
  private readonly onError: (err: unknown) => void

  /** `handler` answers a message synchronously when it can: the pump then goes on without a turn of the microtask queue. */
  constructor(io: Socket, handler: (message: Uint8Array) => PumpReply | Promise<PumpReply>, onError: (err: unknown) => void) {
    this.io = io
    this.handler = handler
    this.onError = onError
  }

  /** Bytes read from the socket (framing already checked by its FrameGuard). */
  feed(chunk: Uint8Array): void {
    if (this.closed) return
    try {
      this.frames.push(chunk, this.queue)
    } catch (err) {
      this.fail(err)
      return
    }
    if (this.waiting() >= READ_PAUSE_MESSAGES) this.io.pause()
    if (!this.running && this.waiting() > 0) this.run()
  }

  /** One whole message (one pg-gateway had already buffered when the connection was handed over). */
  enqueue(message: Uint8Array): void {
    if (this.closed) return
    this.queue.push(message)
    if (!this.running) this.run()
  }

  private waiting(): number {
    return this.queue.length - this.next
  }

  /**
   * Handles the waiting messages in this turn while each reply is there at once and the
   * socket takes it; past a reply that is a promise, or a full socket buffer, `runWaiting`
   * goes on. An async loop here was a promise and a generator per message (~1 KB of a
   * select-only transaction's allocation).
   */
  private run(): void {
    this.running = true
    let handedOn = false
    try {
      // Bounded by the queue, which the socket's pause bounds.
      while (this.next < this.queue.length && !this.closed) {
        const message = this.queue[this.next++]!
        if (this.next === this.queue.length) {
          // Emptied in place: the queue is this pump's alone (a new array per message was garbage).
          this.queue.length = 0
          this.next = 0
        }
        const answered = this.handler(message)
        if (answered instanceof Promise) {
          handedOn = true
          void this.runWaiting(answered)
          return
        }
        const bytes = answered.bytes
        if (bytes !== undefined && bytes.length > 0 && !this.io.destroyed && !this.io.write(bytes)) {
          handedOn = true
          const close = answered.close === true
          void this.runWaiting(this.drained().then(() => ({ close })))
          return
        }
        if (answered.close) {
          this.close()
          return
        }
      }
    } catch (err) {
      this.fail(err)
    } finally {
      if (!handedOn) this.stopped()
    }
  }

  /** `run` past a reply it waits for: the reply written (and drained), then on as `run`. */
  private async runWaiting(answered: Promise<PumpReply>): Promise<void> {
    let reply: PumpReply
    try {
      reply = await answered
      if (reply.bytes !== undefined && reply.bytes.length > 0 && !this.io.destroyed) {
        if (!this.io.write(reply.bytes)) await this.drained()
      }
    } catch (err) {
      this.fail(err)
      this.stopped()
      return
    }
    if (reply.close) {
      this.close()
      this.stopped()
      return
    }
    this.run()
  }

  /** A reply asked to close: nothing after it is handled. */
  private close(): void {
    this.closed = true
    this.io.end()
  }

  /** The loop ended: the socket reads again if the queue had paused it. */
  private stopped(): void {
    this.running = false
    if (!this.closed && this.io.isPaused()) this.io.resume()
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.io.off('drain', done)
        this.io.off('close', done)
        resolve()
      }
      this.io.on('drain', done)
      this.io.on('close', done)
    })
  }

  private fail(err: unknown): void {
    this.closed = true
    this.queue = []
    this.next = 0
    this.onError(err)
    this.io.destroy()
  }
}
