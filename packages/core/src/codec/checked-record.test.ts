import { describe, expect, it } from 'vitest'
import type { StoredRecord } from '../api.js'
import { decodeRecord, encodeRecord, recordChecksum } from './checked-record.js'

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
