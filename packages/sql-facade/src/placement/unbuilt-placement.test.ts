/**
 * Placement features not built yet fail loudly with a SQLSTATE (docs/compatibility.md,
 * "Regions and placement"), and nothing of them is stored.
 */
import { describe, expect, it } from 'vitest'
import { openDatabase } from '../database.js'
import { SqlState } from '../errors/sql-error.js'

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}

describe('placement features not built', () => {
  it('refuses setting home_region_column on an existing table; query_result_cache is empty on a node that read nothing from holders', async () => {
    const db = await openDatabase({ nodeId: 'n1', region: 'us-west' })
    await db.query('CREATE TABLE customers (id INT PRIMARY KEY, region TEXT)')
    expect(await codeOf(db.query("ALTER TABLE customers SET (home_region_column = 'region')"))).toBe(SqlState.featureNotSupported)
    // query_result_cache is built (pushdown-read.test.ts): a node that read nothing from holders lists nothing.
    expect((await db.query("SELECT * FROM query_result_cache WHERE node_id = 'nearest_node' LIMIT 100")).rows).toEqual([])
    await db.close()
  })
})
