import { describe, expect, it } from 'vitest'
import { parseSync } from 'libpg-query'
import { freshParser } from './parser-reload.js'

describe('fresh parser instances', () => {
  it('a fresh instance is another WASM module that parses', async () => {
    const fresh = await freshParser()
    expect(fresh.parseSync).not.toBe(parseSync)
    const tree = fresh.parseSync('SELECT 1 AS one') as { stmts: unknown[] }
    expect(tree.stmts).toHaveLength(1)
    const again = await freshParser()
    expect(again.parseSync).not.toBe(fresh.parseSync)
    // The first one keeps working until nothing uses it.
    expect((fresh.parseSync('SELECT 2') as { stmts: unknown[] }).stmts).toHaveLength(1)
  })
})
