import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CaseFileError, parseCaseFile } from './case-file.js'
import { judge } from './case-runner.js'
import { corpusFiles, KNOWN_FAILURES_FILE } from './corpus-files.js'
import { rewriteExpectations } from './expectation-rewriter.js'
import { loadKnownFailures, parseKnownFailures } from './known-failures.js'
import { encodeCell, resultLines } from './result-text.js'

const SAMPLE = `# comment
statement ok
CREATE TABLE t (a INT)

statement count 2
INSERT INTO t
VALUES (1), (2)

statement error 42704 unrecognized configuration parameter "x"
SET x = 1

differs reason here
pg error 0A000
onlyif concord
query rowsort colnames
SELECT a FROM t
----
a
2
1

query
SELECT a FROM t WHERE false
----
`

describe('corpus format parser', () => {
  it('parses every kind of record with its line numbers and modifiers', () => {
    const cases = parseCaseFile('sample.slt', SAMPLE)
    expect(cases.map((c) => [c.line, c.expect.kind])).toEqual([
      [2, 'ok'],
      [5, 'count'],
      [9, 'error'],
      [15, 'query'],
      [22, 'query'],
    ])
    expect(cases[1]!.sql).toBe('INSERT INTO t\nVALUES (1), (2)')
    expect(cases[1]!.expect).toEqual({ kind: 'count', count: 2 })
    expect(cases[2]!.expect).toEqual({ kind: 'error', sqlstate: '42704', message: 'unrecognized configuration parameter "x"' })
    const q = cases[3]!
    expect(q.differs).toBe('reason here')
    expect(q.pgExpect).toEqual({ kind: 'error', sqlstate: '0A000' })
    expect(q.targets).toEqual(['concord'])
    expect(q.expect).toEqual({ kind: 'query', sort: 'rowsort', colnames: true, lines: ['a', '2', '1'] })
    expect(cases[4]!.expect).toEqual({ kind: 'query', sort: 'nosort', colnames: false, lines: [] })
  })

  it('gives stable ids from the SQL, numbering repeats', () => {
    const text = 'statement ok\nSELECT 1\n\nstatement ok\nSELECT  1\n\nstatement ok\nSELECT 2\n'
    const ids = parseCaseFile('dir/x.slt', text).map((c) => c.id)
    expect(ids[0]).toMatch(/^x:[0-9a-f]{8}$/)
    expect(ids[1]).toBe(`${ids[0]}.2`)
    expect(ids[2]).not.toBe(ids[0])
    const shifted = parseCaseFile('dir/x.slt', `statement ok\nSELECT 0\n\n${text}`).map((c) => c.id)
    expect(shifted.slice(1)).toEqual(ids)
  })

  it('rejects malformed records with file:line', () => {
    expect(() => parseCaseFile('f.slt', 'statment ok\nSELECT 1\n')).toThrow(CaseFileError)
    expect(() => parseCaseFile('f.slt', 'query\nSELECT 1\n')).toThrow(/f\.slt:1: query needs a `----` line/)
    expect(() => parseCaseFile('f.slt', 'statement error 123\nSELECT 1\n')).toThrow(/cannot parse header/)
    expect(() => parseCaseFile('f.slt', 'pg ok\nstatement ok\nSELECT 1\n')).toThrow(/only meaningful with `differs`/)
    expect(() => parseCaseFile('f.slt', 'statement ok\n\n')).toThrow(/no SQL/)
  })
})

describe('result text', () => {
  it('escapes values so that every row is one unambiguous line', () => {
    expect(encodeCell(null)).toBe('NULL')
    expect(encodeCell('')).toBe('(empty)')
    expect(encodeCell('NULL')).toBe('\\NULL')
    expect(encodeCell('a|b\nc\\d\te')).toBe('a\\|b\\nc\\\\d\\te')
    const r = { rowCount: 2, columns: ['x', 'y'], rows: [['b', null], ['a', '']] }
    expect(resultLines(r, 'rowsort', true)).toEqual(['x|y', 'a|(empty)', 'b|NULL'])
    expect(resultLines(r, 'nosort', false)).toEqual(['b|NULL', 'a|(empty)'])
  })

  it('judges rows in order for nosort and as a multiset for rowsort', () => {
    const outcome = { kind: 'result' as const, result: { rowCount: 2, columns: ['x'], rows: [['2'], ['1']] } }
    expect(judge({ kind: 'query', sort: 'nosort', colnames: false, lines: ['1', '2'] }, outcome)).toBe('wrong rows')
    expect(judge({ kind: 'query', sort: 'rowsort', colnames: false, lines: ['1', '2'] }, outcome)).toBeUndefined()
    expect(judge({ kind: 'count', count: 2 }, outcome)).toBeUndefined()
    const failed = { kind: 'error' as const, failure: { sqlstate: '23505', message: 'duplicate key value' } }
    expect(judge({ kind: 'error', sqlstate: '23505', message: 'duplicate' }, failed)).toBeUndefined()
    expect(judge({ kind: 'error', sqlstate: '23502' }, failed)).toBe('wrong SQLSTATE')
    expect(judge({ kind: 'ok' }, failed)).toBe('statement failed')
  })
})

describe('expectation rewriter', () => {
  it('replaces expectations with the answers given, bottom-up, leaving differs alone', () => {
    const text = 'query\nSELECT 1\n----\n\nstatement error XXXXX\nSELECT x\n\ndiffers why\nstatement count 9\nDELETE FROM t\n'
    const cases = parseCaseFile('r.slt', text)
    const results = [
      { case: cases[0]!, status: 'fail' as const, outcome: { kind: 'result' as const, result: { rowCount: 2, columns: ['a'], rows: [['1'], ['2']] } } },
      { case: cases[1]!, status: 'fail' as const, outcome: { kind: 'error' as const, failure: { sqlstate: '42703', message: 'no x' } } },
      { case: cases[2]!, status: 'unchecked' as const, outcome: { kind: 'result' as const, result: { rowCount: 0, columns: [], rows: [] } } },
    ]
    const rw = rewriteExpectations(text, results)
    expect(rw.text).toBe('query\nSELECT 1\n----\n1\n2\n\nstatement error 42703\nSELECT x\n\ndiffers why\nstatement count 9\nDELETE FROM t\n')
    expect(rw.changed.length).toBe(2)
  })
})

describe('the corpus', () => {
  const files = corpusFiles()

  it('has files, each parsing, with unique ids', () => {
    expect(files.length).toBeGreaterThan(0)
    const ids = new Set<string>()
    for (const f of files) {
      for (const c of parseCaseFile(f.name, readFileSync(f.path, 'utf8'))) {
        expect(ids.has(c.id), `duplicate id ${c.id}`).toBe(false)
        ids.add(c.id)
      }
    }
  })

  it('has no line ending in whitespace (editors strip it, changing expectations)', () => {
    for (const f of files) {
      readFileSync(f.path, 'utf8')
        .split('\n')
        .forEach((line, i) => expect(/[ \t]$/.test(line), `${f.name}:${i + 1} ends with whitespace`).toBe(false))
    }
  })

  it('lists in known-failures.txt only ids that exist', () => {
    const all = new Set(files.flatMap((f) => parseCaseFile(f.name, readFileSync(f.path, 'utf8')).map((c) => c.id)))
    const stale = [...loadKnownFailures(KNOWN_FAILURES_FILE)].filter((id) => !all.has(id))
    expect(stale, 'ids in known-failures.txt that match no case').toEqual([])
    expect([...parseKnownFailures('a:1  # why\n\n# c\nb:2\n')]).toEqual(['a:1', 'b:2'])
  })
})
