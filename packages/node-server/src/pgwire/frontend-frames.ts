/**
 * Splits a connection's bytes after startup into whole frontend messages
 * ([type u8][length i32, counting itself][body]), in order.
 *
 * Invariants: every length was already checked by the connection's `FrameGuard` (4 to
 * the message limit) before the bytes get here, and is checked again (a frame shorter
 * than its header throws); a message that sits whole in one chunk is handed out as a
 * view of that chunk, without a copy (the common case: one small message per read);
 * bytes of an incomplete message are kept until the rest arrives.
 */
import { FrameError, int32At } from './frame-guard.js'

const HEADER = 5

export class FrontendFrames {
  /** Chunks holding the start of a message not yet complete (and what followed it), joined once it is. */
  private parts: Uint8Array[] = []
  private partsLength = 0
  /** Bytes the first held message needs in all (0: its header is not in yet). */
  private needed = 0

  /** The messages `chunk` completes, in order, appended to `out` (the caller's queue: no array per chunk). */
  push(chunk: Uint8Array, out: Uint8Array[] = []): Uint8Array[] {
    let data = chunk
    if (this.parts.length > 0) {
      this.parts.push(chunk)
      this.partsLength += chunk.length
      // A big message comes in many chunks: they are joined once, when it is whole.
      if (this.needed === 0 || this.partsLength < this.needed) {
        if (this.needed === 0 && this.partsLength >= HEADER) this.needed = frameLength(joinParts(this.parts, this.partsLength), 0)
        if (this.needed === 0 || this.partsLength < this.needed) return out
      }
      data = joinParts(this.parts, this.partsLength)
      this.parts = []
      this.partsLength = 0
      this.needed = 0
    }
    let pos = 0
    // Bounded: every iteration consumes a whole message or ends the loop.
    while (data.length - pos >= HEADER) {
      const end = pos + frameLength(data, pos)
      if (end > data.length) break
      out.push(data.subarray(pos, end))
      pos = end
    }
    if (pos < data.length) {
      const rest = data.slice(pos)
      this.parts = [rest]
      this.partsLength = rest.length
      this.needed = rest.length >= HEADER ? frameLength(rest, 0) : 0
    }
    return out
  }
}

/** The whole length (type byte included) of the message starting at `pos`. */
function frameLength(data: Uint8Array, pos: number): number {
  const length = int32At(data, pos + 1) >>> 0
  if (length < 4) throw new FrameError(`message length ${length}`)
  return 1 + length
}

function joinParts(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
