/**
 * FNV-1a, 32 bits, over bytes. Frames carry it so that a garbled or truncated message is
 * rejected before anything in it is applied; digests use it to compare shard states.
 * Not a defence against a peer that lies on purpose (the cluster key keeps strangers out).
 */
export function fnv1a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export function fnv1aString(text: string, seed = 0x811c9dc5): number {
  let h = seed
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
