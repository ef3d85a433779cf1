import { parseSync } from 'libpg-query'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { LiteralTemplates } from './literal-template.js'
import { literalTemplateHits, loadParser, parseScript } from './parse.js'

beforeAll(() => loadParser())

/** What libpg-query itself makes of the statement (the reference a template must match). */
function fresh(sql: string): unknown {
  return parseSync(sql).stmts!.map((s) => s.stmt)
}

function parsed(sql: string): unknown {
  return parseScript(sql).map((s) => (s.kind === 'pg' ? s.node : s))
}

/** A multi-row INSERT of `rows` rows, `row(i)` giving the text inside each row's parentheses. */
function bulk(table: string, rows: number, row: (i: number) => string, columns = '(id, n, s)'): string {
  return `INSERT INTO ${table} ${columns} VALUES ${Array.from({ length: rows }, (_, i) => `(${row(i)})`).join(', ')}`
}

/** Rows of each kind the tests vary: values of several lengths, so most statements move positions. */
const ROW_KINDS: Array<[string, (i: number, v: number) => string]> = [
  ['plain integers and strings', (i, v) => `${v * 1000 + i}, ${(v * 7919 + i) % 1000}, 'r${'x'.repeat((i + v) % 5)}${v}'`],
  ["strings with '' inside, and empty ones", (i, v) => `${v * 1000 + i}, ${i}, '${i % 3 === 0 ? '' : `it''s ${v}''${'y'.repeat(i % 4)}`}'`],
  ['negative numbers and decimals', (i, v) => `${v * 1000 + i}, -${(i * v) % 300 + 1}, '${-(i + v)}'`],
  ['NULL and DEFAULT', (i, v) => `${v * 1000 + i}, ${i % 2 === 0 ? 'NULL' : String(i * v)}, ${i % 3 === 0 ? 'DEFAULT' : `'d${v}'`}`],
  ["casts ('1'::int, CAST)", (i, v) => `'${v * 1000 + i}'::int, CAST('${i * v}' AS int), 'c'::text || '${v}'`],
  ['zero and int4 bounds', (i, v) => `${v * 1000 + i}, ${v % 2 === 0 ? 0 : 2147483647 - i}, '${i}'`],
]

describe('a bulk INSERT .. VALUES made from its template', () => {
  it.each(ROW_KINDS.map(([name, row], k) => [name, row, k] as const))('has the parse tree a fresh parse gives: %s', (_name, row, k) => {
    const before = literalTemplateHits()
    // Row counts past the 8 KiB cache by text; new values (of other lengths) in every statement.
    for (let v = 1; v <= 6; v++) {
      const sql = bulk(`bulk_t${k}`, 700, (i) => row(i, v))
      expect(sql.length).toBeGreaterThan(8192)
      expect(parsed(sql)).toEqual(fresh(sql))
    }
    // The first statement marks the shape, the second builds its template, the rest use it.
    expect(literalTemplateHits() - before).toBe(4)
  })

  it('keeps its own text and positions after leading blanks and before a semicolon', () => {
    for (let v = 1; v <= 4; v++) {
      const text = bulk('bulk_u', 500, (i) => `${i * v}, ${v}, 'p${'q'.repeat(v)}'`)
      const [s] = parseScript(`\n  ${text};  \n`)
      expect(s).toMatchObject({ kind: 'pg', text })
      expect(s!.kind === 'pg' && s!.node).toEqual((fresh(text) as unknown[])[0])
    }
  })

  it('is parsed whole where the lexer does not follow: E strings, dollar quotes, comments, non-ASCII', () => {
    const before = literalTemplateHits()
    for (let v = 1; v <= 4; v++) {
      for (const sql of [
        bulk('bulk_e', 400, (i) => `${i + v}, ${v}, E'a\\n${v}\\'b'`),
        bulk('bulk_d', 400, (i) => `${i + v}, ${v}, $$d'${v}$$`),
        bulk('bulk_c', 400, (i) => `${i + v}, ${v}, 'x' /* c */`),
        bulk('bulk_n', 400, (i) => `${i + v}, ${v}, 'é${v}'`),
      ]) expect(parsed(sql)).toEqual(fresh(sql))
    }
    expect(literalTemplateHits()).toBe(before)
  })

  it('keeps within its bounds: shapes, key characters and literals held', () => {
    const t = new LiteralTemplates({ maxEntries: 100, maxText: 1 << 20, maxKeyChars: 1 << 20, maxLiterals: 10_000 })
    const parseAll = (s: string) => parseScript(`/* whole */ ${s}`).map((x) => (x.kind === 'pg' ? { ...x, text: s } : x))
    // 1,000 literals a shape: at most ten fit; a shape past a quarter of the budget gets no template.
    for (let table = 0; table < 30; table++) {
      for (let v = 0; v < 3; v++) t.parse(bulk(`b${table}`, 500, (i) => `${i + v}, 'v'`, '(id, s)'), parseAll)
      expect(t.literalsHeld).toBeLessThanOrEqual(10_000)
    }
    expect(t.literalsHeld).toBeGreaterThan(0)
    const hits = t.hits
    for (let v = 0; v < 3; v++) t.parse(bulk('big', 1300, (i) => `${i + v}, 'v'`, '(id, s)'), parseAll)
    expect(t.hits).toBe(hits)
  })
})

