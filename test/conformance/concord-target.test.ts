import { describe, expect, it } from 'vitest'
import { parseCaseFile } from './case-file.js'
import { runCases } from './case-runner.js'
import { concordTarget } from './concord-target.js'

/** A stand-in for the facade: answers two statements, fails the rest with 42P01. */
function fakeFacade(log: string[]) {
  return {
    async openDatabase(options: { nodeId: string; region: string }) {
      log.push(`open ${options.nodeId} ${options.region}`)
      return {
        async query(sql: string) {
          if (sql === 'SELECT 1 AS a, true AS b') {
            return { command: 'SELECT', rowCount: 1, fields: [{ name: 'a', type: 'int4' }, { name: 'b', type: 'bool' }], rows: [{ a: 1, b: true }] }
          }
          if (sql.startsWith('INSERT')) return { command: 'INSERT', rowCount: 2, fields: [], rows: [] }
          throw Object.assign(new Error(`relation does not exist: ${sql}`), { code: '42P01' })
        },
        async close() {
          log.push('close')
        },
      }
    },
  }
}

describe('Concord target', () => {
  it('runs a file in a fresh database, judging rows, counts and SQLSTATEs', async () => {
    const log: string[] = []
    const text = [
      'query colnames', 'SELECT 1 AS a, true AS b', '----', 'a|b', '1|t', '',
      'statement count 2', 'INSERT INTO t VALUES (1), (2)', '',
      'statement error 42P01', 'SELECT * FROM nosuch', '',
      'query', 'SELECT * FROM nosuch', '----', '1', '',
      'onlyif postgres', 'statement ok', 'SELECT pg_only()', '',
    ].join('\n')
    const result = await runCases(concordTarget(fakeFacade(log)), 'f.slt', parseCaseFile('f.slt', text))
    expect(result.results.map((r) => r.status)).toEqual(['pass', 'pass', 'pass', 'fail', 'skip'])
    expect(result.results[3]!.actual).toMatch(/^error 42P01: relation does not exist/)
    expect(log).toEqual(['open n1 us-west', 'close'])
  })
})
