/**
 * A raw TCP connection to a PostgreSQL wire server, for tests that speak the protocol by
 * hand: what the server sends is split into [type, body] messages as it arrives, and a
 * test waits for a condition on them. Frontend messages are built with `frontend`; a
 * CancelRequest is sent on its own connection by `sendCancelRequest`.
 *
 * Invariant: a wait is bounded (10 s by default): a server that never answers fails the
 * test with the condition it waited for, never hangs it.
 */
import { connect, type Socket } from 'node:net'

/** One frontend message: its type byte, then its length (itself included) and body. */
export function frontend(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts)
  const head = Buffer.alloc(5)
  head[0] = type.charCodeAt(0)
  head.writeInt32BE(4 + body.length, 1)
  return Buffer.concat([head, body])
}

/** A message's C string (NUL-terminated UTF-8), 16-bit and 32-bit big-endian integers, as `frontend` parts. */
export const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8')
export const int16 = (n: number): Buffer => {
  const b = Buffer.alloc(2)
  b.writeInt16BE(n)
  return b
}
export const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

/** A StartupMessage (protocol 3.0) with `params` (user, database ..), as a client's first message. */
export function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.from(Object.entries(params).map(([k, v]) => `${k}\0${v}\0`).join('') + '\0')
  const head = Buffer.alloc(8)
  head.writeInt32BE(8 + body.length, 0)
  head.writeInt32BE(3 << 16, 4)
  return Buffer.concat([head, body])
}

/** What pg's `client.cancel` sends: a CancelRequest for (pid, secret) on a new connection, which the server closes. */
export async function sendCancelRequest(port: number, pid: number, secret: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      const b = Buffer.alloc(16)
      b.writeInt32BE(16, 0)
      b.writeInt32BE(80877102, 4)
      b.writeInt32BE(pid, 8)
      b.writeInt32BE(secret, 12)
      s.write(b)
    })
    s.on('close', () => resolve())
    s.on('error', reject)
  })
}

export class RawWireSocket {
  /** The server's messages so far, in order; a test may take them out. */
  readonly messages: Array<[string, Buffer]> = []
  readonly socket: Socket
  /** Resolves once the connection is made. */
  readonly connected: Promise<void>
  private buffered = Buffer.alloc(0)
  private wake: (() => void) | null = null

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1')
    this.connected = new Promise<void>((resolve) => this.socket.once('connect', () => resolve()))
    // The server may reset the socket as it closes after Terminate.
    this.socket.on('error', () => {})
    this.socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk])
      while (this.buffered.length >= 5 && this.buffered.length >= 1 + this.buffered.readInt32BE(1)) {
        const end = 1 + this.buffered.readInt32BE(1)
        this.messages.push([String.fromCharCode(this.buffered[0]!), this.buffered.subarray(5, end)])
        this.buffered = this.buffered.subarray(end)
      }
      this.wake?.()
    })
  }

  /** Waits until `done()` holds of the messages; throws naming `what` after `ms`. */
  async until(done: () => boolean, what: () => string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms
    while (!done()) {
      if (Date.now() > deadline) throw new Error(what())
      await new Promise<void>((resolve) => {
        this.wake = resolve
        setTimeout(resolve, 100)
      })
    }
  }
}
