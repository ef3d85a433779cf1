/**
 * Parser of the conformance corpus format (`corpus/*.slt`, described in README.md).
 *
 * A file is a sequence of records separated by blank lines. A record is optional
 * modifier lines (`differs`, `pg`, `onlyif`, `skipif`), a header line (`statement ok`,
 * `statement count N`, `statement error SQLSTATE [text]`, `query [sort] [colnames]`),
 * the SQL text, and for a query `----` followed by the expected rows.
 *
 * Invariants kept for the runner and the rewriter: every record knows the 1-based line
 * of its header and the exact line range of its expectation (header line and result
 * block), and every case id is unique within its file.
 */
import { createHash } from 'node:crypto'

export type TargetName = 'concord' | 'postgres'

export const TARGET_NAMES: readonly TargetName[] = ['concord', 'postgres']

export type SortMode = 'nosort' | 'rowsort'

/** What running a statement must produce. */
export type Expectation =
  | { kind: 'ok' }
  | { kind: 'count'; count: number }
  | { kind: 'error'; sqlstate: string; message?: string }
  | { kind: 'query'; sort: SortMode; colnames: boolean; lines: string[] }

export interface ConformanceCase {
  /** Stable id: `<file stem>:<8 hex of the SQL's hash>`, `.N` appended for the Nth repeat. */
  id: string
  /** File path as given to the parser (used in reports as `file:line`). */
  file: string
  /** 1-based line of the record's header. */
  line: number
  sql: string
  expect: Expectation
  /** Set when Concord differs from PostgreSQL on purpose: the reason. */
  differs?: string
  /** With `differs`: what PostgreSQL does instead (checked against PostgreSQL). */
  pgExpect?: Exclude<Expectation, { kind: 'query' }>
  /** Targets the record runs on (from `onlyif` / `skipif`). */
  targets: TargetName[]
  /** 0-based line range [start, end) of the header line, for rewriting. */
  headerLine: number
  /** 0-based line range [start, end) of the expected rows after `----` (query only). */
  resultStart: number
  resultEnd: number
}