describe('a bulk INSERT made from its template, run', () => {
  let db: Database
  beforeAll(async () => {
    db = await Database.open({ nodeId: 'n1', antiEntropyIntervalMs: 0 })
  })
  afterAll(() => db.close())

  const columns = '(id INT PRIMARY KEY, n INT, s TEXT DEFAULT \'dflt\', big BIGINT, d NUMERIC(12,3))'
  const row = (i: number, v: number): string =>
    `${v * 1000 + i}, ${i % 5 === 0 ? 'NULL' : `-${i + v}`}, ${i % 4 === 0 ? 'DEFAULT' : `'it''s ${'z'.repeat((i * v) % 7)}${i}'`}, ${i % 3 === 0 ? '9999999999' : `'${i * v}'::bigint`}, ${i}.${v}5`

  it('stores the values a whole parse stores', async () => {
    await db.query(`CREATE TABLE via_template ${columns}`)
    await db.query(`CREATE TABLE via_parser ${columns}`)
    const before = literalTemplateHits()
    for (let v = 1; v <= 5; v++) {
      await db.query(bulk('via_template', 800, (i) => row(i, v), '(id, n, s, big, d)'))
      // A comment keeps the lexer off: the same statement, parsed whole.
      await db.query(`/* parsed */ ${bulk('via_parser', 800, (i) => row(i, v), '(id, n, s, big, d)')}`)
    }
    expect(literalTemplateHits() - before).toBe(3)
    const a = await db.query('SELECT id, n, s, big, d FROM via_template ORDER BY id')
    const b = await db.query('SELECT id, n, s, big, d FROM via_parser ORDER BY id')
    expect(a.rows).toHaveLength(4000)
    expect(a.rows).toEqual(b.rows)
    expect(a.rows.find((r) => r['id'] === 1004)).toEqual({ id: 1004, n: -5, s: 'dflt', big: '4', d: '4.150' })
    expect(a.rows.find((r) => r['id'] === 2005)).toEqual({ id: 2005, n: null, s: "it's zzz5", big: '10', d: '5.250' })
  })

  it('fails on a bad literal in row 700 as a whole parse does, and inserts nothing', async () => {
    await db.query('CREATE TABLE bad_rows (id INT PRIMARY KEY, n INT, s TEXT)')
    const stmt = (v: number, bad: string): string => bulk('bad_rows', 1000, (i) => (i === 699 ? `${v * 1000 + i}, ${bad}, 's'` : `${v * 1000 + i}, ${i}, 's${v}'`))
    await db.query(stmt(1, '1'))
    await db.query(stmt(2, '2'))
    for (const [v, bad] of [[3, "'seven hundred'"], [4, '99999999999'], [5, "'12'::int / 0"], [6, '1.5e']] as const) {
      const failure = async (sql: string) => {
        const e = await db.query(sql).then(() => null, (err: unknown) => err as { code?: string; message?: string })
        return e && { code: e.code, message: e.message }
      }
      const hits = literalTemplateHits()
      const viaTemplate = await failure(stmt(v, bad))
      const viaParser = await failure(`/* parsed */ ${stmt(v, bad)}`)
      expect(viaTemplate, bad).not.toBeNull()
      expect(viaTemplate, bad).toEqual(viaParser)
      // The literal kinds in row 700 keep the shape of the first two, except where they change it.
      if (bad === "'seven hundred'") expect(literalTemplateHits()).toBe(hits)
    }
    expect((await db.query('SELECT count(*)::int AS n FROM bad_rows')).rows).toEqual([{ n: 2000 }])
  })
})
