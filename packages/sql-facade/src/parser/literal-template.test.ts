import { parseSync } from 'libpg-query'
import { beforeAll, describe, expect, it } from 'vitest'
import { Database } from '../database.js'
import { LiteralTemplates, literalShape } from './literal-template.js'
import { literalTemplateHits, loadParser, parseScript } from './parse.js'

beforeAll(() => loadParser())

/** What libpg-query itself makes of the statement (the reference a template must match). */
function fresh(sql: string): unknown {
  return parseSync(sql).stmts!.map((s) => s.stmt)
}

function parsed(sql: string): unknown {
  return parseScript(sql).map((s) => (s.kind === 'pg' ? s.node : s))
}

/** `make(v)` for each value: the first parses, the rest may come from its shape's template. */
function expectSameTrees(make: (v: string) => string, values: string[]): void {
  for (const v of values) expect(parsed(make(v)), make(v)).toEqual(fresh(make(v)))
}

describe('the shapes templates remember', () => {
  const parseAll = (s: string) => parseScript(`/* whole */ ${s}`).map((x) => (x.kind === 'pg' ? { ...x, text: s } : x))
  /** A template for `table`'s point SELECT: its first text marks the shape, the second builds the template. */
  const select = (table: string, v: number) => `SELECT v FROM ${table} WHERE k = ${v}`

  it('keep a template used since eviction last reached it, and evict one unused', () => {
    const t = new LiteralTemplates({ maxEntries: 4, maxText: 1 << 20, maxKeyChars: 1 << 20, maxLiterals: 10_000 })
    for (const table of ['used', 'idle']) for (const v of [1, 2]) t.parse(select(table, v), parseAll)
    // Eight new shapes pass through the four places; `used` answers between each two.
    for (let i = 0; i < 8; i++) {
      const hits = t.hits
      t.parse(select('used', 10 + i), parseAll)
      expect(t.hits, `use ${i}`).toBe(hits + 1)
      t.parse(select(`other${i}`, 1), parseAll)
    }
    const hits = t.hits
    t.parse(select('idle', 3), parseAll)
    expect(t.hits).toBe(hits)
    t.parse(select('used', 99), parseAll)
    expect(t.hits).toBe(hits + 1)
  })
})

