import { describe, expect, it } from 'vitest'
import type { StoredRecord } from '../api.js'
import { CorruptRecordError, decodeRecord, encodeRecord, openValue, openValueInPlace, recordChecksum, sealValue } from './checked-record.js'

const stored = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(10)

describe('recordChecksum', () => {
  const records: StoredRecord[] = [
    { generation: 0, kind: 'update', data: Uint8Array.of(1, 2, 3) },
    { generation: 7, kind: 'snapshot', data: Uint8Array.of(1, 2, 3) },
    { generation: 2 ** 40 + 5, kind: 'update', data: new Uint8Array(0) },
  ]

  it('is the checksum encodeRecord stores, whether computed or remembered', () => {
    for (const r of records) {
      const fresh = { ...r, data: new Uint8Array(r.data) }
      expect(recordChecksum(fresh)).toBe(stored(encodeRecord(r)))
      expect(recordChecksum(r)).toBe(stored(encodeRecord(r)))
    }
  })

  // A start with a row snapshot names the log's last record by this checksum: taken from
  // what decodeRecord verified, not from hashing a record of up to 100 MB again.
  it('of a decoded record is the one storage verified, without reading the data again', () => {
    const bytes = encodeRecord(records[1]!)
    const decoded = decodeRecord(bytes)
    decoded.data[0] = 99 // not read again: the verified checksum answers
    expect(recordChecksum(decoded)).toBe(stored(bytes))
  })

  it('is not taken from a remembered record of another kind or generation', () => {
    const data = Uint8Array.of(4, 5, 6)
    const a = recordChecksum({ generation: 1, kind: 'update', data })
    const b = recordChecksum({ generation: 2, kind: 'update', data })
    const c = recordChecksum({ generation: 1, kind: 'snapshot', data })
    expect(new Set([a, b, c]).size).toBe(3)
    expect(b).toBe(stored(encodeRecord({ generation: 2, kind: 'update', data })))
  })
})

describe('sealed values', () => {
  const payload = new TextEncoder().encode('{"rows":[1,2,3]}')

  it('open to their payload, as a copy or in place', () => {
    const sealed = sealValue(payload)
    const copy = openValue(sealed)
    const view = openValueInPlace(sealed)
    expect([...copy]).toEqual([...payload])
    expect([...view]).toEqual([...payload])
    // The copy is its own memory; the view is the sealed bytes' (what a caller owning them saves).
    expect(copy.buffer).not.toBe(sealed.buffer)
    expect(view.buffer).toBe(sealed.buffer)
  })

  it('refuse a changed byte, another version or a short value, in place too', () => {
    for (const open of [openValue, openValueInPlace]) {
      const changed = sealValue(payload)
      changed[changed.length - 1]! ^= 1
      expect(() => open(changed)).toThrow(CorruptRecordError)
      const version = sealValue(payload)
      version[0] = 9
      expect(() => open(version)).toThrow(/unknown value format version 9/)
      expect(() => open(new Uint8Array(3))).toThrow(/shorter than its header/)
    }
  })
})

describe('decodeRecord', () => {
  const record: StoredRecord = { generation: 3, kind: 'update', data: Uint8Array.of(1, 2, 3, 4) }

  it('copies the data unless the caller owns the bytes, and gives a plain Uint8Array either way', () => {
    const stored = Buffer.from(encodeRecord(record))
    const copied = decodeRecord(stored)
    const owned = decodeRecord(stored, { owned: true })
    for (const r of [copied, owned]) {
      expect(r).toMatchObject({ generation: 3, kind: 'update' })
      expect([...r.data]).toEqual([1, 2, 3, 4])
      expect(Object.getPrototypeOf(r.data)).toBe(Uint8Array.prototype)
    }
    expect(copied.data.buffer).not.toBe(stored.buffer)
    expect(owned.data.buffer).toBe(stored.buffer)
    // An owned record's checksum is known without reading its data again, as a copied one's.
    expect(recordChecksum(owned)).toBe(recordChecksum(copied))
  })
})

describe('encodeRecord into a given array', () => {
  // The node encodes records into Buffer.allocUnsafe's pool: uninitialized bytes, a view at
  // an offset of a larger buffer. Every byte must be written, the header at the view's start.
  it('writes every byte of an uninitialized view at an offset, the same bytes as a fresh array, and decodes', () => {
    const records: StoredRecord[] = [
      { generation: 0, kind: 'update', data: Uint8Array.of(1, 2, 3) },
      { generation: 2 ** 40 + 5, kind: 'snapshot', data: new Uint8Array(300).map((_, i) => i) },
      { generation: 3, kind: 'update', data: new Uint8Array(0) },
      { generation: 3, kind: 'update', data: Uint8Array.of(9) },
    ]
    for (const r of records) {
      const slab = new Uint8Array(1024).fill(0xaa)
      const into = encodeRecord(r, (size) => slab.subarray(17, 17 + size))
      expect(into.byteOffset).toBe(17)
      expect([...into]).toEqual([...encodeRecord(r)])
      expect(slab[16]).toBe(0xaa)
      expect(slab[17 + into.length]).toBe(0xaa)
      const back = decodeRecord(into)
      expect({ ...back, data: [...back.data] }).toEqual({ ...r, data: [...r.data] })
    }
  })
})
