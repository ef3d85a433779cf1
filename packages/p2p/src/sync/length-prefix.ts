/**
 * Length prefixes of sync-protocol messages: unsigned LEB128 varints, as libp2p's
 * `lpStream` writes them, and `FrameSplitter`, which cuts an inbound stream's bytes into
 * the frames they carry as the bytes arrive.
 *
 * Invariants: a prefix longer than `MAX_PREFIX_BYTES` is refused while still incomplete
 * (libp2p's default decoder keeps reading a peer's endless 0xff bytes), and a frame longer
 * than the splitter's bound is refused from its prefix, before any of it is held.
 */
/** The part of uint8arraylist's `Uint8ArrayList` we read. */
export interface ByteList {
  readonly byteLength: number
  get(index: number): number
}

/** 5 varint bytes encode up to 2^35 - 1, far above any message we accept. */
export const MAX_PREFIX_BYTES = 5

export class LengthPrefixError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LengthPrefixError'
  }
}

/** A prefix read from `from` on: the length it encodes and its own size in bytes. */
interface Prefix {
  length: number
  size: number
}

/** The prefix at `from`, or null while `data` ends before it does; refuses an endless one. */
function readPrefix(data: ByteList | Uint8Array, from: number): Prefix | null {
  let value = 0
  const n = Math.min(data.byteLength - from, MAX_PREFIX_BYTES)
  for (let i = 0; i < n; i++) {
    const b = data instanceof Uint8Array ? data[from + i]! : data.get(from + i)
    value += (b & 0x7f) * 2 ** (7 * i)
    if ((b & 0x80) === 0) return { length: value, size: i + 1 }
  }
  if (n >= MAX_PREFIX_BYTES) throw new LengthPrefixError(`length prefix longer than ${MAX_PREFIX_BYTES} bytes`)
  return null
}

/** Throws RangeError while incomplete (`lpStream` then reads another byte). */
export function decodeLengthPrefix(data: ByteList | Uint8Array): number {
  const prefix = readPrefix(data, 0)
  if (prefix === null) throw new RangeError('incomplete length prefix')
  return prefix.length
}

/**
 * Cuts a stream's bytes into length-prefixed frames as they arrive. A frame that lies
 * within one chunk comes back as a view of it; only a frame split across chunks is
 * copied, once, when its last byte arrives. What it holds between chunks is at most one
 * frame's prefix and bytes, bounded by `maxFrameBytes`.
 */
export class FrameSplitter {
  private readonly maxFrameBytes: number
  /** Bytes of an incomplete frame (prefix included), in arrival order. */
  private held: Uint8Array[] = []
  private heldBytes = 0
  /** Prefix and body size of the held frame once its prefix is complete; 0 before. */
  private heldNeeds = 0

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  /** The frames `chunk` completes, in order; throws LengthPrefixError on a bad prefix or an oversized frame. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.byteLength === 0) return []
    if (this.heldBytes === 0) return this.split(chunk)
    this.held.push(chunk)
    this.heldBytes += chunk.byteLength
    if (this.heldNeeds === 0) {
      const prefix = readPrefix(this.joined(), 0)
      if (prefix === null) return []
      this.heldNeeds = this.checked(prefix)
    }
    if (this.heldBytes < this.heldNeeds) return []
    const all = this.joined()
    this.held = []
    this.heldBytes = 0
    this.heldNeeds = 0
    return this.split(all)
  }

  /** Every whole frame of `bytes`; the incomplete rest is held. */
  private split(bytes: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = []
    let at = 0
    while (at < bytes.byteLength) {
      const prefix = readPrefix(bytes, at)
      const needs = prefix === null ? 0 : this.checked(prefix)
      if (prefix === null || at + needs > bytes.byteLength) {
        const rest = bytes.subarray(at)
        this.held = [rest]
        this.heldBytes = rest.byteLength
        this.heldNeeds = needs
        break
      }
      frames.push(bytes.subarray(at + prefix.size, at + needs))
      at += needs
    }
    return frames
  }

  /** The bytes the frame of `prefix` takes, prefix included; refuses one over the bound. */
  private checked(prefix: Prefix): number {
    const max = this.maxFrameBytes
    if (prefix.length > max) throw new LengthPrefixError(`frame of ${prefix.length} bytes is longer than ${max}`)
    return prefix.size + prefix.length
  }

  /** The held chunks as one array (the chunk itself when there is one). */
  private joined(): Uint8Array {
    if (this.held.length === 1) return this.held[0]!
    const all = new Uint8Array(this.heldBytes)
    let at = 0
    for (const part of this.held) {
      all.set(part, at)
      at += part.byteLength
    }
    this.held = [all]
    return all
  }
}
