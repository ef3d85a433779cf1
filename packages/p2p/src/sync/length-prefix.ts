/**
 * Length prefixes of sync-protocol messages: unsigned LEB128 varints, as libp2p's
 * `lpStream` writes them. Our decoder refuses a prefix longer than `MAX_PREFIX_BYTES`
 * while it is still incomplete; the default one keeps reading a peer's endless 0xff bytes.
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

/** Throws RangeError while incomplete (lpStream then reads another byte). */
export function decodeLengthPrefix(data: ByteList | Uint8Array): number {
  let value = 0
  const n = Math.min(data.byteLength, MAX_PREFIX_BYTES)
  for (let i = 0; i < n; i++) {
    const b = data instanceof Uint8Array ? data[i]! : data.get(i)
    value += (b & 0x7f) * 2 ** (7 * i)
    if ((b & 0x80) === 0) return value
  }
  if (data.byteLength >= MAX_PREFIX_BYTES) throw new LengthPrefixError(`length prefix longer than ${MAX_PREFIX_BYTES} bytes`)
  throw new RangeError('incomplete length prefix')
}
