import { describe, expect, it } from 'vitest'
import { decodeLengthPrefix, LengthPrefixError } from './length-prefix.js'

describe('length prefix', () => {
  it('decodes varints as lpStream encodes them', () => {
    expect(decodeLengthPrefix(Uint8Array.of(0))).toBe(0)
    expect(decodeLengthPrefix(Uint8Array.of(0x7f))).toBe(127)
    expect(decodeLengthPrefix(Uint8Array.of(0x80, 0x01))).toBe(128)
    expect(decodeLengthPrefix(Uint8Array.of(0x80, 0x80, 0x80, 0x20))).toBe(64 * 1024 * 1024)
  })
  it('asks for more bytes while incomplete and refuses endless prefixes', () => {
    expect(() => decodeLengthPrefix(Uint8Array.of(0xff, 0xff))).toThrow(RangeError)
    expect(() => decodeLengthPrefix(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff))).toThrow(LengthPrefixError)
  })
})
