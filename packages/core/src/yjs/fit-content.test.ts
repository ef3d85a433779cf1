import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { fitContent, itemValue, mapItems } from './yjs-internals.js'

describe('fitContent', () => {
  // Yjs decodes a value by pushing onto an empty array (room for 17 on V8): a row entry
  // arriving in an update is re-held in an array of its size, the value unchanged.
  it('re-holds a decoded value in a new array with the same values, and leaves the document as it was', () => {
    const a = new Y.Doc()
    a.getMap('rows').set('k', { v: 1, s: 'x' })
    a.getMap('rows').set('t', 'text')
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    const item = mapItems(b.getMap('rows')).get('k')!
    const before = (item.content as Y.ContentAny).arr
    fitContent(item)
    const after = (item.content as Y.ContentAny).arr
    expect(after).not.toBe(before)
    expect(after).toEqual(before)
    expect(b.getMap('rows').toJSON()).toEqual({ k: { v: 1, s: 'x' }, t: 'text' })
    expect(Y.encodeStateAsUpdate(b)).toEqual(Y.encodeStateAsUpdate(a))
  })

  it('leaves other contents alone', () => {
    const d = new Y.Doc()
    d.getText('x').insert(0, 'hello')
    const item = d.getText('x')._start!
    const content = item.content
    fitContent(item)
    expect(item.content).toBe(content)
    expect(d.getText('x').toString()).toBe('hello')
  })
})

describe('itemValue', () => {
  // Read from the item a shard has in hand: what Y.Map.get would look up again.
  it('is what Y.Map.get reads, for live, overwritten, deleted, absent and binary values, local or decoded', () => {
    const a = new Y.Doc()
    const rows = a.getMap('rows')
    rows.set('live', 'entry')
    rows.set('over', 'first')
    rows.set('over', 'second')
    rows.set('gone', 'x')
    rows.delete('gone')
    rows.set('bytes', new Uint8Array([1, 2]))
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    for (const map of [rows, b.getMap('rows')]) {
      for (const key of ['live', 'over', 'gone', 'bytes', 'absent']) expect(itemValue(mapItems(map).get(key))).toEqual(map.get(key))
    }
    expect(itemValue(mapItems(rows).get('over'))).toBe('second')
    expect(itemValue(mapItems(rows).get('gone'))).toBeUndefined()
  })
})
