/**
 * Random SQL, run on PostgreSQL 15 and on Concord side by side (random-sql.ts): every
 * answer, error class and, for writes, both tables' contents after each statement must
 * agree. Each part runs fixed seeds, so a run is repeatable; a longer campaign is
 *
 *   CONCORD_PG_URL=... RANDOM_SQL_SEEDS=1-200 npx vitest run --project unit test/conformance/random-differential.test.ts
 *
 * What it found, fixed on 2026-12-03 (docs/compatibility.md): POSIX classes in regular
 * expressions, SIMILAR TO, age() of an earlier timestamp, replace() with an empty search,
 * DISTINCT aggregates' order, variance over no rows, sum of -0, to_char's rounding of
 * halves, count(), a jsonb scalar's -> 0, and missing functions (overlay, bit_length,
 * regexp_match, jsonb_path_*, num_nulls, percentile_cont / _disc, mode, the inverse
 * trigonometric ones). Needs CONCORD_PG_URL; skipped without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { concordTarget, loadFacade } from './concord-target.js'
import { failureOf, type Session, type Target } from './executor.js'
import { postgresTarget } from './postgres-target.js'
import { DML_SETUP, DML_STATE, dmlStatement, EXPRESSION_SETUP, expressionQuery, QUERY_SETUP, Rng, tableQuery } from './random-sql.js'
import type { TextResult } from './result-text.js'

const url = process.env.CONCORD_PG_URL

/** `RANDOM_SQL_SEEDS=a-b` (or one number): the seeds to run; default the fixed ones below. */
function seeds(fallback: number[]): number[] {
  const spec = process.env.RANDOM_SQL_SEEDS
  if (spec === undefined || spec === '') return fallback
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec)
  if (!m) throw new Error(`RANDOM_SQL_SEEDS: expected N or A-B, got ${spec}`)
  const from = Number(m[1])
  const to = Number(m[2] ?? m[1])
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

/** A statement's outcome as compared: rows (sorted when `sorted`) and count, or the error's SQLSTATE class. */
async function outcome(s: Session, sql: string, sorted: boolean): Promise<string> {
  let r: TextResult
  try {
    r = await s.execute(sql)
  } catch (e) {
    return `error class ${failureOf(e).sqlstate?.slice(0, 2) ?? '(none)'}`
  }
  const rows = r.rows.map((row) => JSON.stringify(row))
  return JSON.stringify({ rowCount: r.rowCount, rows: sorted ? rows.sort() : rows })
}

interface Pair {
  pg: Session
  concord: Session
}

describe('random SQL agrees with PostgreSQL', () => {
  if (url === undefined || url === '') {
    it.skip('skipped: CONCORD_PG_URL is not set (run `export "$(.ci/postgres.sh)"` to start a local PostgreSQL)', () => {})
    return
  }
  let pgTarget: Target
  let concord: Target
  beforeAll(async () => {
    pgTarget = postgresTarget(url)
    concord = concordTarget(await loadFacade())
  })
  afterAll(async () => {
    await pgTarget?.dispose()
    await concord?.dispose()
  })

  async function open(label: string, setup: readonly string[]): Promise<Pair> {
    const pair = { pg: await pgTarget.openSession(label), concord: await concord.openSession(label) }
    for (const sql of setup) {
      await pair.pg.execute(sql)
      await pair.concord.execute(sql)
    }
    return pair
  }

  async function close(pair: Pair): Promise<void> {
    await pair.pg.close()
    await pair.concord.close()
  }

  /** Runs `count` statements of each seed; returns the ones whose outcomes differ (at most 20). */
  async function differences(label: string, setup: readonly string[], seedList: number[], count: number, next: (r: Rng) => string, state?: readonly string[]): Promise<string[]> {
    const found: string[] = []
    for (const seed of seedList) {
      const pair = await open(`${label} ${seed}`, setup)
      try {
        const r = new Rng(seed)
        // Bounded: `count` statements per seed, each under the targets' statement timeouts.
        for (let i = 0; i < count && found.length < 20; i++) {
          const sql = next(r)
          const [a, b] = [await outcome(pair.pg, sql, state !== undefined), await outcome(pair.concord, sql, state !== undefined)]
          if (a !== b) found.push(`seed ${seed}: ${sql}\n  PostgreSQL: ${a.slice(0, 300)}\n  Concord:    ${b.slice(0, 300)}`)
          if (state === undefined) continue
          for (const q of state) {
            const [x, y] = [await outcome(pair.pg, q, false), await outcome(pair.concord, q, false)]
            if (x !== y) {
              found.push(`seed ${seed}, after: ${sql}\n  ${q}\n  PostgreSQL: ${x.slice(0, 400)}\n  Concord:    ${y.slice(0, 400)}`)
              return found
            }
          }
        }
      } finally {
        await close(pair)
      }
    }
    return found
  }

  it('expressions over edge values: every value, NULL and error class', async () => {
    const found = await differences('expressions', EXPRESSION_SETUP, seeds([1, 2, 3]), 150, expressionQuery)
    expect(found, found.join('\n')).toEqual([])
  }, 120_000)

  it('queries over two tables: joins, subqueries, set operations, grouping, windows', async () => {
    const found = await differences('queries', QUERY_SETUP, seeds([1, 2]), 150, tableQuery)
    expect(found, found.join('\n')).toEqual([])
  }, 120_000)

  it('write sequences: each statement\'s result and both tables after it', async () => {
    const found = await differences('writes', DML_SETUP, seeds([1, 2, 3]), 80, dmlStatement, DML_STATE)
    expect(found, found.join('\n')).toEqual([])
  }, 120_000)
})
