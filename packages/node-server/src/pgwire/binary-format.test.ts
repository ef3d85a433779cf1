import { describe, expect, it } from 'vitest'
import { decodeBinaryParam, encodeBinary } from './binary-format.js'

// Expected bytes are PostgreSQL 15's own: `SELECT array_send(<text>::<type>)` (numeric_send
// for the scalars), printed by psql.
const GOLDEN: Array<{ text: string; oid: number; hex: string }> = [
  { text: '{1,2,NULL}', oid: 1007, hex: '000000010000000100000017000000030000000100000004000000010000000400000002ffffffff' },
  { text: '[0:1]={1,2}', oid: 1007, hex: '000000010000000000000017000000020000000000000004000000010000000400000002' },
  { text: '{}', oid: 1007, hex: '000000000000000000000017' },
  { text: '{{1,2},{3,4}}', oid: 1016, hex: '00000002000000000000001400000002000000010000000200000001000000080000000000000001000000080000000000000002000000080000000000000003000000080000000000000004' },
  { text: '{x,NULL,é}', oid: 1009, hex: '00000001000000010000001900000003000000010000000178ffffffff00000002c3a9' },
  { text: '{t,f}', oid: 1000, hex: '000000010000000000000010000000020000000100000001010000000100' },
  { text: '{1.5,NULL,-20000.0001,0,0.00012}', oid: 1231, hex: '0000000100000001000006a400000005000000010000000c000200000000000100011388ffffffff0000000e00030001400000040002000000010000000800000000000000000000000c0002ffff00000005000107d0' },
  { text: '123456789.123', oid: 1700, hex: '0004000200000003000109291a8504ce' },
  { text: '-0.5', oid: 1700, hex: '0001ffff400000011388' },
  { text: '{2024-02-29,"1999-12-31 BC"}', oid: 1182, hex: '00000001000000000000043a0000000200000001000000040000227900000004ffe9b95d' },
  { text: '{"2024-02-29 13:45:30.5",infinity}', oid: 1115, hex: '00000001000000000000045a0000000200000001000000080002b5843dcbd3a0000000087fffffffffffffff' },
  { text: '{"1 year 2 mons 3 days 04:05:06.7","-1 days +02:00:00"}', oid: 1187, hex: '0000000100000000000004a2000000020000000100000010000000036c966ee0000000030000000e0000001000000001ad274800ffffffff00000000' },
  { text: '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', oid: 2951, hex: '000000010000000000000b86000000010000000100000010a0eebc999c0b4ef8bb6d6bb9bd380a11' },
  { text: '{1.5,-2.25}', oid: 1022, hex: '0000000100000000000002bd0000000200000001000000083ff800000000000000000008c002000000000000' },
  { text: '{"{\\"a\\": 1}"}', oid: 3807, hex: '000000010000000000000eda000000010000000100000009017b2261223a20317d' },
  { text: '{"\\\\x0102"}', oid: 1001, hex: '0000000100000000000000110000000100000001000000020102' },
  { text: '{12:34:56.789}', oid: 1183, hex: '00000001000000000000043b0000000100000001000000080000000a8be62608' },
  { text: '{"2024-01-02 03:04:05+00"}', oid: 1185, hex: '0000000100000000000004a00000000100000001000000080002b0ec8515f340' },
]

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

function bytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'))
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    return (e as { code?: string }).code
  }
  return undefined
}

describe('binary format', () => {
  it('encodes text output into the bytes PostgreSQL sends', () => {
    for (const g of GOLDEN) expect([g.text, hex(encodeBinary(g.text, g.oid))]).toEqual([g.text, g.hex])
  })

  it('decodes the bytes PostgreSQL sends into values that read back as the same text', () => {
    for (const g of GOLDEN) {
      const text = decodeBinaryParam(bytes(g.hex), g.oid)
      expect(typeof text).toBe('string')
      // Re-encoding the decoded text gives the original bytes: nothing was lost on the way.
      expect([g.text, hex(encodeBinary(text as string, g.oid))]).toEqual([g.text, g.hex])
    }
  })

  it('decodes an array parameter into an array literal with its bounds and NULLs', () => {
    expect(decodeBinaryParam(bytes(GOLDEN[0]!.hex), 1007)).toBe('{1,2,NULL}')
    expect(decodeBinaryParam(bytes(GOLDEN[1]!.hex), 1007)).toBe('[0:1]={1,2}')
    expect(decodeBinaryParam(bytes(GOLDEN[4]!.hex), 1009)).toBe('{x,NULL,é}')
  })

  it('rejects malformed binary arrays with PostgreSQL errors instead of trusting their counts', () => {
    const int4s = bytes(GOLDEN[0]!.hex)
    expect(codeOf(() => decodeBinaryParam(int4s.subarray(0, int4s.length - 2), 1007))).toBe('22P03')
    expect(codeOf(() => decodeBinaryParam(bytes(GOLDEN[0]!.hex + '00'), 1007))).toBe('22P03')
    // An int4[] parameter that says its elements are int8.
    expect(codeOf(() => decodeBinaryParam(bytes(GOLDEN[3]!.hex), 1007))).toBe('42804')
    // Seven dimensions, and a dimension claiming a billion elements with no bytes behind it.
    expect(codeOf(() => decodeBinaryParam(bytes('00000007' + '00000000' + '00000017'), 1007))).toBe('54000')
    expect(codeOf(() => decodeBinaryParam(bytes('00000001' + '00000000' + '00000017' + '3b9aca00' + '00000001'), 1007))).toBe('54000')
    expect(codeOf(() => decodeBinaryParam(bytes('00000001' + '00000000' + '00000017' + '00100000' + '00000001'), 1007))).toBe('22P03')
    // A NULL element in an array whose header says it has none.
    expect(codeOf(() => decodeBinaryParam(bytes('00000001' + '00000000' + '00000017' + '00000001' + '00000001' + 'ffffffff'), 1007))).toBe('22P03')
    expect(codeOf(() => decodeBinaryParam(bytes('00000001' + '00000002' + '00000017'), 1007))).toBe('22P03')
  })

  it('keeps bytea and types without a binary form as raw bytes', () => {
    const raw = bytes('0102ff')
    expect(decodeBinaryParam(raw, 17)).toBe(raw)
    expect(decodeBinaryParam(raw, 0)).toBe(raw)
  })
})