export class CaseFileError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`)
    this.name = 'CaseFileError'
  }
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/** Limits: a record or a file beyond these is a mistake, not a test. */
const MAX_RECORD_LINES = 2_000
const MAX_FILE_CASES = 5_000

export function parseStatementHeader(
  words: string[],
  rest: string,
  where: () => never,
): Exclude<Expectation, { kind: 'query' }> {
  // words[0] is 'statement' (or 'pg' with the same grammar after it)
  const kind = words[1]
  if (kind === 'ok' && words.length === 2) return { kind: 'ok' }
  if (kind === 'count' && words.length === 3 && /^\d+$/.test(words[2] ?? '')) {
    return { kind: 'count', count: Number(words[2]) }
  }
  if (kind === 'error' && words.length >= 3 && SQLSTATE.test(words[2] ?? '')) {
    const message = rest.trim()
    return message === '' ? { kind: 'error', sqlstate: words[2]! } : { kind: 'error', sqlstate: words[2]!, message }
  }
  return where()
}

/** Splits `a b c rest of line` into its first `n` words and the remainder. */
function splitWords(line: string, n: number): { words: string[]; rest: string } {
  const words: string[] = []
  let i = 0
  while (words.length < n) {
    while (i < line.length && line[i] === ' ') i++
    if (i >= line.length) break
    const start = i
    while (i < line.length && line[i] !== ' ') i++
    words.push(line.slice(start, i))
  }
  return { words, rest: line.slice(i) }
}

export function caseIdFor(fileStem: string, sql: string, seen: Map<string, number>): string {
  const normalized = sql.replace(/\s+/g, ' ').trim()
  const hash = createHash('sha1').update(normalized).digest('hex').slice(0, 8)
  const base = `${fileStem}:${hash}`
  const n = (seen.get(base) ?? 0) + 1
  seen.set(base, n)
  return n === 1 ? base : `${base}.${n}`
}

export function fileStem(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file
  return base.replace(/\.slt$/, '')
}

/** Parses one corpus file's text. `file` is used for ids and messages only. */
export function parseCaseFile(file: string, text: string): ConformanceCase[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
  const cases: ConformanceCase[] = []
  const seen = new Map<string, number>()
  const stem = fileStem(file)
  let i = 0

  while (i < lines.length) {
    const line = lines[i]!
    if (line.trim() === '' || line.startsWith('#')) {
      i++
      continue
    }

    // Modifiers, then the header.
    let differs: string | undefined
    let pgExpect: ConformanceCase['pgExpect']
    let targets: TargetName[] = [...TARGET_NAMES]
    const recordStart = i
    for (;;) {
      const cur = lines[i]
      if (cur === undefined || cur.trim() === '') {
        throw new CaseFileError(file, recordStart + 1, 'record has modifiers but no statement or query')
      }
      const fail = (): never => {
        throw new CaseFileError(file, i + 1, `cannot parse line: ${cur}`)
      }
      const { words, rest } = splitWords(cur, 1)
      const head = words[0]
      if (head === 'differs') {
        const reason = rest.trim()
        if (reason === '') throw new CaseFileError(file, i + 1, '`differs` needs a reason')
        differs = reason
      } else if (head === 'pg') {
        const w = splitWords(cur, 3)
        pgExpect = parseStatementHeader(['pg', ...w.words.slice(1)], w.rest, fail)
      } else if (head === 'onlyif' || head === 'skipif') {
        const t = rest.trim() as TargetName
        if (!TARGET_NAMES.includes(t)) throw new CaseFileError(file, i + 1, `unknown target '${rest.trim()}'`)
        targets = head === 'onlyif' ? targets.filter((x) => x === t) : targets.filter((x) => x !== t)
      } else if (head === 'statement' || head === 'query') {
        break
      } else {
        fail()
      }
      i++
    }
    if (pgExpect !== undefined && differs === undefined) {
      throw new CaseFileError(file, i + 1, '`pg` is only meaningful with `differs`')
    }

    const headerIndex = i
    const headerText = lines[i]!
    const fail = (): never => {
      throw new CaseFileError(file, headerIndex + 1, `cannot parse header: ${headerText}`)
    }
    let expect: Expectation
    const isQuery = headerText.startsWith('query')
    if (isQuery) {
      const { words } = splitWords(headerText, 10)
      let sort: SortMode = 'nosort'
      let colnames = false
      for (const w of words.slice(1)) {
        if (w === 'nosort' || w === 'rowsort') sort = w
        else if (w === 'colnames') colnames = true
        else fail()
      }
      expect = { kind: 'query', sort, colnames, lines: [] }
    } else {
      const { words, rest } = splitWords(headerText, 3)
      expect = parseStatementHeader(words, rest, fail)
    }
    i++

    const sqlLines: string[] = []
    while (i < lines.length && lines[i]!.trim() !== '' && !(isQuery && lines[i] === '----')) {
      sqlLines.push(lines[i]!)
      i++
      if (sqlLines.length > MAX_RECORD_LINES) throw new CaseFileError(file, headerIndex + 1, 'record too long')
    }
    const sql = sqlLines.join('\n').trim()
    if (sql === '') throw new CaseFileError(file, headerIndex + 1, 'record has no SQL')

    let resultStart = i
    let resultEnd = i
    if (expect.kind === 'query') {
      if (lines[i] !== '----') throw new CaseFileError(file, headerIndex + 1, 'query needs a `----` line after its SQL')
      i++
      resultStart = i
      while (i < lines.length && lines[i]!.trim() !== '') {
        expect.lines.push(lines[i]!)
        i++
      }
      resultEnd = i
    }

    cases.push({
      id: caseIdFor(stem, sql, seen),
      file,
      line: headerIndex + 1,
      sql,
      expect,
      ...(differs !== undefined ? { differs } : {}),
      ...(pgExpect !== undefined ? { pgExpect } : {}),
      targets,
      headerLine: headerIndex,
      resultStart,
      resultEnd,
    })
    if (cases.length > MAX_FILE_CASES) throw new CaseFileError(file, headerIndex + 1, 'too many cases in one file')
  }
  return cases
}

/** The header line that states an expectation (inverse of the header parser). */
export function headerFor(expect: Expectation): string {
  switch (expect.kind) {
    case 'ok':
      return 'statement ok'
    case 'count':
      return `statement count ${expect.count}`
    case 'error':
      return `statement error ${expect.sqlstate}${expect.message !== undefined ? ` ${expect.message}` : ''}`
    case 'query': {
      const words = ['query']
      if (expect.sort !== 'nosort') words.push(expect.sort)
      if (expect.colnames) words.push('colnames')
      return words.join(' ')
    }
  }
}
