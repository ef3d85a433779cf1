import { describe, expect, it } from 'vitest'
import { crc32c, crc32cByBytes } from './crc32c.js'

/** The one-table definition, bit by bit: what the eight-table version must equal. */
function reference(bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  }
  return ~c >>> 0
}

describe('crc32c', () => {
  it('gives the standard check value and equals the bitwise definition at every length and offset', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283)
    // Long enough for the word reads (64 bytes and up), at every alignment of the start and the end.
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 0xff)
    for (let start = 0; start < 9; start++) {
      for (let len = 0; len < 200; len++) {
        const part = data.subarray(start, start + len)
        expect(crc32c(part)).toBe(reference(part))
        expect(crc32cByBytes(part)).toBe(reference(part))
      }
    }
  })
  it('continues from an earlier result', () => {
    const data = Uint8Array.from({ length: 50 }, (_, i) => i)
    expect(crc32c(data.subarray(13), crc32c(data.subarray(0, 13)))).toBe(crc32c(data))
    const long = Uint8Array.from({ length: 500 }, (_, i) => (i * 7) & 0xff)
    expect(crc32c(long.subarray(101), crc32c(long.subarray(0, 101)))).toBe(reference(long))
  })
})
