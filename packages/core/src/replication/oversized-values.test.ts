import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { oversizedValue } from './oversized-values.js'

function updateOf(edit: (doc: Y.Doc) => void): Uint8Array {
  const doc = new Y.Doc()
  edit(doc)
  return Y.encodeStateAsUpdate(doc)
}

describe('oversizedValue', () => {
  it('finds a text insertion, a binary value and a map entry past the limit', () => {
    expect(oversizedValue(updateOf((d) => d.getText('t').insert(0, 'x'.repeat(5000))), 4096)).toBe(5000)
    expect(oversizedValue(updateOf((d) => d.getMap('rows').set('k', new Uint8Array(6000))), 4096)).toBe(6000)
    expect(oversizedValue(updateOf((d) => d.getMap('rows').set('k', 'y'.repeat(4500))), 4096)).toBe(4500)
  })

  it('accepts an update of many values each under the limit, and any update no longer than the limit', () => {
    const many = updateOf((d) => {
      for (let i = 0; i < 10; i++) d.getMap('rows').set(`k${i}`, 'z'.repeat(1000))
    })
    expect(many.length).toBeGreaterThan(4096)
    expect(oversizedValue(many, 4096)).toBe(0)
    expect(oversizedValue(updateOf((d) => d.getText('t').insert(0, 'x'.repeat(100))), 4096)).toBe(0)
  })

  it('throws on a malformed update longer than the limit', () => {
    expect(() => oversizedValue(new Uint8Array(5000).fill(200), 4096)).toThrow()
  })
})
