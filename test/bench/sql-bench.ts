/**
 * SQL facade benchmark (issue 3): rows/s through `db.query`, against the core API doing
 * the same work directly, and against PostgreSQL through node-postgres when
 * CONCORD_PG_URL is set, all in the same run. Run with
 * `node --expose-gc --import tsx test/bench/sql-bench.ts`. Prints medians of several
 * repetitions and ratios; asserts nothing.
 *
 * Workloads over ROWS rows of (id BIGINT PRIMARY KEY, name TEXT, price NUMERIC(10,2),
 * qty INT indexed, cat INT):
 *   insert   multi-row INSERT .. VALUES, BATCH rows per statement
 *   point    SELECT * .. WHERE id = $1, one row per query
 *   range    SELECT id, name .. WHERE qty >= $1 AND qty < $2 on the qty index (~1% of rows)
 *   group    SELECT cat, count(*), sum(price) .. GROUP BY cat over every row
 * Core equivalents: replica.transact + tx.insert, replica.get, a scan with the range
 * filter (core has no secondary index), a scan grouping in a Map.
 */
import { Replica, type Row, type TableSpec } from '@concord/core'
import { openDatabase, type Database } from '@concord/sql-facade'
import { median, printTable, ratio } from './harness.js'

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000)
const BATCH = 1000
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3)
const POINT_QUERIES = Number(process.env.BENCH_POINT ?? 5000)
const RANGE_QUERIES = 100
const QTY_SPAN = 1000
const PG_URL = process.env.CONCORD_PG_URL

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g) {
    g()
    g()
  }
}

function insertSql(table: string, from: number, to: number): string {
  const vals: string[] = []
  for (let i = from; i < to; i++) vals.push(`(${i}, 'item ${i}', ${i % 1000}.${String(i % 100).padStart(2, '0')}, ${i % QTY_SPAN}, ${i % 20})`)
  return `INSERT INTO ${table} (id, name, price, qty, cat) VALUES ${vals.join(', ')}`
}

/** Deterministic pseudo-random ids, the same for every target. */
function ids(n: number, seed = 1): number[] {
  let x = seed
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    out.push(x % ROWS)
  }
  return out
}

interface Target {
  name: string
  setup(): Promise<void>
  insert(): Promise<number>
  point(keys: number[]): Promise<number>
  range(lows: number[]): Promise<number>
  group(): Promise<number>
  close(): Promise<void>
}

function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now()
  return fn().then((r) => [performance.now() - t0, r])
}

function concordTarget(): Target {
  let db: Database
  return {
    name: 'Concord SQL (db.query)',
    async setup() {
      db = await openDatabase({ nodeId: 'bench', antiEntropyIntervalMs: 0 })
      await db.query('CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT, price NUMERIC(10,2), qty INT, cat INT)')
      await db.query('CREATE INDEX items_qty ON items (qty)')
    },
    async insert() {
      const [ms] = await timed(async () => {
        for (let i = 0; i < ROWS; i += BATCH) await db.query(insertSql('items', i, Math.min(ROWS, i + BATCH)))
      })
      return ms
    },
    async point(keys) {
      const [ms, n] = await timed(async () => {
        let found = 0
        for (const k of keys) found += (await db.query('SELECT * FROM items WHERE id = $1', [k])).rowCount ?? 0
        return found
      })
      if (n !== keys.length) throw new Error(`point: found ${n} of ${keys.length}`)
      return ms
    },
    async range(lows) {
      let rows = 0
      const [ms] = await timed(async () => {
        for (const lo of lows) rows += (await db.query('SELECT id, name FROM items WHERE qty >= $1 AND qty < $2', [lo, lo + 10])).rowCount ?? 0
      })
      return rowsPerMs(rows, ms)
    },
    async group() {
      const [ms, r] = await timed(() => db.query('SELECT cat, count(*) AS n, sum(price) AS total FROM items GROUP BY cat'))
      if (r.rowCount !== 20) throw new Error('group: wrong group count')
      return ms
    },
    async close() {
      await db.close()
    },
  }
}

const SPEC: TableSpec = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int8' },
    { name: 'name', type: 'text' },
    { name: 'price', type: 'numeric' },
    { name: 'qty', type: 'int4' },
    { name: 'cat', type: 'int4' },
  ],
  primaryKey: ['id'],
}

function coreTarget(): Target {
  let replica: Replica
  return {
    name: 'core API (replica)',
    async setup() {
      replica = await Replica.open({ nodeId: 'bench-core', antiEntropyIntervalMs: 0 })
      replica.transact((tx) => tx.createTable(SPEC))
      await replica.durable()
    },
    async insert() {
      const [ms] = await timed(async () => {
        for (let i = 0; i < ROWS; i += BATCH) {
          // The same values the SQL layer stores: numeric as its tagged exact text.
          replica.transact((tx) => {
            for (let j = i; j < Math.min(ROWS, i + BATCH); j++) {
              tx.insert('items', { id: BigInt(j), name: `item ${j}`, price: `\u0000n${j % 1000}.${String(j % 100).padStart(2, '0')}`, qty: j % QTY_SPAN, cat: j % 20 })
            }
          })
          await replica.durable()
        }
      })
      return ms
    },
    async point(keys) {
      const [ms, n] = await timed(async () => {
        let found = 0
        for (const k of keys) if (replica.get('items', [BigInt(k)])) found++
        return found
      })
      if (n !== keys.length) throw new Error(`core point: found ${n}`)
      return ms
    },
    async range(lows) {
      let rows = 0
      const [ms] = await timed(async () => {
        for (const lo of lows) {
          const out: Row[] = []
          for (const r of replica.scan('items')) if ((r.qty as number) >= lo && (r.qty as number) < lo + 10) out.push(r)
          rows += out.length
        }
      })
      return rowsPerMs(rows, ms)
    },
    async group() {
      const [ms] = await timed(async () => {
        const groups = new Map<number, { n: number; total: number }>()
        for (const r of replica.scan('items')) {
          const k = r.cat as number
          let g = groups.get(k)
          if (!g) groups.set(k, (g = { n: 0, total: 0 }))
          g.n++
          g.total += Number((r.price as string).slice(2))
        }
        if (groups.size !== 20) throw new Error('core group: wrong group count')
      })
      return ms
    },
    async close() {
      await replica.close()
    },
  }
}

