import { describe, expect, it } from 'vitest'
import { decodeFrontendMessage, ProtocolError } from './frontend-message.js'

/** A frontend message: the type byte, the length counting itself, then `body`. */
function message(type: string, ...body: Array<Uint8Array | number[]>): Uint8Array {
  const parts = body.map((b) => Uint8Array.from(b))
  const length = 4 + parts.reduce((n, p) => n + p.length, 0)
  const out = new Uint8Array(1 + length)
  out[0] = type.charCodeAt(0)
  new DataView(out.buffer).setInt32(1, length)
  let at = 5
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const cstr = (s: string): Uint8Array => Uint8Array.from([...Buffer.from(s, 'utf8'), 0])
const i16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff]
const i32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

describe('decodeFrontendMessage', () => {
  it('reads a Parse, a Bind with a NULL and a value, a Describe, an Execute and a Sync', () => {
    expect(decodeFrontendMessage(message('P', cstr('s1'), cstr('SELECT $1, $2'), i16(2), i32(23), i32(-1)))).toEqual({
      type: 'parse',
      name: 's1',
      sql: 'SELECT $1, $2',
      paramTypes: [23, -1],
    })
    const bind = decodeFrontendMessage(message('B', cstr(''), cstr('s1'), i16(1), i16(1), i16(2), i32(-1), i32(3), [7, 8, 9], i16(1), i16(0)))
    expect(bind).toEqual({ type: 'bind', portal: '', statement: 's1', paramFormats: [1], params: [null, Uint8Array.from([7, 8, 9])], resultFormats: [0] })
    expect(decodeFrontendMessage(message('D', [0x50], cstr('')))).toEqual({ type: 'describe', kind: 'P', name: '' })
    expect(decodeFrontendMessage(message('E', cstr(''), i32(0)))).toEqual({ type: 'execute', portal: '', maxRows: 0 })
    expect(decodeFrontendMessage(message('S'))).toEqual({ type: 'sync' })
  })

  it('reads 16- and 32-bit fields as signed, as the protocol defines them', () => {
    // A format code of -1 is no format the protocol has, but it must read as -1 (not 65535)
    // for the session to refuse it; a maxRows of 2^31 - 1 stays positive.
    const bind = decodeFrontendMessage(message('B', cstr(''), cstr(''), i16(1), i16(-1), i16(0), i16(0)))
    expect(bind).toMatchObject({ paramFormats: [-1] })
    expect(decodeFrontendMessage(message('E', cstr('p'), i32(0x7fffffff)))).toEqual({ type: 'execute', portal: 'p', maxRows: 0x7fffffff })
  })

  it('refuses counts and lengths the message cannot hold, then reads the next message whole', () => {
    const refused = [
      message('B', cstr(''), cstr(''), i16(-1)),
      message('B', cstr(''), cstr(''), i16(0), i16(1), i32(-2)),
      message('B', cstr(''), cstr(''), i16(0), i16(1), i32(10), [1, 2]),
      message('P', cstr('s'), cstr('SELECT 1'), i16(3), i32(23)),
      message('Q', [0x73, 0x65]),
      message('D', [0x58], cstr('')),
    ]
    for (const m of refused) expect(() => decodeFrontendMessage(m)).toThrow(ProtocolError)
    // A frame whose length field does not match its bytes.
    const wrong = message('S')
    wrong[4] = 9
    expect(() => decodeFrontendMessage(wrong)).toThrow(/does not match its frame/)
    expect(() => decodeFrontendMessage(Uint8Array.from([0x53, 0, 0]))).toThrow(/shorter than its header/)
    // Nothing of a refused message carries over to the next one.
    expect(decodeFrontendMessage(message('Q', cstr('SELECT 1')))).toEqual({ type: 'query', sql: 'SELECT 1' })
  })

  it('reads a message that is a view into a larger buffer', () => {
    const m = message('E', cstr('portal'), i32(5))
    const big = new Uint8Array(m.length + 20)
    big.set(m, 7)
    expect(decodeFrontendMessage(big.subarray(7, 7 + m.length))).toEqual({ type: 'execute', portal: 'portal', maxRows: 5 })
  })
})
