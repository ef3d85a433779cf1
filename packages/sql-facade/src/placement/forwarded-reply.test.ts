/**
 * The reply to a forwarded write, read on the forwarding node: a reply breaking the
 * grammar or its bounds is 08007 (the write may have run there), never a crash; the
 * holder's error comes back with its SQLSTATE.
 */
import { describe, expect, it } from 'vitest'
import { SqlState } from '../errors/sql-error.js'
import { forwardedQueryResult } from '../forwarded-result.js'
import { decodeForwardReply, replyMaxBytes } from './forwarded-reply.js'

const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v))
const column = (name: string, typeId: string, oid: number) => ({ name, type: typeId, oid, typmod: -1, size: -1, typeId, isArray: false })
/** A reply as a holder (or a broken one) might send it: anything goes in. */
const ok = (result: Record<string, unknown>) => ({ ok: { command: 'INSERT', rowCount: 1, ...result } })

function code(work: () => unknown): string | null {
  try {
    work()
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}

describe('a forwarded write’s reply', () => {
  it('is 08007 when it breaks the grammar or its bounds, the holder’s error with its SQLSTATE otherwise', () => {
    const columns = [column('id', 'int4', 23)]
    const bad: unknown[] = [
      'not json',
      [1, 2],
      { ok: { command: 'INSERT' } },
      { ok: { command: 'drop table', rowCount: 1 } },
      { ok: { command: 'INSERT', rowCount: -1 } },
      ok({ columns: [{ name: 'id' }], rows: [['1']] }),
      ok({ columns, rows: [['1', '2']] }),
      ok({ columns, rows: [[1]] }),
      ok({ columns, rows: [['1'], ['2']] }),
      ok({ columns: null, rows: [['1']] }),
      ok({ columns: Array.from({ length: 2000 }, () => column('c', 'int4', 23)), rows: [] }),
      { error: { code: 'XX000' } },
    ]
    for (const b of bad) expect(code(() => decodeForwardReply(bytes(b), 'e1'))).toBe(SqlState.transactionResolutionUnknown)
    expect(code(() => decodeForwardReply(new Uint8Array([0xff, 0xfe]), 'e1'))).toBe(SqlState.transactionResolutionUnknown)
    expect(code(() => decodeForwardReply(new Uint8Array(replyMaxBytes(10) + 1), 'e1', 10))).toBe(SqlState.transactionResolutionUnknown)
    // A value that is not text of its column's type.
    for (const [typeId, oid, text] of [['int4', 23, 'seven'], ['bool', 16, 'yes'], ['bytea', 17, 'zz'], ['float8', 701, '1..2']] as const) {
      const reply = decodeForwardReply(bytes(ok({ columns: [column('v', typeId, oid)], rows: [[text]] })), 'e1')
      expect(code(() => 'ok' in reply && forwardedQueryResult(reply.ok, 'string', 'e1'))).toBe(SqlState.transactionResolutionUnknown)
    }
    expect(decodeForwardReply(bytes({ error: { code: '23505', message: 'duplicate' } }), 'e1')).toEqual({ error: { code: '23505', message: 'duplicate' } })
    expect(decodeForwardReply(bytes({ error: { code: 'nope', message: 'm' } }), 'e1')).toEqual({ error: { code: SqlState.internalError, message: 'm' } })
  })
})
