import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { SeededRandom } from '../sim/seeded-random.js'
import { KeptDeleteSet, snapshotDigest } from './kept-delete-set.js'

/** A document whose delete set is kept per transaction, as a shard keeps it. */
function keptDoc(clientID: number): { doc: Y.Doc; kept: KeptDeleteSet } {
  const doc = new Y.Doc({ gc: true })
  doc.clientID = clientID
  const kept = new KeptDeleteSet()
  doc.on('afterTransaction', (tr: Y.Transaction) => kept.note(tr))
  return { doc, kept }
}

function agrees(doc: Y.Doc, kept: KeptDeleteSet): void {
  const fresh = Y.snapshot(doc)
  expect(Y.encodeSnapshot(kept.snapshot(doc))).toEqual(Y.encodeSnapshot(fresh))
  let deleted = 0
  for (const ranges of fresh.ds.clients.values()) for (const r of ranges) deleted += r.len
  expect(kept.count()).toBe(deleted)
  expect(kept.digest(doc)).toBe(snapshotDigest(fresh))
}

describe('KeptDeleteSet', () => {
  it('matches Y.snapshot through overwrites, text edits, updates out of order and whole garbage-collected states', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new SeededRandom(seed)
      const writers = [keptDoc(1), keptDoc(2)]
      const reader = keptDoc(3)
      const updates: Uint8Array[] = []
      for (const w of writers) w.doc.on('update', (u: Uint8Array) => updates.push(u))
      for (let step = 0; step < 200; step++) {
        const w = writers[rng.int(0, 1)]!
        const roll = rng.next()
        if (roll < 0.5) {
          w.doc.transact(() => {
            for (let k = rng.int(1, 4); k > 0; k--) w.doc.getMap('rows').set(`r${rng.int(0, 30)}`, `v${step}`)
          })
        } else if (roll < 0.7) {
          const text = w.doc.getText(`t${rng.int(0, 2)}`)
          if (text.length > 0 && rng.chance(0.5)) text.delete(rng.int(0, text.length - 1), 1)
          else text.insert(rng.int(0, text.length), 'ab')
        } else if (roll < 0.8) {
          w.doc.getMap('rows').delete(`r${rng.int(0, 30)}`)
        } else if (roll < 0.95 && updates.length > 0) {
          // Some update, in any order: the reader keeps what misses its predecessors pending.
          Y.applyUpdate(reader.doc, updates.splice(rng.int(0, updates.length - 1), 1)[0]!)
        } else {
          // A writer's whole state: deleted items travel as GC structs.
          Y.applyUpdate(reader.doc, Y.encodeStateAsUpdate(w.doc, Y.encodeStateVector(reader.doc)))
        }
        for (const d of [...writers, reader]) agrees(d.doc, d.kept)
      }
    }
  })

  it('starts over from a document as it is', () => {
    const source = new Y.Doc()
    for (let i = 0; i < 10; i++) source.getMap('rows').set(`k${i % 3}`, i)
    const { doc, kept } = keptDoc(9)
    kept.reset(doc)
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(source))
    agrees(doc, kept)
    const other = new KeptDeleteSet()
    other.reset(doc)
    agrees(doc, other)
    expect(other.count()).toBe(7)
  })

  // The digest is what anti-entropy compares: equal states give equal digests whatever the
  // order they were reached in, and a state that differs in a clock or in a deleted range
  // gives another.
  it('gives equal digests for equal states reached in any order, and others for other states', () => {
    const writers = [1, 2, 3].map((c) => keptDoc(c))
    const updates: Uint8Array[] = []
    for (const w of writers) w.doc.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 30; i++) {
      const w = writers[i % 3]!
      w.doc.getMap('rows').set(`r${i % 7}`, i)
      if (i % 5 === 0) w.doc.getMap('rows').delete(`r${(i + 1) % 7}`)
    }
    const forward = keptDoc(10)
    const backward = keptDoc(11)
    const digests = new Set<number>()
    const states = new Set<string>()
    for (const u of updates) {
      Y.applyUpdate(forward.doc, u)
      digests.add(forward.kept.digest(forward.doc))
      states.add(Y.encodeSnapshot(Y.snapshot(forward.doc)).join())
    }
    for (const u of [...updates].reverse()) Y.applyUpdate(backward.doc, u)
    expect(backward.kept.digest(backward.doc)).toBe(forward.kept.digest(forward.doc))
    // each state passed on the way had a digest of its own (some updates changed nothing)
    expect(states.size).toBeGreaterThan(25)
    expect(digests.size).toBe(states.size)
    // one more delete of an existing value: the same state vector, another delete set
    const before = forward.kept.digest(forward.doc)
    const key = [...forward.doc.getMap('rows').keys()][0]!
    forward.doc.getMap('rows').delete(key)
    expect(forward.kept.digest(forward.doc)).not.toBe(before)
    agrees(forward.doc, forward.kept)
  })
})
