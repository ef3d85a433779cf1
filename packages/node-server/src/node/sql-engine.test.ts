import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqlEngine, type SqlEngine } from './sql-engine.js'

let engine: SqlEngine

beforeAll(async () => {
  engine = await openSqlEngine({ nodeId: 'sql-engine-prepared', region: 'r1', offload: null })
})
afterAll(async () => {
  await engine.close()
})

describe("a session's prepared statements", () => {
  it('run, and are described, in the session that prepared them and in no other', async () => {
    const a = engine.session()
    const b = engine.session()
    try {
      const q = await a.prepare('SELECT $1::int + 1 AS n', [])
      expect([...q.paramTypes]).toEqual([23])
      expect((await a.describe(q))?.map((f) => f.name)).toEqual(['n'])
      expect((await a.execute(q, ['41']))?.rows).toEqual([['42']])
      // Sync-path forms answer the same.
      const now = a.prepareNow!('SELECT $1::text AS t', [])!
      expect(await a.executeNow!(now, ['x'])).toMatchObject({ rows: [['x']] })
      // Another session's statement, or a look-alike object, is refused.
      await expect(b.execute(q, ['1'])).rejects.toThrow('a prepared query this session did not prepare')
      await expect(b.describe(q)).rejects.toThrow('a prepared query this session did not prepare')
      await expect(a.execute({ paramTypes: [23] }, ['1'])).rejects.toThrow('a prepared query this session did not prepare')
    } finally {
      await a.close?.()
      await b.close?.()
    }
  })
})
