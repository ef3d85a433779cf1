import { describe, expect, it } from 'vitest'
import { openValue, sealValue } from './checked-record.js'
import { decodeMarker, encodeMarker, type ShardMarker } from './shard-marker.js'

/** The marker's stored payload as its format defines it: each count as a big-endian u32 pair, high word first. */
function definedPayload(m: ShardMarker): number[] {
  const bytes = new Uint8Array(24)
  const view = new DataView(bytes.buffer)
  ;[m.first, m.next, m.count].forEach((n, i) => {
    view.setUint32(i * 8, Math.floor(n / 2 ** 32))
    view.setUint32(i * 8 + 4, n >>> 0)
  })
  return [...bytes]
}

describe('shard markers', () => {
  const markers: ShardMarker[] = [
    { first: 0, next: 0, count: 0 },
    { first: 1, next: 0x1_0000_0001, count: 0xffff_ffff },
    { first: 2 ** 40 + 7, next: Number.MAX_SAFE_INTEGER, count: 2 ** 33 },
  ]

  it("are stored in their format's bytes and read back", () => {
    for (const m of markers) {
      const sealed = encodeMarker(m)
      expect([...openValue(sealed)]).toEqual(definedPayload(m))
      expect([...sealed]).toEqual([...sealValue(Uint8Array.from(definedPayload(m)))])
      expect(decodeMarker(sealed)).toEqual(m)
    }
  })
})
