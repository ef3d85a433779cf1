import { describe, expect, it } from 'vitest'
import type { Row, RowChange } from '../types.js'
import { CatalogLists } from './catalog-lists.js'

/** A catalog held as rows, with its version moved as `CatalogView.onCatalogRows` moves it. */
function catalog(): { lists: CatalogLists; set(kind: string, name: string, value: string | null, feed?: boolean): void } {
  const rows = new Map<string, Row>()
  let version = 0
  const lists = new CatalogLists(
    () => version,
    () => rows.values(),
  )
  return {
    lists,
    set(kind, name, value, feed = true) {
      const key = `${kind}/${name}`
      const before = rows.get(key) ?? null
      const after = value === null ? null : { kind, name, value }
      if (after === null) rows.delete(key)
      else rows.set(key, after)
      const change: RowChange = { table: '$catalog', key, before, after, origin: 'remote' }
      if (feed) lists.note([change])
      version++
    },
  }
}

describe('catalog lists', () => {
  it('fed changes list what a scan of the catalog lists, and move only their kind', () => {
    const c = catalog()
    c.set('member', 'b', '{"region":"x"}')
    expect(c.lists.list('member')).toEqual([['b', { region: 'x' }]])
    const joined = c.lists.version('joined')
    const members = c.lists.version('member')
    c.set('member', 'a', '{"region":"y"}')
    c.set('member', 'b', '{"region":"z"}')
    c.set('member', 'c', 'not json')
    expect(c.lists.list('member')).toEqual([
      ['a', { region: 'y' }],
      ['b', { region: 'z' }],
    ])
    expect(c.lists.get('member', 'b')).toEqual({ region: 'z' })
    expect(c.lists.get('member', 'c')).toBeUndefined()
    expect(c.lists.version('member')).toBeGreaterThan(members)
    expect(c.lists.version('joined')).toBe(joined)
    c.set('member', 'a', null)
    expect([...c.lists.entries('member')]).toEqual([['b', { region: 'z' }]])
  })

  it('a change that did not come through note is found by a scan', () => {
    const c = catalog()
    c.set('member', 'a', '{"since":1}')
    expect(c.lists.list('member')).toEqual([['a', { since: 1 }]])
    const before = c.lists.version('member')
    c.set('member', 'a', '{"since":2}', false)
    c.set('joined', 'a', '{"since":2}')
    expect(c.lists.get('member', 'a')).toEqual({ since: 2 })
    expect(c.lists.list('joined')).toEqual([['a', { since: 2 }]])
    expect(c.lists.version('member')).toBeGreaterThan(before)
    c.set('member', 'a', null, false)
    expect(c.lists.list('member')).toEqual([])
  })
})
