import { describe, expect, it } from 'vitest'
import { decodeLengthPrefix, FrameSplitter, LengthPrefixError } from './length-prefix.js'

/** `body` behind its varint length prefix, as lpStream writes it. */
function framed(body: Uint8Array): Uint8Array {
  const prefix: number[] = []
  let n = body.byteLength
  while (n >= 0x80) {
    prefix.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  prefix.push(n)
  const out = new Uint8Array(prefix.length + body.byteLength)
  out.set(prefix)
  out.set(body, prefix.length)
  return out
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/** A small deterministic generator (mulberry32), so a failing split can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

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

describe('FrameSplitter', () => {
  it('hands back the frames of one chunk as views of it, without copying', () => {
    const bodies = [Uint8Array.of(1, 2, 3), new Uint8Array(300).fill(9), Uint8Array.of(4)]
    const chunk = concat(bodies.map(framed))
    const frames = new FrameSplitter(1024).push(chunk)
    expect(frames).toEqual(bodies)
    for (const f of frames) expect(f.buffer).toBe(chunk.buffer)
  })

  it('the same frames however the bytes are cut into chunks, down to one byte each', () => {
    const next = random(13)
    const sizes = [0, 1, 127, 128, 200, 3_000]
    const bodies = Array.from({ length: 24 }, (_, i) => Uint8Array.from({ length: sizes[i % 6]! }, () => Math.floor(next() * 256)))
    const stream = concat(bodies.map(framed))
    for (const cut of [1, 2, 3, 7, 129, 5_000, 65_536]) {
      const splitter = new FrameSplitter(3_000)
      const got: Uint8Array[] = []
      for (let at = 0; at < stream.byteLength; ) {
        const size = cut === 7 ? 1 + Math.floor(next() * 300) : cut
        got.push(...splitter.push(stream.subarray(at, at + size)))
        at += size
      }
      expect(got.map((f) => f.byteLength)).toEqual(bodies.map((b) => b.byteLength))
      expect(got).toEqual(bodies)
    }
  })

  it('refuses a frame over its bound from the prefix, before its bytes arrive', () => {
    const splitter = new FrameSplitter(100)
    expect(splitter.push(framed(new Uint8Array(100)))).toHaveLength(1)
    // The one-byte prefix of a 101-byte frame and none of its body; then a two-byte one cut in two.
    const prefix = framed(new Uint8Array(101)).subarray(0, 1)
    expect(() => splitter.push(prefix)).toThrow(LengthPrefixError)
    const split = new FrameSplitter(100)
    expect(split.push(Uint8Array.of(0x80))).toEqual([])
    expect(() => split.push(Uint8Array.of(0x01))).toThrow(/frame of 128 bytes/)
  })

  it('refuses an endless prefix, whole or in pieces, and takes an empty chunk as nothing', () => {
    expect(() => new FrameSplitter(1 << 20).push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toThrow(LengthPrefixError)
    const pieces = new FrameSplitter(1 << 20)
    for (let i = 0; i < 4; i++) expect(pieces.push(Uint8Array.of(0xff))).toEqual([])
    expect(() => pieces.push(Uint8Array.of(0xff))).toThrow(LengthPrefixError)
    expect(new FrameSplitter(10).push(new Uint8Array(0))).toEqual([])
  })
})
