/**
 * Text reports of a conformance run: one line per case, details for failures, and the
 * summary line `N passed, N failed`.
 */
import type { CaseResult, FileResult } from './case-runner.js'

export interface Tally {
  passed: number
  failed: number
  knownFailed: number
  nowPassing: string[]
  skipped: number
  unchecked: number
}

export function tally(files: FileResult[], known: Set<string> = new Set()): Tally {
  const t: Tally = { passed: 0, failed: 0, knownFailed: 0, nowPassing: [], skipped: 0, unchecked: 0 }
  for (const f of files) {
    for (const r of f.results) {
      if (r.status === 'pass') {
        t.passed++
        if (known.has(r.case.id)) t.nowPassing.push(r.case.id)
      } else if (r.status === 'fail') {
        t.failed++
        if (known.has(r.case.id)) t.knownFailed++
      } else if (r.status === 'skip') t.skipped++
      else t.unchecked++
    }
  }
  return t
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n')
}

export function where(r: CaseResult): string {
  return `${r.case.file}:${r.case.line} [${r.case.id}]`
}

export function failureDetail(r: CaseResult): string {
  return [
    `FAIL ${where(r)}`,
    indent(r.case.sql, '    '),
    '  expected:',
    indent(r.expected ?? '', '    '),
    '  actual:',
    indent(r.actual ?? '', '    '),
  ].join('\n')
}

export function caseLine(r: CaseResult, known: Set<string>): string {
  switch (r.status) {
    case 'pass':
      return `ok   ${where(r)}`
    case 'skip':
      return `skip ${where(r)}`
    case 'unchecked':
      return `---- ${where(r)} (differs from PostgreSQL: not judged)`
    case 'fail':
      return known.has(r.case.id) ? `${failureDetail(r)}\n  (listed in known-failures.txt)` : failureDetail(r)
  }
}

export function summaryLine(t: Tally): string {
  const parts = [`${t.passed} passed, ${t.failed} failed`]
  if (t.knownFailed > 0) parts.push(`${t.knownFailed} of them known failures`)
  if (t.skipped > 0) parts.push(`${t.skipped} skipped`)
  if (t.unchecked > 0) parts.push(`${t.unchecked} not judged`)
  return parts.join(', ')
}
