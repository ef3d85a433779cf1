import { describe, expect, it } from 'vitest'
import type { Json } from '@concord/core'
import { CommittedSearchPaths } from './search-path.js'
import type { SchemaSource } from './schema-def.js'

/** A catalog holding the schemas named, whose lookups are counted. */
function catalog(schemas: string[]): SchemaSource & { lookups: number; schemas: string[] } {
  const source = {
    lookups: 0,
    schemas,
    getCatalog(kind: string, name: string): Json | undefined {
      source.lookups++
      return kind === 'schema' && source.schemas.includes(name) ? { name, owner: 'concord' } : undefined
    },
    listCatalog(): Array<[string, Json]> {
      return []
    },
  }
  return source
}

describe('CommittedSearchPaths', () => {
  it('resolves a path once per role and value while the catalog version holds, "$user" by the role', () => {
    const source = catalog(['alice'])
    let version = 1
    const paths = new CommittedSearchPaths(source, () => version)
    const alice = paths.get('"$user", public', 'alice')
    expect(alice.schemas).toEqual(['alice', 'public'])
    expect(alice.creation).toBe('alice')
    expect(paths.get('"$user", public', 'bob').schemas).toEqual(['public'])
    const looked = source.lookups
    // The same role and value again: the path kept, nothing looked up.
    expect(paths.get('"$user", public', 'alice')).toBe(alice)
    expect(paths.get('"$user", public', 'bob').creation).toBe('public')
    expect(source.lookups).toBe(looked)
    // A catalog change (bob's schema created) is seen at the next version.
    source.schemas.push('bob')
    expect(paths.get('"$user", public', 'bob').schemas).toEqual(['public'])
    version++
    expect(paths.get('"$user", public', 'bob').schemas).toEqual(['bob', 'public'])
    expect(Object.isFrozen(alice) && Object.isFrozen(alice.schemas)).toBe(true)
  })

  it('holds a bounded number of paths, however many values and roles it is asked for', () => {
    const source = catalog([])
    const paths = new CommittedSearchPaths(source, () => 1)
    const first = paths.get('public', 'r0')
    for (let i = 0; i < 500; i++) expect(paths.get(`s${i}, public`, `r${i % 7}`).schemas).toEqual(['public'])
    // Started again past its bound: the first path is resolved anew (an equal, new object).
    const again = paths.get('public', 'r0')
    expect(again).toEqual(first)
    expect(again).not.toBe(first)
  })
})
