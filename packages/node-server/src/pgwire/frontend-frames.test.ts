import { describe, expect, it } from 'vitest'
import { FrontendFrames } from './frontend-frames.js'
import { FrameError } from './frame-guard.js'

/** A message of type `type` with `body`. */
function message(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length)
  out[0] = type.charCodeAt(0)
  new DataView(out.buffer).setInt32(1, 4 + body.length)
  out.set(body, 5)
  return out
}
const text = (s: string): Uint8Array => Uint8Array.from([...Buffer.from(s), 0])
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]))

describe('FrontendFrames', () => {
  it('hands out every whole message of a chunk, in order, as views of the chunk', () => {
    const q = message('Q', text('SELECT 1'))
    const s = message('S', new Uint8Array(0))
    const chunk = concat(q, s, q)
    const out = new FrontendFrames().push(chunk)
    expect(out).toEqual([q, s, q])
    expect(out[1]!.buffer).toBe(chunk.buffer)
  })

  it('reassembles messages split anywhere, one byte at a time included', () => {
    const stream = concat(message('Q', text('SELECT abalance FROM t WHERE aid = 1')), message('S', new Uint8Array(0)), message('X', new Uint8Array(0)))
    for (const size of [1, 2, 3, 5, 7, 11]) {
      const frames = new FrontendFrames()
      const got: Uint8Array[] = []
      for (let i = 0; i < stream.length; i += size) got.push(...frames.push(stream.subarray(i, i + size)))
      expect(concat(...got), `chunks of ${size}`).toEqual(stream)
      expect(got.map((m) => String.fromCharCode(m[0]!)), `chunks of ${size}`).toEqual(['Q', 'S', 'X'])
    }
  })

  it('joins a big message once, when its last chunk is in', () => {
    const body = new Uint8Array(3_000_000).fill(0x61)
    const big = message('d', body)
    const frames = new FrontendFrames()
    const got: Uint8Array[] = []
    for (let i = 0; i < big.length; i += 65_536) got.push(...frames.push(big.subarray(i, i + 65_536)))
    expect(got).toHaveLength(1)
    expect(got[0]!.length).toBe(big.length)
    expect(Buffer.compare(got[0]!, big)).toBe(0)
  })

  it('throws on a length shorter than its own field', () => {
    expect(() => new FrontendFrames().push(Uint8Array.from([0x51, 0, 0, 0, 3]))).toThrow(FrameError)
  })
})
