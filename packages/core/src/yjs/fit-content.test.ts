import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { fitContent, mapItems } from './yjs-internals.js'

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
