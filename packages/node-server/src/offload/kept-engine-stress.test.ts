import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase, type Database, type Session } from '@concord/sql-facade'
import { StatementWorkerPool } from './statement-worker-pool.js'

// Moved SELECTs on engines their workers keep (real worker threads), while other sessions
// write (some of their UPDATEs and DELETEs moved too), compaction starts new generations
// and clients cancel: every answer must be the state at one instant no older than the
// statement (decision 0031, "Engines kept between statements"). A kept engine short of
// what its record says would answer from the past; a moved write that found too few rows
// would change too few. CONCORD_STRESS_SEED and CONCORD_STRESS_ROUNDS repeat or lengthen a run.
//
// Invariants the writers keep, so an answer can be checked whatever instant it read:
// - every statement moves value between base rows (1..BASE) or inserts or deletes a pair
//   of rows with opposite values, so sum(v) is 0 and count(*) even at every instant;
// - every transfer stamps its rows with its sequence number (never lowering one), base
//   rows are never deleted, so max(seq) is at least that of every transfer committed
//   before the statement, and at most the last one begun before its answer.

const BASE = 12_000
const READERS = 3
const WRITERS = 2
const ROUNDS = Number(process.env.CONCORD_STRESS_ROUNDS ?? 25)

let db: Database
let pool: StatementWorkerPool

beforeAll(async () => {
  db = await openDatabase({ nodeId: 'stress1', region: 'r1' })
  await db.query('CREATE TABLE acct (id INT PRIMARY KEY, v INT NOT NULL, seq INT NOT NULL, note TEXT)')
  await db.query(`INSERT INTO acct SELECT g, 0, 0, 'n' || g FROM generate_series(1, ${BASE}) g`)
  pool = new StatementWorkerPool({ size: 2, heapMb: 256 })
})
afterAll(async () => {
  await pool.close()
  await db.close()
})

/** A seeded generator, so a failing run can be repeated. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    s ^= s + Math.imul(s ^ (s >>> 7), 61 | s)
    return ((s ^ (s >>> 14)) >>> 0) / 4294967296
  }
}

/** A WHERE costing some µs per row, so the statement runs past offload_after and moves. */
const SLOW = "(md5(md5(md5(note))) <> '')"

