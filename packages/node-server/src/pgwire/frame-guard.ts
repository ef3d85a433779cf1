/**
 * Checks the framing of a client's byte stream before pg-gateway buffers it. pg-gateway
 * waits for as many bytes as a message claims, so garbage such as an HTTP request (whose
 * first four bytes read as a 1.2 GB length) would hold a connection open and grow memory.
 * The guard follows message boundaries and throws on any length outside the protocol's.
 *
 * Initial messages (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) have no
 * type byte: [length i32][code i32]...; every later message is [type u8][length i32]....
 */
export class FrameError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'FrameError'
  }
}

const MAX_INITIAL_BYTES = 10_000
const PROTOCOL_3 = 3 << 16

export class FrameGuard {
  private initial = true
  private readonly header = new Uint8Array(8)
  private have = 0
  private skip = 0

  private readonly maxMessageBytes: number

  constructor(maxMessageBytes = 256 * 1024 * 1024) {
    this.maxMessageBytes = maxMessageBytes
  }

  /**
   * Throws `FrameError` when the stream cannot be PostgreSQL protocol 3. Allocates
   * nothing: the header's bytes are copied one by one and read as integers in place (a
   * view and a DataView per message were ~850 bytes of a node-postgres query's five).
   */
  feed(chunk: Uint8Array): void {
    let pos = 0
    const header = this.header
    // Bounded: every iteration consumes at least one byte of the chunk.
    while (pos < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos)
        this.skip -= n
        pos += n
        continue
      }
      const need = this.initial ? 8 : 5
      const end = pos + Math.min(need - this.have, chunk.length - pos)
      while (pos < end) header[this.have++] = chunk[pos++]!
      // An initial length is checked as soon as its four bytes are in, before pg-gateway
      // sees them: pg-gateway loops forever on a zero length (the node froze on 4 zero
      // bytes, found by the wire fuzz campaign).
      if (this.initial && this.have >= 4) {
        const length = int32At(header, 0)
        if (length < 8 || length > MAX_INITIAL_BYTES) throw new FrameError(`initial message length ${length}`)
      }
      if (this.have < need) return
      this.have = 0
      if (this.initial) {
        const length = int32At(header, 0)
        const code = int32At(header, 4)
        if (length < 8 || length > MAX_INITIAL_BYTES) throw new FrameError(`initial message length ${length}`)
        this.skip = length - 8
        if (code >>> 16 === PROTOCOL_3 >>> 16) this.initial = false
      } else {
        const length = int32At(header, 1)
        if (length < 4 || length > this.maxMessageBytes) throw new FrameError(`message length ${length}`)
        this.skip = length - 4
      }
    }
  }
}

/** The big-endian signed 32-bit integer at `at` (as DataView.getInt32 reads it). */
export function int32At(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!
}
