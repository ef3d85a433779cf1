import { beforeAll, describe, expect, it } from 'vitest'
import { literalTemplateHits, loadParser, parseScript } from './parse.js'
import { hashText } from './text-cache.js'

beforeAll(() => loadParser())

describe('parseScript', () => {
  it('caches a text answered from a literal template only the second time the text comes', () => {
    const text = (k: number) => `SELECT v FROM parse_cache_probe WHERE k = ${k}`
    // The shape's first two texts are parsed (the second builds its template); each is cached by its text.
    const one = parseScript(text(1))
    parseScript(text(2))
    expect(parseScript(text(1))).toBe(one)
    const hits = literalTemplateHits()
    const first = parseScript(text(3))
    expect(literalTemplateHits()).toBe(hits + 1)
    const second = parseScript(text(3))
    expect(literalTemplateHits()).toBe(hits + 2)
    expect(second).not.toBe(first)
    expect(second).toEqual(first)
    // From the second sighting on, the text's own tree: no template copy.
    expect(parseScript(text(3))).toBe(second)
    expect(literalTemplateHits()).toBe(hits + 2)
  })

  it('keeps a cached tree when a text seen once lands in its slot', () => {
    const text = (k: number) => `SELECT v FROM parse_cache_slot_probe WHERE k = ${k}`
    parseScript(text(1))
    parseScript(text(2))
    // Two texts of the shape in one slot of the cache's 1,024.
    const slot = (k: number) => hashText(text(k)) & 1023
    let rival = 4
    while (slot(rival) !== slot(3)) rival++
    parseScript(text(3))
    const cached = parseScript(text(3))
    const hits = literalTemplateHits()
    parseScript(text(rival))
    expect(literalTemplateHits()).toBe(hits + 1)
    // The one-off text left only a mark: the slot's tree is still the one answered.
    expect(parseScript(text(3))).toBe(cached)
    expect(literalTemplateHits()).toBe(hits + 1)
    // Seen a second time, the rival's tree takes the slot.
    const second = parseScript(text(rival))
    expect(parseScript(text(rival))).toBe(second)
    expect(parseScript(text(3))).not.toBe(cached)
  })

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

  it('recognizes the member list statements and a member\'s role', () => {
    const id = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
    const [add, token, alter, remove] = parseScript(
      `ALTER SYSTEM ADD NODE '${id}' WITH (ROLE = admin); ALTER SYSTEM ADD NODE '${id}' WITH JOIN TOKEN 't'; ALTER SYSTEM ALTER NODE '${id}' WITH (role = 'member'); ALTER SYSTEM REMOVE NODE '${id}'`,
    )
    expect(add).toMatchObject({ kind: 'clusterNode', action: 'add', peerId: id, right: 'admin', joinToken: null })
    expect(token).toMatchObject({ kind: 'clusterNode', action: 'add', right: null, joinToken: 't' })
    expect(alter).toMatchObject({ kind: 'clusterNode', action: 'alter', right: 'member' })
    expect(remove).toMatchObject({ kind: 'clusterNode', action: 'remove', right: null })
    expect(() => parseScript(`ALTER SYSTEM ALTER NODE '${id}'`)).toThrow(expect.objectContaining({ code: '42601' }))
    expect(() => parseScript(`ALTER SYSTEM REMOVE NODE '${id}' WITH (ROLE = admin)`)).toThrow(expect.objectContaining({ code: '42601' }))
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

  it('splits only at semicolons outside strings, identifiers, dollar bodies and comments', () => {
    const script = [
      "SELECT E'it\\'s; fine', 'a''b;c'",
      'SELECT 1 AS ";x"',
      'SELECT $tag$ ; $$ ; $tag$',
      'SELECT $$;$$ /* a /* nested; */ comment; */',
      'SELECT 2 -- trailing; comment\n + 1',
      '   ',
      '/* only a comment; */',
    ].join(';\n')
    const stmts = parseScript(script)
    expect(stmts.map((s) => s.text)).toEqual([
      "SELECT E'it\\'s; fine', 'a''b;c'",
      'SELECT 1 AS ";x"',
      'SELECT $tag$ ; $$ ; $tag$',
      'SELECT $$;$$ /* a /* nested; */ comment; */',
      'SELECT 2 -- trailing; comment\n + 1',
    ])
  })

  it('refuses statements nested past the limit with 54001 before the parser sees them', () => {
    expect(() => parseScript('SELECT ' + new Array(5000).fill('1').join('+'))).toThrow(expect.objectContaining({ code: '54001' }))
    expect(() => parseScript('SELECT ' + '('.repeat(3000) + '1' + ')'.repeat(3000))).toThrow(expect.objectContaining({ code: '54001' }))
    // Wide is not deep: long lists, AND chains and many rows stay within the limit.
    const wide = 'SELECT 1 IN (' + Array.from({ length: 5000 }, (_, i) => i).join(',') + ') AND ' + new Array(3000).fill('a = 1').join(' AND ')
    expect(parseScript(wide)).toHaveLength(1)
    expect(parseScript('VALUES ' + new Array(5000).fill('(1 + 2, 3)').join(','))).toHaveLength(1)
  })
})
