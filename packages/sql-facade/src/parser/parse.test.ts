import { beforeAll, describe, expect, it } from 'vitest'
import { loadParser, parseScript } from './parse.js'

beforeAll(() => loadParser())

describe('parseScript', () => {
  it('splits statements on the scanner, not inside strings or function bodies', () => {
    const stmts = parseScript("SELECT 'a;b'; CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE SQL; -- done;\n")
    expect(stmts.map((s) => s.kind)).toEqual(['pg', 'pg'])
  })

  it('recognizes the extension statements', () => {
    const [region, backup, restore, rebalance] = parseScript(
      "CREATE REGION 'us-west' WITH (PRIMARY, REPLICA); BACKUP DATABASE TO 's3://b/p'; RESTORE DATABASE FROM 'file:///x'; ALTER TABLE orders REBALANCE SHARDS",
    )
    expect(region).toMatchObject({ kind: 'createRegion', name: 'us-west', roles: ['primary', 'replica'] })
    expect(backup).toMatchObject({ kind: 'backup', target: 's3://b/p' })
    expect(restore).toMatchObject({ kind: 'restore', source: 'file:///x' })
    expect(rebalance).toMatchObject({ kind: 'rebalance', table: 'orders' })
  })

  it('accepts ANY as a function argument and result type', () => {
    const [s] = parseScript('CREATE FUNCTION resolve_conflict(v1 ANY, v2 ANY) RETURNS ANY AS $$ SELECT v1 $$ LANGUAGE SQL')
    expect(s!.kind).toBe('pg')
    expect(JSON.stringify(s)).toContain('anyelement')
  })

  it('reports syntax errors with SQLSTATE 42601 and a position', () => {
    expect(() => parseScript('SELEC 1')).toThrow(expect.objectContaining({ code: '42601', position: 1 }))
    expect(() => parseScript("CREATE REGION WITH (x)")).toThrow(expect.objectContaining({ code: '42601' }))
  })
})