describe('moved SELECTs on kept engines under concurrent writes, compaction and cancels', () => {
  it('every answer is one instant of the table, no older than the statement', async () => {
    const seed = Number(process.env.CONCORD_STRESS_SEED ?? 20261202)
    const rnd = random(seed)
    let committedSeq = 0
    let nextSeq = 0
    let nextPair = BASE + 1
    const pairs: number[] = []
    let stop = false
    const failures: string[] = []

    const writer = async (s: Session) => {
      for (let i = 0; i < 100_000 && !stop; i++) {
        const r = rnd()
        if (r < 0.6) {
          const a = 1 + Math.floor(rnd() * BASE)
          const b = 1 + ((a + Math.floor(rnd() * (BASE - 1))) % BASE)
          const d = 1 + Math.floor(rnd() * 50)
          const seq = ++nextSeq
          await s.query(`UPDATE acct SET v = v + CASE WHEN id = ${a} THEN ${d} ELSE ${-d} END, seq = GREATEST(seq, ${seq}) WHERE id IN (${a}, ${b})`)
          committedSeq = Math.max(committedSeq, seq)
        } else if (r < 0.85 || pairs.length === 0) {
          const id = nextPair
          nextPair += 2
          const x = Math.floor(rnd() * 1000)
          await s.query(`INSERT INTO acct VALUES (${id}, ${x}, 0, 'p${id}'), (${id + 1}, ${-x}, 0, 'p${id + 1}')`)
          pairs.push(id)
        } else {
          const id = pairs.splice(Math.floor(rnd() * pairs.length), 1)[0]!
          await s.query(`DELETE FROM acct WHERE id IN (${id}, ${id + 1})`)
        }
        // Now and then a generation switch: the kept engines must take the shard afresh.
        if (rnd() < 0.01) {
          const shard = [...db.replica.shards.values()].find((x) => x.viewName() === 'acct')
          if (shard !== undefined) db.replica.compactShard(shard)
        }
        await new Promise((resolve) => setTimeout(resolve, Math.floor(rnd() * 3)))
      }
    }

    // Writes that move too (their WHERE scans the table): each must change exactly its rows.
    const movedWriter = async (s: Session) => {
      await s.query("SET offload_after = '1ms'")
      for (let i = 0; i < 100_000 && !stop; i++) {
        if (rnd() < 0.7 || pairs.length === 0) {
          const a = 1 + Math.floor(rnd() * BASE)
          const b = 1 + ((a + Math.floor(rnd() * (BASE - 1))) % BASE)
          const d = 1 + Math.floor(rnd() * 50)
          const seq = ++nextSeq
          const r = await s.query(`UPDATE acct SET v = v + CASE WHEN id = ${a} THEN ${d} ELSE ${-d} END, seq = GREATEST(seq, ${seq}) WHERE id + 0 IN (${a}, ${b}) AND ${SLOW}`)
          if (r.rowCount !== 2) failures.push(`moved transfer ${seq} between ${a} and ${b} changed ${r.rowCount} rows`)
          committedSeq = Math.max(committedSeq, seq)
        } else {
          const id = pairs.splice(Math.floor(rnd() * pairs.length), 1)[0]!
          const r = await s.query(`DELETE FROM acct WHERE id + 0 IN (${id}, ${id + 1}) AND ${SLOW}`)
          if (r.rowCount !== 2) failures.push(`moved delete of pair ${id} deleted ${r.rowCount} rows`)
        }
      }
    }

    const reader = async (s: Session, n: number) => {
      await s.query("SET offload_after = '1ms'")
      for (let round = 0; round < ROUNDS; round++) {
        const floor = committedSeq
        const cancel = rnd() < 0.1
        const q = s.query(`SELECT sum(v)::int AS sum, count(*)::int AS count, max(seq) AS seq FROM acct WHERE ${SLOW}`)
        if (cancel) setTimeout(() => s.cancel(), Math.floor(rnd() * 20))
        let row: { sum: number; count: number; seq: number } | undefined
        try {
          row = (await q).rows[0] as typeof row
        } catch (e) {
          if ((e as { code?: string }).code !== '57014') failures.push(`reader ${n} round ${round}: ${(e as Error).message}`)
          continue
        }
        const ceiling = nextSeq
        if (row === undefined || row.sum !== 0 || row.count % 2 !== 0 || row.seq < floor || row.seq > ceiling) {
          failures.push(`reader ${n} round ${round}: ${JSON.stringify(row)}, seq committed before ${floor}, issued by then ${ceiling}`)
        }
      }
    }

    const writers = Array.from({ length: WRITERS }, () => db.session())
    const readers = Array.from({ length: READERS }, () => db.session({ offloader: pool }))
    const moving = db.session({ offloader: pool })
    const writing = Promise.all([...writers.map(writer), movedWriter(moving)])
    await Promise.all(readers.map(reader))
    stop = true
    await writing
    for (const s of [...writers, moving, ...readers]) await s.close()

    console.log(`stress: ${JSON.stringify(pool.stats)}, ${nextSeq} transfers, ${pairs.length} pairs left`)
    expect(failures).toEqual([])
    // The readers' statements did move, most of them onto an engine kept from before.
    expect(pool.stats.offloaded).toBeGreaterThan(READERS * ROUNDS * 0.5)
    expect(pool.stats.keptEngine).toBeGreaterThan(READERS * ROUNDS * 0.2)
    const final = await db.query('SELECT sum(v)::int AS sum, count(*)::int AS count FROM acct')
    expect(final.rows[0]).toEqual({ sum: 0, count: BASE + 2 * pairs.length })
  }, 300_000)
})
