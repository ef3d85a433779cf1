/**
 * Fuzz campaign over SQL text, what any client may send: statements of the conformance
 * corpus (test/conformance/corpus), mutated token by token (tokens dropped, repeated,
 * swapped, replaced by keywords, operators, boundary literals) and byte by byte, run
 * through `db.query` with `statement_timeout` set, after the corpus's own statements have
 * built its tables.
 *
 * Properties: every statement either succeeds or fails with a SqlError carrying a SQLSTATE
 * that is not XX000 (internal error: a bug, not the client's fault); nothing else is
 * thrown; the session keeps answering `SELECT 1`.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { SeededRandom } from '@concord/core'
import { SqlError, SqlState, openDatabase } from '@concord/sql-facade'
import { corpusFiles } from '../conformance/corpus-files.js'
import { mutate } from './byte-mutator.js'
import { campaignRandom, fuzzBudget } from './fuzz-budget.js'

/** Statement texts of the corpus files, in file order (record headers and expected results dropped). */
function corpusStatements(): string[] {
  const out: string[] = []
  for (const file of corpusFiles()) {
    const lines = readFileSync(file.path, 'utf8').split('\n')
    for (let i = 0; i < lines.length; i++) {
      if (!/^(statement|query)\b/.test(lines[i]!)) continue
      const body: string[] = []
      for (i++; i < lines.length && lines[i]!.trim() !== '' && lines[i] !== '----'; i++) body.push(lines[i]!)
      if (body.length > 0) out.push(body.join('\n'))
    }
  }
  return out
}

const REPLACEMENTS = [
  'SELECT', 'FROM', 'WHERE', 'NULL', 'NOT', 'AND', 'OR', 'JOIN', 'ON', 'GROUP BY', 'ORDER BY', 'LIMIT', 'UNION', 'ALL', 'DISTINCT',
  'CASE', 'WHEN', 'END', 'CAST', '::', '::int', '::text', '::numeric', '::bytea', '::jsonb', '::int[]', '(', ')', ',', ';', '*', '/', '%',
  '||', '-', '+', '=', '<>', '~', 'LIKE', 'ILIKE', 'IN', 'BETWEEN', 'IS', 'EXISTS', 'ANY', 'ARRAY[', ']', '$1', "''", "'x'", "E'\\\\x'",
  '0', '-1', '2147483648', '9223372036854775808', '1e308', '1e-400', "'NaN'", "'infinity'", '0.0', "'2024-02-30'", "'{1,{2}}'",
  'count(*)', 'sum(', 'avg(', 'max(', 'string_agg(', 'generate_series(1, 3)', 'unnest(', 'coalesce(', 'nullif(', 'substring(', 'lpad(',
  'repeat(', 'RETURNING *', 'DEFAULT', 'VALUES', 'WITH', 'RECURSIVE', 'OVER (', 'PARTITION BY', 'FILTER (WHERE', 'LATERAL', 'USING',
]

function tokens(sql: string): string[] {
  return sql.match(/'(?:[^']|'')*'|"[^"]*"|\w+|::|<>|<=|>=|\|\||\s+|./g) ?? []
}

function mutateSql(rng: SeededRandom, sql: string): string {
  if (rng.chance(0.15)) return Buffer.from(mutate(rng, Buffer.from(sql), { maxLength: 4096 })).toString('utf8')
  let t = tokens(sql)
  const stack = rng.int(1, 4)
  for (let s = 0; s < stack && t.length > 0; s++) {
    const i = rng.int(0, t.length - 1)
    switch (rng.int(0, 4)) {
      case 0:
        t.splice(i, 1)
        break
      case 1:
        t.splice(i, 0, t[i]!)
        break
      case 2: {
        const j = rng.int(0, t.length - 1)
        ;[t[i], t[j]] = [t[j]!, t[i]!]
        break
      }
      case 3:
        t[i] = ` ${rng.pick(REPLACEMENTS)} `
        break
      default:
        t = [...t.slice(0, i), ...t.slice(rng.int(i, t.length))]
    }
  }
  return t.join('')
}

describe('fuzz: SQL text', () => {
  it('mutated corpus statements succeed or fail with a SqlError and a SQLSTATE other than XX000', async () => {
    const statements = corpusStatements()
    expect(statements.length).toBeGreaterThan(100)
    const { seeds, iterations } = fuzzBudget(900)
    for (const seed of seeds) {
      const db = await openDatabase({ nodeId: `fuzz-sql-${seed}` })
      try {
        const s = db.session()
        for (const sql of statements) await s.query(sql).catch(() => {})
        await s.query('ROLLBACK').catch(() => {})
        await s.query("SET statement_timeout = '250ms'")
        const rng = campaignRandom(seed, 'sql-text')
        for (let i = 0; i < iterations; i++) {
          const sql = mutateSql(rng, rng.pick(statements))
          try {
            await s.query(sql)
          } catch (e) {
            const where = `seed ${seed} iteration ${i}: ${JSON.stringify(sql)}`
            if (!(e instanceof SqlError)) throw new Error(`${where} threw ${String(e)}`, { cause: e })
            expect(e.code, `${where}: ${e.message}`).toMatch(/^[0-9A-Z]{5}$/)
            expect(e.code, `${where}: ${e.message}`).not.toBe(SqlState.internalError)
          }
          if (i % 50 === 49) {
            await s.query('ROLLBACK').catch(() => {})
            expect((await s.query('SELECT 1 AS one')).rows, `seed ${seed} iteration ${i}`).toEqual([{ one: 1 }])
          }
        }
      } finally {
        await db.close()
      }
    }
  })
})

describe('SQL text found by the fuzz campaign', () => {
  it('an unterminated quoted string in an extension statement is a syntax error (42601), not an internal error', async () => {
    const db = await openDatabase({ nodeId: 'fuzz-sql-regressions' })
    try {
      for (const sql of ["CREATE REGION '\u00ff\u004a_ap-southeast", "CREATE REGION 'eu", "SHOW SHARD_LOCATION 't"]) {
        await expect(db.query(sql), sql).rejects.toMatchObject({ code: SqlState.syntaxError })
      }
      expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await db.close()
    }
  })
})