async function postgresTarget(url: string): Promise<Target> {
  const pg = (await import('pg')).default
  const c = new pg.Client({ connectionString: url })
  return {
    name: 'PostgreSQL (node-postgres)',
    async setup() {
      await c.connect()
      await c.query('DROP TABLE IF EXISTS concord_bench_items')
      await c.query('CREATE TABLE concord_bench_items (id BIGINT PRIMARY KEY, name TEXT, price NUMERIC(10,2), qty INT, cat INT)')
      await c.query('CREATE INDEX concord_bench_items_qty ON concord_bench_items (qty)')
    },
    async insert() {
      const [ms] = await timed(async () => {
        for (let i = 0; i < ROWS; i += BATCH) await c.query(insertSql('concord_bench_items', i, Math.min(ROWS, i + BATCH)))
      })
      await c.query('ANALYZE concord_bench_items')
      return ms
    },
    async point(keys) {
      const [ms] = await timed(async () => {
        for (const k of keys) await c.query('SELECT * FROM concord_bench_items WHERE id = $1', [k])
      })
      return ms
    },
    async range(lows) {
      let rows = 0
      const [ms] = await timed(async () => {
        for (const lo of lows) rows += (await c.query('SELECT id, name FROM concord_bench_items WHERE qty >= $1 AND qty < $2', [lo, lo + 10])).rowCount ?? 0
      })
      return rowsPerMs(rows, ms)
    },
    async group() {
      const [ms] = await timed(() => c.query('SELECT cat, count(*) AS n, sum(price) AS total FROM concord_bench_items GROUP BY cat'))
      return ms
    },
    async close() {
      await c.query('DROP TABLE IF EXISTS concord_bench_items')
      await c.end()
    },
  }
}

/** Range results are reported as ms per returned row, so targets returning equal rows compare fairly. */
function rowsPerMs(rows: number, ms: number): number {
  return rows === 0 ? ms : ms / rows
}

type Workload = 'insert' | 'point' | 'range' | 'group'
const WORKLOADS: Workload[] = ['insert', 'point', 'range', 'group']

async function measure(make: () => Target | Promise<Target>): Promise<{ name: string; rowsPerSec: Record<Workload, number> }> {
  const samples: Record<Workload, number[]> = { insert: [], point: [], range: [], group: [] }
  let name = ''
  for (let rep = 0; rep < REPEAT; rep++) {
    const t = await make()
    name = t.name
    await t.setup()
    gc()
    samples.insert.push(ROWS / ((await t.insert()) / 1000))
    gc()
    const keys = ids(POINT_QUERIES, rep + 1)
    samples.point.push(POINT_QUERIES / ((await t.point(keys)) / 1000))
    gc()
    const lows = ids(RANGE_QUERIES, rep + 7).map((x) => x % (QTY_SPAN - 10))
    samples.range.push(1000 / (await t.range(lows)))
    gc()
    samples.group.push(ROWS / ((await t.group()) / 1000))
    await t.close()
    gc()
  }
  const rowsPerSec = Object.fromEntries(WORKLOADS.map((w) => [w, median(samples[w])])) as Record<Workload, number>
  return { name, rowsPerSec }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

async function main(): Promise<void> {
  console.log(`sql-bench: ${ROWS.toLocaleString('en-US')} rows, ${BATCH} rows per INSERT, ${POINT_QUERIES} point queries, ${RANGE_QUERIES} range queries, median of ${REPEAT}`)
  const sql = await measure(concordTarget)
  const core = await measure(coreTarget)
  const pg = PG_URL ? await measure(() => postgresTarget(PG_URL)) : null
  const header = ['workload (rows/s)', sql.name, core.name, 'SQL / core', ...(pg ? [pg.name, 'SQL / PostgreSQL'] : [])]
  const label: Record<Workload, string> = {
    insert: `batched INSERT (${BATCH} rows/stmt)`,
    point: 'point SELECT by primary key',
    range: 'indexed range SELECT (rows returned)',
    group: 'GROUP BY over all rows (rows scanned)',
  }
  const rows: Array<Array<string | number>> = [header]
  for (const w of WORKLOADS) {
    rows.push([label[w], fmt(sql.rowsPerSec[w]), fmt(core.rowsPerSec[w]), ratio(sql.rowsPerSec[w], core.rowsPerSec[w], 'time'), ...(pg ? [fmt(pg.rowsPerSec[w]), ratio(sql.rowsPerSec[w], pg.rowsPerSec[w], 'time')] : [])])
  }
  printTable(`SQL facade, ${ROWS.toLocaleString('en-US')} rows (higher is better; ratios are SQL throughput / baseline)`, rows)
  if (!pg) console.log('\n(PostgreSQL column skipped: set CONCORD_PG_URL, e.g. export "$(bash .ci/postgres.sh)")')
}

await main()
