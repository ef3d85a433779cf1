/**
 * Runs the cases of one corpus file, in order, in one fresh session of a target, and
 * judges each against its expectation.
 *
 * Every record runs on every target it is not excluded from (`onlyif`/`skipif`), even
 * when its result is not judged, because later records depend on the state it leaves.
 * On PostgreSQL a `differs` record is judged against its `pg` line, or not at all.
 */
import { readFile } from 'node:fs/promises'
import { parseCaseFile, type ConformanceCase, type Expectation } from './case-file.js'
import { failureOf, type SqlFailure, type Target } from './executor.js'
import { resultLines, sortExpected, type TextResult } from './result-text.js'

export type Outcome = { kind: 'result'; result: TextResult } | { kind: 'error'; failure: SqlFailure }

export type CaseStatus = 'pass' | 'fail' | 'skip' | 'unchecked'

export interface CaseResult {
  case: ConformanceCase
  /** skip: not run on this target; unchecked: run, but the target's answer is not judged. */
  status: CaseStatus
  /** What was expected and what happened, as text for reports (only for `fail`). */
  expected?: string
  actual?: string
  /** What the target did, when the case ran. */
  outcome?: Outcome
}

export interface FileResult {
  file: string
  results: CaseResult[]
}

function describeExpectation(expect: Expectation): string {
  switch (expect.kind) {
    case 'ok':
      return 'statement ok'
    case 'count':
      return `statement ok, ${expect.count} rows affected`
    case 'error':
      return `error ${expect.sqlstate}${expect.message !== undefined ? ` containing "${expect.message}"` : ''}`
    case 'query':
      return sortExpected(expect.lines, expect.sort, expect.colnames).join('\n') || '(no rows)'
  }
}

function describeOutcome(outcome: Outcome, expect: Expectation): string {
  if (outcome.kind === 'error') {
    return `error ${outcome.failure.sqlstate ?? '(no SQLSTATE)'}: ${outcome.failure.message}`
  }
  const r = outcome.result
  if (expect.kind === 'query') return resultLines(r, expect.sort, expect.colnames).join('\n') || '(no rows)'
  const tag = r.command !== undefined ? `${r.command} ` : ''
  return `ok (${tag}${r.rowCount ?? '?'} rows${r.columns.length > 0 ? `, columns ${r.columns.join(', ')}` : ''})`
}

/** Whether `outcome` meets `expect`; a reason string when it does not. */
export function judge(expect: Expectation, outcome: Outcome): string | undefined {
  switch (expect.kind) {
    case 'ok':
      return outcome.kind === 'result' ? undefined : 'statement failed'
    case 'count':
      if (outcome.kind !== 'result') return 'statement failed'
      return outcome.result.rowCount === expect.count ? undefined : 'wrong row count'
    case 'error':
      if (outcome.kind !== 'error') return 'statement succeeded'
      if (outcome.failure.sqlstate !== expect.sqlstate) return 'wrong SQLSTATE'
      if (expect.message !== undefined && !outcome.failure.message.includes(expect.message)) return 'wrong message'
      return undefined
    case 'query': {
      if (outcome.kind !== 'result') return 'query failed'
      const actual = resultLines(outcome.result, expect.sort, expect.colnames)
      const expected = sortExpected(expect.lines, expect.sort, expect.colnames)
      if (actual.length !== expected.length) return 'wrong number of rows'
      for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return 'wrong rows'
      return undefined
    }
  }
}

/**
 * Checks the corpus itself against PostgreSQL: a query must name its columns uniquely,
 * because Concord's API returns rows as objects keyed by column name.
 */
function lintOnPostgres(c: ConformanceCase, outcome: Outcome): string | undefined {
  if (c.expect.kind !== 'query' || outcome.kind !== 'result') return undefined
  const cols = outcome.result.columns
  const dup = cols.find((name, i) => cols.indexOf(name) !== i)
  return dup !== undefined ? `corpus lint: duplicate column name "${dup}" (alias the columns)` : undefined
}

async function runOne(execute: (sql: string) => Promise<TextResult>, sql: string): Promise<Outcome> {
  try {
    return { kind: 'result', result: await execute(sql) }
  } catch (err) {
    return { kind: 'error', failure: failureOf(err) }
  }
}

export async function runCases(target: Target, file: string, cases: ConformanceCase[]): Promise<FileResult> {
  const results: CaseResult[] = []
  let session
  try {
    session = await target.openSession(file)
  } catch (err) {
    const f = failureOf(err)
    for (const c of cases) {
      results.push({ case: c, status: 'fail', expected: describeExpectation(c.expect), actual: `could not open a database: ${f.message}` })
    }
    return { file, results }
  }
  try {
    for (const c of cases) {
      if (!c.targets.includes(target.name)) {
        results.push({ case: c, status: 'skip' })
        continue
      }
      const outcome = await runOne(session.execute, c.sql)
      let expect: Expectation | undefined = c.expect
      if (target.name === 'postgres' && c.differs !== undefined) expect = c.pgExpect
      if (expect === undefined) {
        results.push({ case: c, status: 'unchecked', outcome })
        continue
      }
      const problem = judge(expect, outcome) ?? (target.name === 'postgres' ? lintOnPostgres(c, outcome) : undefined)
      if (problem === undefined) {
        results.push({ case: c, status: 'pass', outcome })
      } else {
        results.push({
          case: c,
          status: 'fail',
          expected: describeExpectation(expect),
          actual: `${describeOutcome(outcome, expect)}${problem.startsWith('corpus lint') ? `\n${problem}` : ''}`,
          outcome,
        })
      }
    }
  } finally {
    await session.close().catch(() => {})
  }
  return { file, results }
}

export async function runFile(target: Target, path: string, displayName = path): Promise<FileResult> {
  const text = await readFile(path, 'utf8')
  return runCases(target, displayName, parseCaseFile(displayName, text))
}
