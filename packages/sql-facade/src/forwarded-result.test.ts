/**
 * A forwarded write's result on the forwarding node: the holder's returned rows (text)
 * become the client's result as a local statement's would be, in the local JS forms.
 */
import { describe, expect, it } from 'vitest'
import { forwardedQueryResult } from './forwarded-result.js'
import { decodeForwardReply } from './placement/forwarded-reply.js'

const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))
const column = (name: string, typeId: string, oid: number) => ({ name, type: typeId, oid, typmod: -1, size: -1, typeId, isArray: false })
const ok = (result: Record<string, unknown>) => ({ ok: { command: 'INSERT', rowCount: 1, ...result } })

describe('a forwarded write’s result', () => {
  it('gives the returned rows in the local forms: numbers, booleans, bytes, int8 as text or bigint', () => {
    const columns = [column('id', 'int4', 23), column('big', 'int8', 20), column('ok', 'bool', 16), column('f', 'float8', 701), column('b', 'bytea', 17), column('t', 'timestamptz', 1184)]
    const reply = decodeForwardReply(bytes(ok({ columns, rows: [['7', '9007199254740993', 't', '1.5', '\\x00ff', '2026-12-01 12:00:00+00']] })), 'e1')
    if (!('ok' in reply)) throw new Error('not ok')
    const r = forwardedQueryResult(reply.ok, 'string', 'e1')
    expect([r.commandTag, r.returnsRows, r.fields.map((f) => f.oid)]).toEqual(['INSERT 0 1', true, [23, 20, 16, 701, 17, 1184]])
    expect(r.rowArrays).toEqual([[7, '9007199254740993', true, 1.5, new Uint8Array([0, 255]), '2026-12-01 12:00:00+00']])
    expect(forwardedQueryResult(reply.ok, 'bigint', 'e1').rows[0]!['big']).toBe(9007199254740993n)
    // Without RETURNING: no rows, no RowDescription.
    const plain = decodeForwardReply(bytes({ ok: { command: 'UPDATE', rowCount: 3 } }), 'e1')
    expect('ok' in plain && forwardedQueryResult(plain.ok, 'string', 'e1')).toMatchObject({ commandTag: 'UPDATE 3', returnsRows: false, fields: [] })
  })
})
