/**
 * The SQL conformance corpus against Concord's SQL facade: one test per corpus file.
 * A file's test fails only on cases that fail and are not listed in known-failures.txt;
 * the failure message lists each such case with file:line, expected and actual.
 * The totals are printed as `concord: N passed, N failed`.
 * Iterate with `npx tsx test/conformance/run.ts` (README.md).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { runFile, type FileResult } from './case-runner.js'
import { concordTarget, FacadeUnavailableError, loadFacade } from './concord-target.js'
import { corpusFiles, KNOWN_FAILURES_FILE } from './corpus-files.js'
import { loadKnownFailures } from './known-failures.js'
import { failureDetail, summaryLine, tally } from './report.js'

const facade = await loadFacade().catch((err: unknown) => {
  if (err instanceof FacadeUnavailableError) return err
  throw err
})
const known = loadKnownFailures(KNOWN_FAILURES_FILE)
const results: FileResult[] = []

describe('SQL conformance corpus on Concord', () => {
  if (facade instanceof FacadeUnavailableError) {
    it.skip(`skipped: ${facade.message}`, () => {})
    return
  }
  const target = concordTarget(facade)

  afterAll(() => {
    if (results.length === 0) return
    const t = tally(results, known)
    console.log(`concord: ${summaryLine(t)}`)
    for (const id of t.nowPassing) console.log(`now passing, remove from known-failures.txt: ${id}`)
  })

  for (const file of corpusFiles()) {
    it(`${file.name} gives PostgreSQL's answers, except known failures`, async () => {
      const result = await runFile(target, file.path, file.name)
      results.push(result)
      const unexpected = result.results.filter((r) => r.status === 'fail' && !known.has(r.case.id))
      const t = tally([result], known)
      const message = [
        `${file.name}: ${summaryLine(t)}; ${unexpected.length} not in known-failures.txt:`,
        ...unexpected.map(failureDetail),
        '',
        'Failing ids (for known-failures.txt):',
        ...unexpected.map((r) => `${r.case.id}  # ${r.case.file}:${r.case.line}`),
      ].join('\n')
      expect(unexpected.length, message).toBe(0)
    })
  }
})
