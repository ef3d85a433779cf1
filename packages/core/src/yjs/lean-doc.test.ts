import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LeanDoc } from './yjs-internals.js'

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
