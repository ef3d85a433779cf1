/**
 * The SQL conformance corpus against a real PostgreSQL server: proves every expectation
 * is PostgreSQL's real answer. Cases marked `differs` are judged by their `pg` line, or
 * not at all. Needs CONCORD_PG_URL (`export "$(.ci/postgres.sh)"`); skipped without it.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { runFile, type FileResult } from './case-runner.js'
import { corpusFiles } from './corpus-files.js'
import { postgresTarget } from './postgres-target.js'
import { failureDetail, summaryLine, tally } from './report.js'

const url = process.env.CONCORD_PG_URL
const results: FileResult[] = []

describe('SQL conformance corpus on PostgreSQL', () => {
  if (url === undefined || url === '') {
    it.skip('skipped: CONCORD_PG_URL is not set (run `export "$(.ci/postgres.sh)"` to start a local PostgreSQL)', () => {})
    return
  }
  const target = postgresTarget(url)

  afterAll(async () => {
    await target.dispose()
    if (results.length > 0) console.log(`postgres: ${summaryLine(tally(results))}`)
  })

  for (const file of corpusFiles()) {
    it(`PostgreSQL gives the expected answers in ${file.name}`, async () => {
      const result = await runFile(target, file.path, file.name)
      results.push(result)
      const failed = result.results.filter((r) => r.status === 'fail')
      const message = [`${file.name}: ${summaryLine(tally([result]))}`, ...failed.map(failureDetail)].join('\n')
      expect(failed.length, message).toBe(0)
    })
  }
})
