import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeUpdateSlices, UpdateSlicer } from './update-slices.js'
import { hasPendingUpdates } from './yjs-internals.js'

/** Three writers editing one map (overwrites and deletes of each other's keys) and one text, synced as they go. */
function editedDocs(): Y.Doc[] {
  const docs = [1, 2, 3].map((client) => {
    const d = new Y.Doc({ gc: true })
    d.clientID = client
    return d
  })
  const sync = (): void => {
    for (const a of docs) for (const b of docs) if (a !== b) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  }
  for (let round = 0; round < 20; round++) {
    docs.forEach((d, w) => {
      d.transact(() => {
        const map = d.getMap('rows')
        for (let i = 0; i < 50; i++) map.set(`k${(round * 37 + i * (w + 1)) % 400}`, `v${round}-${w}-${i}`)
        if (round % 3 === w) for (let i = 0; i < 10; i++) map.delete(`k${(round * 11 + i) % 400}`)
        const text = d.getText('t')
        text.insert(Math.min(text.length, (round * 7 + w) % 13), `w${w}r${round} `)
        if (text.length > 20 && round % 2 === 0) text.delete(3 + w, 4)
      })
    })
    if (round % 4 === 3) sync()
  }
  sync()
  return docs
}

/** What must be equal between two documents holding the same state. */
function state(doc: Y.Doc): { sv: number[]; snapshot: number[]; rows: unknown; text: string } {
  return {
    sv: [...Y.encodeStateVector(doc)],
    snapshot: [...Y.encodeSnapshot(Y.snapshot(doc))],
    rows: doc.getMap('rows').toJSON(),
    text: doc.getText('t').toString(),
  }
}

function receiver(from?: Uint8Array): Y.Doc {
  const d = new Y.Doc({ gc: true })
  d.clientID = 99
  if (from !== undefined) Y.applyUpdate(d, from)
  return d
}

describe('update slices', () => {
  it('slices applied in order give the state of the one whole update, none held back as pending', () => {
    const source = editedDocs()[0]!
    const slices = encodeUpdateSlices(source, Y.encodeStateVector(new Y.Doc()), 100)
    expect(slices.length).toBeGreaterThan(5)
    const sliced = receiver()
    for (const s of slices) {
      Y.applyUpdate(sliced, s)
      expect(hasPendingUpdates(sliced)).toBe(false)
    }
    const whole = receiver(Y.encodeStateAsUpdate(source))
    expect(state(sliced)).toEqual(state(whole))
    expect(state(sliced)).toEqual(state(source))
  })

  it('slices above a partial state vector complete a receiver that holds that state', () => {
    const docs = editedDocs()
    const source = docs[0]!
    // A receiver holding an earlier state: the first half of what a fresh copy got.
    const early = encodeUpdateSlices(source, Y.encodeStateVector(new Y.Doc()), 200)
    const partial = receiver()
    for (const s of early.slice(0, Math.floor(early.length / 2))) Y.applyUpdate(partial, s)
    const slices = encodeUpdateSlices(source, Y.encodeStateVector(partial), 50)
    expect(slices.length).toBeGreaterThan(2)
    for (const s of slices) Y.applyUpdate(partial, s)
    expect(state(partial)).toEqual(state(source))
  })

  it('slices applied out of order still converge to the same state', () => {
    const source = editedDocs()[1]!
    const slices = encodeUpdateSlices(source, Y.encodeStateVector(new Y.Doc()), 80)
    const shuffled = receiver()
    for (const s of [...slices].reverse()) Y.applyUpdate(shuffled, s)
    expect(state(shuffled)).toEqual(state(source))
  })

  it('slices encoded one by one while the source keeps changing bring all it held when slicing began', () => {
    const source = editedDocs()[0]!
    const atStart = receiver(Y.encodeStateAsUpdate(source))
    const slicer = new UpdateSlicer(source, Y.encodeStateVector(new Y.Doc()), 60)
    expect(slicer.whole).toBe(false)
    const target = receiver()
    let n = 0
    for (let s = slicer.next(); s !== null; s = slicer.next()) {
      Y.applyUpdate(target, s)
      // Overwrites, deletes and text edits between slices (struct merges and splits included).
      source.transact(() => {
        source.getMap('rows').set(`k${n % 50}`, `later ${n}`)
        source.getMap('rows').delete(`k${(n * 7) % 400}`)
        source.getText('t').insert(n % 5, 'x')
      })
      n++
    }
    expect(n).toBeGreaterThan(3)
    // Everything the source held at the start arrived (a struct collected or merged since
    // goes as it is now, so a later delete may come along), and the rest completes it.
    const startSv = Y.decodeStateVector(Y.encodeStateVector(atStart))
    const got = Y.decodeStateVector(Y.encodeStateVector(target))
    for (const [client, clock] of startSv) expect(got.get(client) ?? 0).toBeGreaterThanOrEqual(clock)
    expect(target.getText('t').length).toBeGreaterThan(0)
    Y.applyUpdate(target, Y.encodeStateAsUpdate(source, Y.encodeStateVector(target)))
    expect(hasPendingUpdates(target)).toBe(false)
    expect(state(target)).toEqual(state(source))
  })

  it('a small state is one update, the same as encodeStateAsUpdate', () => {
    const source = editedDocs()[2]!
    const sv = Y.encodeStateVector(source)
    const slices = encodeUpdateSlices(source, sv, 100)
    expect(slices).toEqual([Y.encodeStateAsUpdate(source, sv)])
  })

  it('a malformed state vector throws', () => {
    expect(() => encodeUpdateSlices(editedDocs()[0]!, new Uint8Array([200, 200, 200]), 10)).toThrow()
  })
})
