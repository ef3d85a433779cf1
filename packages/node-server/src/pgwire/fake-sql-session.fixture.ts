/**
 * A stand-in SQL layer for wire-protocol tests: a few canned statements, one in-memory
 * table `items(id int, name text)`, errors with SQLSTATEs, BEGIN/COMMIT/ROLLBACK, and a
 * log of every catalog query it is asked (to see what psql sends for `\dt` and `\d`).
 */
import type { QueryResult, SqlSession } from './sql-session.js'

export interface FakeDatabase {
  items: Array<[number, string]>
  catalogQueries: string[]
}

export function fakeDatabase(): FakeDatabase {
  return { items: [], catalogQueries: [] }
}

function err(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

const ok = (command: string, rowCount: number | null = null): QueryResult => ({ command, rowCount, fields: [], rows: [] })

export function fakeSession(db: FakeDatabase): SqlSession {
  return {
    async query(sql: string, params: unknown[] = []): Promise<QueryResult | QueryResult[]> {
      const s = sql.trim().replace(/;\s*$/, '')
      const lower = s.toLowerCase()
      if (lower.includes('pg_catalog') || lower.includes('pg_class')) {
        db.catalogQueries.push(s)
        throw err('0A000', 'catalog queries are not implemented by the fake')
      }
      if (s.includes(';')) return Promise.all(s.split(';').filter((x) => x.trim()).map((x) => this.query(x, params) as Promise<QueryResult>))
      if (/^(begin|start transaction)$/i.test(s)) return ok('BEGIN')
      if (/^commit$/i.test(s)) return ok('COMMIT')
      if (/^rollback$/i.test(s)) return ok('ROLLBACK')
      if (lower === 'select 1') return { command: 'SELECT', rowCount: 1, fields: [{ name: '?column?', type: 'integer' }], rows: [[1]] }
      let m = /^select \$1::int \+ \$2::int as sum$/i.exec(s)
      if (m) return { command: 'SELECT', rowCount: 1, fields: [{ name: 'sum', type: 'int4' }], rows: [{ sum: Number(params[0]) + Number(params[1]) }] }
      m = /^select \$1::text as t$/i.exec(s)
      if (m) return { command: 'SELECT', rowCount: 1, fields: [{ name: 't', type: 'text' }], rows: [[params[0]]] }
      if (lower === 'select types') {
        return {
          command: 'SELECT',
          rowCount: 1,
          fields: [
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
          rows: [[true, 9007199254740993n, 1.5, '12.30', new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), { a: 1 }, [1, 2], null, Uint8Array.of(0xde, 0xad)]],
        }
      }
      m = /^insert into items values \(\$1, \$2\)$/i.exec(s)
      if (m) {
        db.items.push([Number(params[0]), String(params[1])])
        return ok('INSERT', 1)
      }
      m = /^insert into items values \((\d+), '([^']*)'\)$/i.exec(s)
      if (m) {
        db.items.push([Number(m[1]), m[2]!])
        return ok('INSERT', 1)
      }
      if (lower === 'select id, name from items order by id') {
        const rows = [...db.items].sort((a, b) => a[0] - b[0])
        return { command: 'SELECT', rowCount: rows.length, fields: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'text' }], rows }
      }
      if (lower === 'create table items (id int, name text)') return ok('CREATE TABLE')
      if (lower === 'delete from items') {
        const n = db.items.length
        db.items.length = 0
        return ok('DELETE', n)
      }
      if (lower.startsWith('select * from missing')) throw err('42P01', 'relation "missing" does not exist')
      if (lower === 'select 1/0') throw err('22012', 'division by zero')
      throw err('42601', `syntax error at or near "${s.split(/\s+/)[0]}"`)
    },
  }
}
