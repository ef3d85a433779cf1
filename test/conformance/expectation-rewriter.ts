/**
 * Rewrites a corpus file's expectations from what a target (PostgreSQL) answered: the
 * tool that makes the corpus PostgreSQL's real answers. Only expectations change, never
 * SQL or kinds of record; what cannot be rewritten (a `statement ok` that failed, a query
 * that raised an error, a `statement error` that succeeded) is reported for a human.
 * `differs` records are left alone: PostgreSQL is not their ground truth.
 */
import { headerFor, type ConformanceCase, type Expectation } from './case-file.js'
import type { CaseResult } from './case-runner.js'
import { resultLines } from './result-text.js'

export interface Rewrite {
  text: string
  changed: ConformanceCase[]
  unresolved: Array<{ case: ConformanceCase; reason: string }>
}

export function rewriteExpectations(text: string, results: CaseResult[]): Rewrite {
  const lines = text.split('\n')
  const changed: ConformanceCase[] = []
  const unresolved: Rewrite['unresolved'] = []
  // Bottom-up, so earlier line numbers stay valid while later blocks change length.
  const ordered = [...results].sort((a, b) => b.case.headerLine - a.case.headerLine)
  for (const r of ordered) {
    const c = r.case
    if (c.differs !== undefined || r.outcome === undefined || r.status === 'pass') continue
    const o = r.outcome
    const e = c.expect
    let next: Expectation | undefined
    let resultBlock: string[] | undefined
    if (e.kind === 'query') {
      if (o.kind === 'error') {
        unresolved.push({ case: c, reason: `query raised ${o.failure.sqlstate ?? '?'}: ${o.failure.message}` })
        continue
      }
      resultBlock = resultLines(o.result, e.sort, e.colnames)
    } else if (e.kind === 'count') {
      if (o.kind === 'error' || o.result.rowCount === null) {
        unresolved.push({ case: c, reason: o.kind === 'error' ? `raised ${o.failure.sqlstate ?? '?'}: ${o.failure.message}` : 'no row count' })
        continue
      }
      next = { kind: 'count', count: o.result.rowCount }
    } else if (e.kind === 'error') {
      if (o.kind === 'result' || o.failure.sqlstate === undefined) {
        unresolved.push({ case: c, reason: o.kind === 'result' ? 'statement succeeded' : `no SQLSTATE: ${o.failure.message}` })
        continue
      }
      const keep = e.message !== undefined && o.failure.message.includes(e.message)
      next = { kind: 'error', sqlstate: o.failure.sqlstate, ...(e.message !== undefined ? { message: keep ? e.message : o.failure.message } : {}) }
    } else {
      if (o.kind === 'error') unresolved.push({ case: c, reason: `raised ${o.failure.sqlstate ?? '?'}: ${o.failure.message}` })
      continue
    }
    if (resultBlock !== undefined) lines.splice(c.resultStart, c.resultEnd - c.resultStart, ...resultBlock)
    if (next !== undefined) lines[c.headerLine] = headerFor(next)
    changed.push(c)
  }
  changed.reverse()
  unresolved.reverse()
  return { text: lines.join('\n'), changed, unresolved }
}
