/**
 * Runs COPY FROM STDIN and COPY TO STDOUT for a session. COPY FROM inserts the rows as
 * INSERT would (defaults, constraints, foreign keys, SERIAL ids, conflict policies: the
 * same executor), in batches of BATCH_ROWS rows however the data is cut into messages,
 * all in one transaction: the session's block, or one of its own that commits at
 * CopyDone, so a COPY is all or nothing. Values are converted from their text form as a
 * quoted literal assigned to the column is. COPY TO runs the query (or `SELECT cols FROM
 * table`) and formats its rows.
 *
 * Invariants: the input is never held whole (see CopyReader; at most BATCH_ROWS rows wait
 * for their INSERT); a COPY that fails leaves no row behind (its own transaction rolled
 * back) or aborts the caller's block; COPY to or from a server file or program, WHERE,
 * and FORMAT binary fail with 0A000.
 */
import type { CopyStmt, Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { parseScript } from '../parser/parse.js'
import type { Statement } from '../parser/statement.js'
import { formatPgText, type QueryResult } from '../result-format.js'
import { copyOptions, type CopyOptions } from './copy-options.js'
import { CopyReader, type CopyRow } from './copy-reader.js'
import type { CopyIn } from '../copy-transfer.js'
import { copyHeader, copyLine } from './copy-writer.js'

/** Rows per INSERT the COPY runs: large enough to amortise a statement, small enough to stay responsive. */
export const BATCH_ROWS = 1000

/** What COPY needs from its session. */
export interface CopyHost {
  /** Runs one statement in the session (in its block if one is open). */
  run(stmt: Statement): Promise<QueryResult>
  /** Whether a transaction block is open / aborted. */
  readonly inBlock: boolean
  readonly blockFailed: boolean
  /** Opens the COPY's own transaction (outside a block). */
  begin(): void
  /** Commits it; resolves once durable. */
  commit(): Promise<void>
  /** Rolls back the COPY's own transaction, or aborts the caller's block. */
  abandon(own: boolean): void
}

export async function runCopy(c: CopyStmt, host: CopyHost): Promise<QueryResult> {
  const from = !!c.is_from
  if (c.is_program || c.filename !== undefined) {
    throw new SqlError(
      SqlState.featureNotSupported,
      `COPY ${from ? 'FROM' : 'TO'} a server file or program is not supported; use COPY .. ${from ? 'FROM STDIN' : 'TO STDOUT'} (psql: \\copy)`,
    )
  }
  if (c.whereClause) throw new SqlError(SqlState.featureNotSupported, 'COPY FROM .. WHERE is not supported')
  const options = copyOptions(c.options)
  const columns = (c.attlist ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
  return from ? copyIn(c, columns, options, host) : copyOut(c, columns, options, host)
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

function selectOf(c: CopyStmt, columns: string[], suffix: string): Statement {
  const rel = c.relation!
  const table = [rel.schemaname, rel.relname ?? ''].filter((x): x is string => !!x).map(quoteIdent).join('.')
  const list = columns.length > 0 ? columns.map(quoteIdent).join(', ') : '*'
  return parseScript(`SELECT ${list} FROM ${table}${suffix}`)[0]!
}

async function copyOut(c: CopyStmt, columns: string[], o: CopyOptions, host: CopyHost): Promise<QueryResult> {
  let stmt: Statement
  if (c.query) {
    if (!('SelectStmt' in c.query)) throw new SqlError(SqlState.featureNotSupported, 'COPY (statement) TO supports SELECT only')
    if (columns.length > 0) throw new SqlError(SqlState.syntaxError, 'a column list is not allowed with COPY (query) TO')
    stmt = { kind: 'pg', node: c.query, text: 'COPY' }
  } else stmt = selectOf(c, columns, '')
  const r = await host.run(stmt)
  const lines = r.rowArrays.map((row) => copyLine(row.map((v, i) => formatPgText(v, r.fields[i]!)), o))
  if (o.header) lines.unshift(copyHeader(r.fields.map((f) => f.name), o))
  const n = r.rowArrays.length
  return {
    command: 'COPY', commandTag: `COPY ${n}`, rowCount: n, fields: [], rows: [], rowArrays: [], notices: r.notices, returnsRows: false,
    copy: { direction: 'out', columns: r.fields.length, format: o.format, lines },
  }
}

async function copyIn(c: CopyStmt, columns: string[], o: CopyOptions, host: CopyHost): Promise<QueryResult> {
  if (!c.relation) throw new SqlError(SqlState.syntaxError, 'COPY FROM needs a table')
  if (host.blockFailed) throw new SqlError(SqlState.inFailedSqlTransaction, 'current transaction is aborted, commands ignored until end of transaction block')
  // Fails now, before any data, for a missing table or column (42P01, 42703), as PostgreSQL does.
  const shape = await host.run(selectOf(c, columns, ' LIMIT 0'))
  const width = shape.fields.length
  const own = !host.inBlock
  if (own) host.begin()
  const reader = new CopyReader(o)
  let count = 0
  let over = false
  // Rows wait here until BATCH_ROWS of them arrived, however the client cut the data into
  // messages: libpq (pgbench -i, psql's \copy) sends each line as its own CopyData, and an
  // INSERT per message cost a whole statement per row.
  const batch: CopyRow[] = []
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const rows = batch.splice(0)
    await host.run(insertOf(c, columns, rows))
    count += rows.length
  }
  /** Holds `rows` from `from` on for the INSERT; a promise only when a batch filled and is inserted. */
  const take = (rows: CopyRow[], from = 0): void | Promise<void> => {
    for (let k = from; k < rows.length; k++) {
      const row = rows[k]!
      if (row.length !== width) {
        // At once, before the rows held for the INSERT are checked against the table's
        // constraints, as PostgreSQL's COPY reports it before its buffered rows' duplicate keys.
        const line = reader.line - (rows.length - k)
        throw new SqlError(
          SqlState.badCopyFileFormat,
          row.length < width ? `missing data for column "${shape.fields[row.length]!.name}", COPY line ${line}` : `extra data after last expected column, COPY line ${line}`,
        )
      }
      batch.push(row)
      if (batch.length === BATCH_ROWS) return flush().then(() => take(rows, k + 1))
    }
  }
  const failed = (e: unknown): never => {
    if (!over) {
      over = true
      host.abandon(own)
    }
    throw e
  }
  const sink: CopyIn = {
    direction: 'in',
    columns: width,
    format: o.format,
    write: (chunk) => {
      if (over) return
      let taken: void | Promise<void>
      try {
        taken = take(reader.push(chunk))
      } catch (e) {
        return failed(e)
      }
      return taken instanceof Promise ? taken.catch(failed) : undefined
    },
    end: async () => {
      if (over) throw new SqlError(SqlState.inFailedSqlTransaction, 'the COPY already failed')
      try {
        await take(reader.finish())
        await flush()
        over = true
        if (own) await host.commit()
      } catch (e) {
        failed(e)
      }
      return { commandTag: `COPY ${count}`, rowCount: count }
    },
    fail: async (reason) => failed(new SqlError(SqlState.queryCanceled, `COPY from stdin failed: ${reason}`)),
  }
  return { command: 'COPY', commandTag: 'COPY 0', rowCount: 0, fields: [], rows: [], rowArrays: [], notices: [], returnsRows: false, copy: sink }
}

/** `INSERT INTO rel (cols) VALUES (..), ..` with each value an untyped literal (or NULL), as a parse tree. */
function insertOf(c: CopyStmt, columns: string[], rows: CopyRow[]): Statement {
  const literal = (v: string | null): Node => (v === null ? { A_Const: { isnull: true } } : { A_Const: { sval: { sval: v } } }) as Node
  const node = {
    InsertStmt: {
      relation: c.relation,
      ...(columns.length > 0 ? { cols: columns.map((name) => ({ ResTarget: { name } })) } : {}),
      selectStmt: { SelectStmt: { valuesLists: rows.map((r) => ({ List: { items: r.map(literal) } })), limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } },
      // COPY FROM writes given values into GENERATED ALWAYS identity columns too, as PostgreSQL's COPY does.
      override: 'OVERRIDING_SYSTEM_VALUE',
    },
  } as unknown as Node
  return { kind: 'pg', node, text: 'COPY' }
}
