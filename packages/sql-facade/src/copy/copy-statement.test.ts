import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CopyStmt } from 'libpg-query'
import { openDatabase, type Database } from '../database.js'
import { parseScript } from '../parser/parse.js'
import type { Statement } from '../parser/statement.js'
import type { QueryResult } from '../result-format.js'
import { BATCH_ROWS, runCopy, type CopyHost } from './copy-statement.js'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

/** A host that answers the shape query with `width` columns and records the rows of each INSERT it is given. */
function recordingHost(width: number): { host: CopyHost; inserts: number[] } {
  const inserts: number[] = []
  const result = (fields: number): QueryResult => ({
    command: 'SELECT', commandTag: '', rowCount: 0, rows: [], rowArrays: [], notices: [], returnsRows: true,
    fields: Array.from({ length: fields }, (_, i) => ({ name: `c${i}` })) as QueryResult['fields'],
  })
  const host: CopyHost = {
    async run(stmt: Statement) {
      if (stmt.kind !== 'pg') throw new Error('a pg statement expected')
      const insert = (stmt.node as { InsertStmt?: { selectStmt: { SelectStmt: { valuesLists: unknown[] } } } }).InsertStmt
      if (!insert) return result(width)
      inserts.push(insert.selectStmt.SelectStmt.valuesLists.length)
      return result(0)
    },
    inBlock: false,
    blockFailed: false,
    begin() {},
    async commit() {},
    abandon() {},
  }
  return { host, inserts }
}

function copyStmt(sql: string): CopyStmt {
  const stmt = parseScript(sql)[0]!
  if (stmt.kind !== 'pg' || !('CopyStmt' in stmt.node)) throw new Error('not a COPY')
  return stmt.node.CopyStmt as CopyStmt
}

describe('COPY FROM batches rows however the client cuts the data', () => {
  it('takes BATCH_ROWS rows per INSERT when each line comes in its own message, as libpq sends them', async () => {
    const { host, inserts } = recordingHost(2)
    const r = await runCopy(copyStmt('COPY t FROM STDIN'), host)
    const sink = r.copy
    if (!sink || sink.direction !== 'in') throw new Error('no COPY sink')
    const n = 2 * BATCH_ROWS + 500
    for (let i = 1; i <= n; i++) await sink.write(bytes(`${i}\tv${i}\n`))
    expect(await sink.end()).toEqual({ commandTag: `COPY ${n}`, rowCount: n })
    expect(inserts).toEqual([BATCH_ROWS, BATCH_ROWS, 500])
  })

  it('takes a line split across messages once, and a last line without a newline', async () => {
    const { host, inserts } = recordingHost(2)
    const sink = (await runCopy(copyStmt('COPY t FROM STDIN'), host)).copy
    if (!sink || sink.direction !== 'in') throw new Error('no COPY sink')
    for (const part of ['1\ta', 'b\n2\t', 'cd\n3\tef']) await sink.write(bytes(part))
    expect(await sink.end()).toEqual({ commandTag: 'COPY 3', rowCount: 3 })
    expect(inserts).toEqual([3])
  })
})

describe('COPY FROM errors, with rows held across messages', () => {
  let db: Database
  beforeEach(async () => {
    db = await openDatabase({ nodeId: 'cp' })
    await db.query('CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)')
  })
  afterEach(async () => {
    await db.close()
  })

  async function copyLines(lines: string[]): Promise<unknown> {
    const sink = (await db.query('COPY t FROM STDIN')).copy
    if (!sink || sink.direction !== 'in') throw new Error('no COPY sink')
    try {
      for (const l of lines) await sink.write(bytes(l))
      await sink.end()
      return null
    } catch (e) {
      return e
    }
  }

  it('names the line of a row with too few or too many fields, and writes nothing', async () => {
    expect(await copyLines(['1\ta\n', '2\tb\n', '3\n'])).toMatchObject({ code: '22P04', message: 'missing data for column "v", COPY line 3' })
    expect(await copyLines(['1\ta\n', '2\tb\tx\n', '3\tc\n'])).toMatchObject({ code: '22P04', message: 'extra data after last expected column, COPY line 2' })
    expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }])
  })

  it('reports a malformed line before the duplicate keys of the rows held before it, as PostgreSQL 15 does', async () => {
    // PostgreSQL 15 answers `missing data for column "v"` (CONTEXT: COPY t, line 3): its COPY
    // checks unique keys when it flushes its buffered rows.
    expect(await copyLines(['1\ta\n', '1\tb\n', '3\n'])).toMatchObject({ code: '22P04', message: 'missing data for column "v", COPY line 3' })
    expect(await copyLines(['1\ta\n', '1\tb\n'])).toMatchObject({ code: '23505' })
    expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }])
  })

  it('writes every row of a COPY sent a line per message', async () => {
    const n = BATCH_ROWS + 7
    expect(await copyLines(Array.from({ length: n }, (_, i) => `${i + 1}\tv\n`))).toBeNull()
    expect((await db.query('SELECT count(*)::int AS n, max(id) AS m FROM t')).rows).toEqual([{ n, m: n }])
  })
})
