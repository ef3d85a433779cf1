/**
 * Mutation of encoded samples for the fuzz campaigns: takes a valid encoding and returns
 * a damaged copy, the way a hostile or broken peer would send it. Most mutations are
 * small (a flipped bit, a boundary value over a length or count, a cut, a duplicated or
 * swapped slice), so the result still gets past the first checks and reaches the deep
 * parts of a decoder; a few are random bytes of random length.
 *
 * Invariants: deterministic for a given generator state; never mutates its input; the
 * result is at most `maxLength` bytes (memory of a campaign stays bounded).
 */
import type { SeededRandom } from '@concord/core'

/** Values that sit on the edges of lengths, counts, tags and varints. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff]
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff]

export interface MutateOptions {
  /** Largest result. */
  maxLength?: number
  /** At most this many mutations are stacked on one sample. */
  maxStack?: number
}

export function randomBytes(rng: SeededRandom, maxLength: number): Uint8Array {
  const out = new Uint8Array(rng.int(0, maxLength))
  for (let i = 0; i < out.length; i++) out[i] = rng.int(0, 255)
  return out
}

/** A damaged copy of `sample`: 1 to `maxStack` stacked mutations, or (rarely) random bytes. */
export function mutate(rng: SeededRandom, sample: Uint8Array, options: MutateOptions = {}): Uint8Array {
  const maxLength = options.maxLength ?? Math.max(64, sample.length * 2 + 16)
  if (rng.chance(0.03)) return randomBytes(rng, Math.min(maxLength, 256))
  let out: number[] = [...sample]
  const stack = rng.int(1, options.maxStack ?? 4)
  for (let s = 0; s < stack; s++) out = mutateOnce(rng, out)
  if (out.length > maxLength) out.length = maxLength
  return Uint8Array.from(out)
}

function mutateOnce(rng: SeededRandom, b: number[]): number[] {
  const at = () => rng.int(0, Math.max(0, b.length - 1))
  switch (rng.int(0, 10)) {
    case 0: // flip one bit
      if (b.length > 0) {
        const i = at()
        b[i] = b[i]! ^ (1 << rng.int(0, 7))
      }
      return b
    case 1: // one random byte
      if (b.length > 0) b[at()] = rng.int(0, 255)
      return b
    case 2: // a boundary byte
      if (b.length > 0) b[at()] = rng.pick(INTERESTING_BYTES)
      return b
    case 3: { // a boundary u32, big or little endian
      const v = rng.pick(INTERESTING_U32)
      const bytes = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]
      if (rng.chance(0.5)) bytes.reverse()
      const i = at()
      for (let k = 0; k < 4 && i + k < b.length; k++) b[i + k] = bytes[k]!
      return b
    }
    case 4: // truncate
      return b.slice(0, rng.int(0, b.length))
    case 5: { // delete a slice
      const i = at()
      return [...b.slice(0, i), ...b.slice(i + rng.int(1, 16))]
    }
    case 6: { // insert random bytes
      const i = rng.int(0, b.length)
      const ins = Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 255))
      return [...b.slice(0, i), ...ins, ...b.slice(i)]
    }
    case 7: { // duplicate a slice in place
      const i = at()
      const slice = b.slice(i, i + rng.int(1, 32))
      return [...b.slice(0, i), ...slice, ...slice, ...b.slice(i + slice.length)]
    }
    case 8: { // swap two slices' worth of bytes
      const i = at()
      const j = at()
      const n = rng.int(1, 8)
      for (let k = 0; k < n && i + k < b.length && j + k < b.length; k++) {
        const t = b[i + k]!
        b[i + k] = b[j + k]!
        b[j + k] = t
      }
      return b
    }
    case 9: // a varint continuation run: a length that never ends, or a huge one
      if (b.length > 0) {
        const i = at()
        const n = rng.int(1, 10)
        for (let k = 0; k < n && i + k < b.length; k++) b[i + k] = 0xff
      }
      return b
    default: // append random bytes (trailing garbage)
      return [...b, ...Array.from({ length: rng.int(1, 8) }, () => rng.int(0, 255))]
  }
}