describe('statements differing only in literals', () => {
  it('get the parse tree a fresh parse gives, from the template of their shape', () => {
    const before = literalTemplateHits()
    expectSameTrees((v) => `SELECT abalance FROM pgbench_accounts WHERE aid = ${v}`, ['12345', '54321', '99999', '10000'])
    // The first text marks the shape as seen, the second builds its template, the rest use it.
    expect(literalTemplateHits() - before).toBe(2)
  })

  it('keep integers, int4 overflow, decimals, zero and strings apart', () => {
    expectSameTrees((v) => `SELECT * FROM t WHERE a = ${v} AND b = 'x'`, ['0', '7', '9', '1', '2147483647', '2147483648', '9999999999', '1.50', '2.75'])
    // Integers of up to nine digits are read digit by digit, leading zeros included; longer ones by their text.
    expectSameTrees((v) => `INSERT INTO t (a, b) VALUES (${v}, 'x'), (-${v}, 'y')`, ['1', '2', '000', '000123', '123456789', '999999999', '0999999999', '1000000000', '0000000000007', '2147483648'])
    expectSameTrees((v) => `UPDATE t SET name = '${v}', n = n + 1 WHERE id = 3`, ['', 'a', 'b', "it''s", "ab''", 'xyz', 'abc'])
  })

  it('fold a unary minus into the constant as the grammar does, and leave a binary minus alone', () => {
    const before = literalTemplateHits()
    expectSameTrees((v) => `UPDATE pgbench_accounts SET abalance = abalance + ${v} WHERE aid = 77`, ['-1234', '-4321', '-4999', '-1000', '-2468'])
    // tpcb-like's `abalance + -1234` shape gets a template.
    expect(literalTemplateHits() - before).toBeGreaterThanOrEqual(3)
    expectSameTrees((v) => `SELECT * FROM t WHERE a = -${v} OR b < (-${v}) OR c IN (1,-${v})`, ['0', '1', '9', '5', '2147483647', '2147483648', '2147483649', '1.5', '2.5'])
    expectSameTrees((v) => `SELECT a -${v}, a-${v}, a * -${v}, a<-${v}, a !=-${v}, a @- ${v}, a >=-${v} FROM t`, ['1', '2', '3', '4'])
    expectSameTrees((v) => `SELECT abs(-${v}), - ${v}, 2 - -${v} FROM t LIMIT ${v}`, ['1', '2', '3', '4'])
  })

  it('carry typed strings, IN lists, LIMIT, ORDER BY positions and type modifiers', () => {
    expectSameTrees((v) => `SELECT id, CAST(name AS varchar(${v})) FROM t WHERE d > DATE '2020-01-0${v}' AND k IN (${v}, ${v}1) ORDER BY ${v} LIMIT ${v}`,
      ['1', '2', '3', '4'])
    expectSameTrees((v) => `INSERT INTO t (a, b) VALUES (${v}, 'v${v}'), (${v}, NULL) RETURNING a + ${v}`, ['1', '5', '8'])
    expectSameTrees((v) => `DELETE FROM t WHERE ts < now() - interval '${v} days'`, ['1', '2', '3'])
  })

  it('are parsed afresh where a literal is folded or consumed by the grammar', () => {
    // A negated constant, a float precision, adjacent strings joined across a newline.
    expectSameTrees((v) => `SELECT * FROM t WHERE a = -${v}`, ['1', '2', '3'])
    expectSameTrees((v) => `SELECT CAST(a AS float(${v})) FROM t`, ['10', '30', '53', '24', '25'])
    expectSameTrees((v) => `SELECT 'a${v}'\n'b' FROM t`, ['1', '2'])
  })

  it('keep their own text, between leading blanks and a trailing semicolon', () => {
    for (const v of ['11', '22', '33', '44']) {
      const sql = `\n  SELECT abalance FROM pgbench_accounts WHERE aid = ${v} AND note = 'n${v}';  `
      const text = `SELECT abalance FROM pgbench_accounts WHERE aid = ${v} AND note = 'n${v}'`
      const [s] = parseScript(sql)
      expect(s).toMatchObject({ kind: 'pg', text })
      // Locations count from the statement's first token, as for any parsed statement.
      expect(parsed(sql)).toEqual(fresh(text))
    }
  })

  it('keep error positions right past a literal', () => {
    parseScript('SELECT * FROM t WHERE a = 1 AND b = 2')
    expect(() => parseScript('SELECT * FROM t WHERE a = 22 AND b = 2 AND')).toThrow(expect.objectContaining({ code: '42601' }))
    const [s] = parseScript('SELECT * FROM t WHERE a = 33 AND b = 4')
    expect(s).toMatchObject({ kind: 'pg', text: 'SELECT * FROM t WHERE a = 33 AND b = 4' })
  })

  it('are cached by their text only when the same text comes again', () => {
    const text = (v: number) => `SELECT v FROM cache_by_text WHERE id = ${v} AND k = 'a'`
    // The first two texts of a shape are parsed whole and teach it; the rest are templates.
    parseScript(text(1))
    parseScript(text(2))
    const hits = literalTemplateHits()
    const first = parseScript(text(3))
    expect(literalTemplateHits() - hits).toBe(1)
    // Not cached the first time: its tree comes from the template again, and is cached then.
    const second = parseScript(text(3))
    expect(literalTemplateHits() - hits).toBe(2)
    expect(second).not.toBe(first)
    expect(parseScript(text(3))).toBe(second)
    expect(literalTemplateHits() - hits).toBe(2)
    expect(parsed(text(3))).toEqual(fresh(text(3)))
  })

  it('answer queries with their own values', async () => {
    const db = await Database.open({ nodeId: 'n1', antiEntropyIntervalMs: 0 })
    try {
      await db.query("CREATE TABLE acc (id INT PRIMARY KEY, name TEXT, bal NUMERIC(10,2))")
      for (let i = 1; i <= 20; i++) await db.query(`INSERT INTO acc VALUES (${i}, 'n${i}', ${i}.25)`)
      for (let i = 1; i <= 20; i++) {
        const r = await db.query(`SELECT name, bal FROM acc WHERE id = ${i}`)
        expect(r.rows).toEqual([{ name: `n${i}`, bal: `${i}.25` }])
      }
      for (const i of [5, 9, 3]) {
        // Facts memoized per template (an aggregate, the hidden shard_location column) hold for every value.
        expect((await db.query(`SELECT count(*) AS n FROM acc WHERE id < ${i}`)).rows).toEqual([{ n: String(i - 1) }])
        // Without the column exposed, this is 42703.
        const placed = await db.query(`SELECT id, shard_location FROM acc WHERE id = ${i}`)
        expect(placed.rows.map((r) => [r['id'], Object.keys(r)])).toEqual([[i, ['id', 'shard_location']]])
      }
      await db.query("UPDATE acc SET name = 'zz' WHERE id = 7")
      expect((await db.query("SELECT id FROM acc WHERE name = 'zz'")).rows).toEqual([{ id: 7 }])
      expect((await db.query("SELECT id FROM acc WHERE name = 'n8'")).rows).toEqual([{ id: 8 }])
    } finally {
      await db.close()
    }
  })
})

describe('literalShape', () => {
  it('leaves out what it does not fully understand', () => {
    for (const sql of ["SELECT E'a\\n'", "SELECT x'1f'", 'SELECT $$a$$', 'SELECT 1 -- c', 'SELECT /* c */ 1', "SELECT 'é'", 'SELECT 1e5', 'SELECT .5', 'SELECT 0x1f', 'SELECT 1_000']) {
      expect(literalShape(sql), sql).toBeNull()
    }
  })

  it('names each literal by kind, not length, and skips identifiers and parameters', () => {
    const a = literalShape('SELECT "c1", t2.x FROM t2 WHERE a = $1 AND b = 12 AND c = \'ab\'')!
    const b = literalShape('SELECT "c1", t2.x FROM t2 WHERE a = $1 AND b = 34 AND c = \'cd\'')!
    const c = literalShape('SELECT "c1", t2.x FROM t2 WHERE a = $1 AND b = 345 AND c = \'c\'\'d\'')!
    const d = literalShape('SELECT "c1", t2.x FROM t2 WHERE a = $1 AND b = 3.5 AND c = \'cd\'')!
    expect(a.literals.map((l) => l.value)).toEqual([12, 'ab'])
    expect(c.literals.map((l) => l.value)).toEqual([345, "c'd"])
    expect(a.key).toBe(b.key)
    expect(c.key).toBe(a.key)
    expect(d.key).not.toBe(a.key)
  })
})
