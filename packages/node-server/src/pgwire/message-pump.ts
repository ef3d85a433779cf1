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
    let messages: Uint8Array[]
    try {
      messages = this.frames.push(chunk)
    } catch (err) {
      this.fail(err)
      return
    }
    for (const m of messages) this.queue.push(m)
    if (this.waiting() >= READ_PAUSE_MESSAGES) this.io.pause()
    if (!this.running && this.waiting() > 0) void this.run()
  }

  /** One whole message (one pg-gateway had already buffered when the connection was handed over). */
  enqueue(message: Uint8Array): void {
    if (this.closed) return
    this.queue.push(message)
    if (!this.running) void this.run()
  }

  private waiting(): number {
    return this.queue.length - this.next
  }

  private async run(): Promise<void> {
    this.running = true
    try {
      // Bounded by the queue, which the socket's pause bounds.
      while (this.next < this.queue.length && !this.closed) {
        const message = this.queue[this.next++]!
        if (this.next === this.queue.length) {
          this.queue = []
          this.next = 0
        }
        const answered = this.handler(message)
        const reply = answered instanceof Promise ? await answered : answered
        if (reply.bytes !== undefined && reply.bytes.length > 0 && !this.io.destroyed) {
          if (!this.io.write(reply.bytes)) await this.drained()
        }
        if (reply.close) {
          this.closed = true
          this.io.end()
          return
        }
      }
    } catch (err) {
      this.fail(err)
    } finally {
      this.running = false
      if (!this.closed && this.io.isPaused()) this.io.resume()
    }
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
