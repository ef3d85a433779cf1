/**
 * A stand-in SQL layer for wire-protocol tests: a few canned statements, one in-memory
 * table `items(id int, name text)`, errors with SQLSTATEs, BEGIN/COMMIT/ROLLBACK, and a
 * log of every catalog query it is asked (to see what psql sends for `\dt` and `\d`).
 */
import { SqlError, SqlState } from '@concord/sql-facade'
import type { PreparedQuery, QueryField, QueryResult, SessionTransactionState, SqlSession } from './sql-session.js'

export interface FakeDatabase {
  items: Array<[number, string]>
  catalogQueries: string[]
}

export function fakeDatabase(): FakeDatabase {
  return { items: [], catalogQueries: [] }
}

const done = (commandTag: string): QueryResult => ({ commandTag, fields: null, rows: [] })
const rowsOf = (fields: QueryField[], rows: QueryResult['rows']): QueryResult => ({ commandTag: `SELECT ${rows.length}`, fields, rows })

interface FakePrepared extends PreparedQuery {
  sql: string
}

export function fakeSession(db: FakeDatabase): SqlSession {
  let state: SessionTransactionState = 'idle'
  const statements = (sql: string): string[] => sql.split(';').map((x) => x.trim()).filter((x) => x !== '')

  function run(s: string, params: unknown[]): QueryResult {
    const lower = s.toLowerCase()
    if (lower.includes('pg_catalog') || lower.includes('pg_class')) {
      db.catalogQueries.push(s)
      throw new SqlError(SqlState.featureNotSupported, 'catalog queries are not implemented by the fake')
    }
    if (/^(begin|start transaction)$/i.test(s)) {
      state = 'transaction'
      return done('BEGIN')
    }
    if (/^(commit|rollback)$/i.test(s)) {
      state = 'idle'
      return done(s.toUpperCase())
    }
    if (lower === 'select 1') return rowsOf([{ name: '?column?', type: 'integer' }], [[1]])
    if (/^select \$1::int \+ \$2::int as sum$/i.test(s)) return rowsOf([{ name: 'sum', type: 'int4' }], [{ sum: Number(params[0]) + Number(params[1]) }])
    if (/^select \$1::text as t$/i.test(s)) return rowsOf([{ name: 't', type: 'text' }], [[params[0]]])
    if (lower === 'select types') {
      return rowsOf(
        [
          { name: 'b', type: 'boolean' },
          { name: 'i8', type: 'bigint' },
          { name: 'f', type: 'double precision' },
          { name: 'n', type: 'numeric(10,2)' },
          { name: 'ts', type: 'timestamp with time zone' },
          { name: 'j', type: 'jsonb' },
          { name: 'arr', type: 'integer[]' },
          { name: 'nul', type: 'text' },
          { name: 'by', type: 'bytea' },
        ],
        [[true, 9007199254740993n, 1.5, '12.30', new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), { a: 1 }, [1, 2], null, Uint8Array.of(0xde, 0xad)]],
      )
    }
    if (/^insert into items values \(\$1, \$2\)$/i.test(s)) {
      db.items.push([Number(params[0]), String(params[1])])
      return done('INSERT 0 1')
    }
    const literal = /^insert into items values \((\d+), '([^']*)'\)$/i.exec(s)
    if (literal) {
      db.items.push([Number(literal[1]), literal[2]!])
      return done('INSERT 0 1')
    }
    if (lower === 'select id, name from items order by id') {
      return rowsOf([{ name: 'id', type: 'integer' }, { name: 'name', type: 'text' }], [...db.items].sort((a, b) => a[0] - b[0]))
    }
    if (lower === 'create table items (id int, name text)') return done('CREATE TABLE')
    if (lower === 'delete from items') {
      const n = db.items.length
      db.items.length = 0
      return done(`DELETE ${n}`)
    }
    if (lower.startsWith('select * from missing')) throw new SqlError(SqlState.undefinedTable, 'relation "missing" does not exist')
    if (lower === 'select 1/0') throw new SqlError(SqlState.divisionByZero, 'division by zero')
    throw new SqlError(SqlState.syntaxError, `syntax error at or near "${s.split(/\s+/)[0]}"`)
  }

  function guarded(s: string, params: unknown[]): QueryResult {
    try {
      return run(s, params)
    } catch (e) {
      if (state === 'transaction') state = 'failed'
      throw e
    }
  }

  return {
    async query(sql) {
      return statements(sql).map((s) => guarded(s, []))
    },
    async prepare(sql, paramTypes) {
      const all = statements(sql)
      if (all.length > 1) throw new SqlError(SqlState.syntaxError, 'cannot insert multiple commands into a prepared statement')
      const count = Math.max(paramTypes.length, ...[...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))
      const prepared: FakePrepared = { sql: all[0] ?? '', paramTypes: Array.from({ length: count }, (_, i) => paramTypes[i] || 25) }
      return prepared
    },
    async describe(q) {
      const { sql } = q as FakePrepared
      if (!/^select/i.test(sql)) return null
      return guarded(sql, new Array(q.paramTypes.length).fill(null)).fields
    },
    async execute(q, params) {
      const { sql } = q as FakePrepared
      return sql === '' ? null : guarded(sql, params)
    },
    transactionState: () => state,
  }
}
