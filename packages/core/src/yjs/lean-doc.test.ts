import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LeanDoc, whileUpdating } from './yjs-internals.js'

describe('LeanDoc (events without allocation where nobody listens)', () => {
  it('makes the same updates and calls the same events, in the same order, as a Y.Doc', () => {
    const seen = (d: Y.Doc): { events: string[]; updates: Uint8Array[] } => {
      const events: string[] = []
      const updates: Uint8Array[] = []
      for (const name of ['beforeTransaction', 'beforeObserverCalls', 'afterTransaction', 'afterTransactionCleanup', 'beforeAllTransactions', 'afterAllTransactions'] as const) {
        d.on(name, () => events.push(name))
      }
      d.on('update', (u: Uint8Array) => updates.push(u))
      d.getMap('rows').observe((e) => events.push(`observe ${[...e.keysChanged].join(',')}`))
      d.clientID = 7
      d.transact(() => {
        d.getMap('rows').set('a', 'x')
        d.getMap('rows').set('b', 'y')
      }, 'local')
      d.transact(() => d.getMap('rows').delete('a'))
      return { events, updates }
    }
    const lean = seen(new LeanDoc({ gc: true }))
    const plain = seen(new Y.Doc({ gc: true }))
    expect(lean.events).toEqual(plain.events)
    expect(lean.events).toContain('observe a,b')
    expect(lean.updates).toEqual(plain.updates)
    expect(lean.updates).toHaveLength(2)
  })

  it('calls the listeners an event had when emitted: one subscribed meanwhile waits for the next, one that leaves still runs once', () => {
    const d = new LeanDoc()
    const calls: string[] = []
    const late = (): void => {
      calls.push('late')
    }
    const second = (): void => {
      calls.push('second')
    }
    d.on('afterTransaction', () => {
      calls.push('first')
      d.off('afterTransaction', second)
      d.on('afterTransaction', late)
    })
    d.on('afterTransaction', second)
    d.transact(() => d.getMap('m').set('k', 1))
    expect(calls).toEqual(['first', 'second'])
    calls.length = 0
    d.transact(() => d.getMap('m').set('k', 2))
    expect(calls).toEqual(['first', 'late'])
  })

  it('calls a lone listener that subscribes another without calling the new one in the same event', () => {
    const d = new LeanDoc()
    const calls: string[] = []
    d.once('afterTransaction', () => {
      calls.push('once')
      d.on('afterTransaction', () => calls.push('added'))
    })
    d.transact(() => d.getMap('m').set('k', 1))
    expect(calls).toEqual(['once'])
    d.transact(() => d.getMap('m').set('k', 2))
    expect(calls).toEqual(['once', 'added'])
  })

  it('runs transactions with no listener at all', () => {
    const d = new LeanDoc()
    d.transact(() => d.getMap('m').set('k', 1))
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(d))
    expect(copy.getMap('m').get('k')).toBe(1)
  })
})

describe('whileUpdating (a local transaction\'s update listener without a Set made each time)', () => {
  const observers = (d: Y.Doc): Map<string, Set<unknown>> => (d as unknown as { _observers: Map<string, Set<unknown>> })._observers

  it('hears the updates of its own transactions only, leaving no listener behind, and reuses its Set', () => {
    const doc = new LeanDoc({ gc: true })
    const heard: Uint8Array[] = []
    const sole = new Set([(u: Uint8Array) => heard.push(u)])
    whileUpdating(doc, sole, () => doc.transact(() => doc.getMap('rows').set('a', 1)))
    expect(heard).toHaveLength(1)
    expect(observers(doc).has('update')).toBe(false)
    // A peer's update applied outside: not heard (Yjs does not even encode it).
    const peer = new Y.Doc()
    peer.getMap('rows').set('b', 2)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer))
    expect(heard).toHaveLength(1)
    whileUpdating(doc, sole, () => doc.transact(() => doc.getMap('rows').set('c', 3)))
    expect(heard).toHaveLength(2)
    expect([...sole]).toHaveLength(1)
    // The updates heard are the document's own writes: a fresh document built from them holds them.
    const copy = new Y.Doc()
    for (const u of heard) Y.applyUpdate(copy, u)
    expect(copy.getMap('rows').toJSON()).toEqual({ a: 1, c: 3 })
  })

  it('leaves listeners registered before, or added meanwhile, as lib0 would, and its own Set holding only its listener', () => {
    const doc = new LeanDoc({ gc: true })
    const before: number[] = []
    const meanwhile: number[] = []
    const mine: number[] = []
    const earlier = (): number => before.push(1)
    doc.on('update', earlier)
    const sole = new Set([(): number => mine.push(1)])
    whileUpdating(doc, sole, () => doc.transact(() => doc.getMap('rows').set('a', 1)))
    expect([before.length, mine.length]).toEqual([1, 1])
    expect([...observers(doc).get('update')!]).toEqual([earlier])
    doc.off('update', earlier)
    const added = (): number => meanwhile.push(1)
    whileUpdating(doc, sole, () => {
      doc.on('update', added)
      doc.transact(() => doc.getMap('rows').set('b', 2))
    })
    expect([before.length, meanwhile.length, mine.length]).toEqual([1, 1, 2])
    expect([...observers(doc).get('update')!]).toEqual([added])
    expect(sole.size).toBe(1)
    expect(sole.has(added)).toBe(false)
    doc.transact(() => doc.getMap('rows').set('c', 3))
    expect([meanwhile.length, mine.length]).toEqual([2, 2])
  })
})
