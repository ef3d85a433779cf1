/**
 * A document's state above a state vector as a list of Yjs updates ("slices") of at most
 * `maxStructs` structs each, instead of one update: a peer far behind (a joining node
 * asking a whole shard) can then apply it one slice at a time, each its own transaction,
 * and answer peers and clients in between (docs/decisions/0019-sliced-catch-up.md).
 *
 * Yjs can cut an update only from below (`diffUpdate`, by a state vector); this cuts from
 * above, reading the document's struct store as `encodeStateAsUpdate` does (internals of
 * yjs ~13.6, pinned; yjs-internals.ts says why) and writing each struct with Yjs's own
 * `write`, in Yjs's update format V1.
 *
 * Invariants:
 * - Applying the slices in order to a document holding `stateVector` gives exactly the
 *   state applying `Y.encodeStateAsUpdate(doc, stateVector)` gave when slicing began: the
 *   same structs, each once, and the delete set of that moment, written in the last slice
 *   (so a receiver that counts a repair done when its state vector covers the sender's
 *   has the deletes too). If the document changed meanwhile, a struct collected or merged
 *   since goes as it is now (a later delete may come along: never less than that state).
 * - Each slice is causally closed over the ones before it: a struct goes only after every
 *   struct it names (origin, right origin, parent item) is in an earlier slice, the same
 *   slice, or the receiver's state vector. A receiver applying them in order never holds a
 *   struct back as pending (which would make Yjs merge the pending rest on every slice).
 * - A document with pending structs or deletes, or whose structs cannot be ordered so
 *   (no correct store), is answered with the one whole update: never a wrong slicing.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { hasPendingUpdates } from './yjs-internals.js'

/** A struct of Yjs's store as read here (Item or GC; only Items carry the references). */
interface StoredStruct {
  id: Y.ID
  length: number
  origin?: Y.ID | null
  rightOrigin?: Y.ID | null
  parent?: unknown
  write(encoder: Y.UpdateEncoderV1, offset: number): void
}

interface StoreInternals {
  clients: Map<number, StoredStruct[]>
}

/** Per client the receiver lacks structs of: the clock sent up to, and where the answer ends. */
interface Cursor {
  clock: number
  end: number
}

/** Whether the struct `id` names is at the receiver once what the cursors passed is (clients without a cursor: all of it). */
function present(cursors: ReadonlyMap<number, Cursor>, id: Y.ID | null | undefined): boolean {
  if (id === null || id === undefined) return true
  const c = cursors.get(id.client)
  return c === undefined || id.clock < c.clock
}

function parentItem(parent: unknown): Y.ID | null {
  if (parent === null || typeof parent !== 'object') return null
  // A nested type's parent is its item; a top-level type has none (it is named).
  const item = (parent as { _item?: { id: Y.ID } | null })._item
  if (item !== undefined && item !== null) return item.id
  return 'client' in parent && 'clock' in parent ? (parent as Y.ID) : null
}

function ready(cursors: ReadonlyMap<number, Cursor>, s: StoredStruct): boolean {
  return present(cursors, s.origin) && present(cursors, s.rightOrigin) && present(cursors, parentItem(s.parent))
}

type DeleteSet = { clients: Map<number, Array<{ clock: number; len: number }>> }

function writeDeleteSet(encoder: Y.UpdateEncoderV1, ds: DeleteSet | null): void {
  if (ds === null) {
    encoding.writeVarUint(encoder.restEncoder, 0)
    return
  }
  encoding.writeVarUint(encoder.restEncoder, ds.clients.size)
  for (const [client, items] of ds.clients) {
    encoder.resetDsCurVal()
    encoding.writeVarUint(encoder.restEncoder, client)
    encoding.writeVarUint(encoder.restEncoder, items.length)
    for (const item of items) {
      encoder.writeDsClock(item.clock)
      encoder.writeDsLen(item.len)
    }
  }
}

/**
 * Cuts the state of a document a holder of a state vector lacks, as it stands when the
 * slicer is made, into slices, encoded one per `next()`: a sender can send each and give
 * the event loop back in between. Later writes to the document are not in the slices
 * (each client's range ends where it ended at the start, and the delete set is the one
 * of the start), though a struct merged or collected since is written as it is now.
 */
export class UpdateSlicer {
  /** True when the state is at most `maxStructs` structs (or cannot be sliced): `next()` gives it whole, once. */
  readonly whole: boolean
  private readonly doc: Y.Doc
  private readonly stateVector: Uint8Array
  private readonly maxStructs: number
  private readonly cursors = new Map<number, Cursor>()
  private readonly deletes: DeleteSet | null
  private remaining = 0
  private done = false

  /** Throws when `stateVector` is malformed. */
  constructor(doc: Y.Doc, stateVector: Uint8Array, maxStructs: number) {
    this.doc = doc
    this.stateVector = stateVector
    this.maxStructs = maxStructs
    const have = Y.decodeStateVector(stateVector)
    for (const [client, structs] of (doc.store as unknown as StoreInternals).clients) {
      const last = structs[structs.length - 1]
      if (last === undefined) continue
      const from = Math.max(have.get(client) ?? 0, structs[0]!.id.clock)
      const end = last.id.clock + last.length
      if (from >= end) continue
      this.cursors.set(client, { clock: from, end })
      this.remaining += structs.length - Y.findIndexSS(structs as unknown as Array<Y.Item | Y.GC>, from)
    }
    this.whole = hasPendingUpdates(doc) || maxStructs < 1 || this.remaining <= maxStructs
    this.deletes = this.whole ? null : (Y.createDeleteSetFromStructStore(doc.store) as unknown as DeleteSet)
  }

  /** The next slice; null once all were given (or the document was destroyed meanwhile: the receiver asks again). */
  next(): Uint8Array | null {
    if (this.done) return null
    if (this.whole) {
      this.done = true
      return Y.encodeStateAsUpdate(this.doc, this.stateVector)
    }
    const clients = (this.doc.store as unknown as StoreInternals).clients
    // Where this slice's range of each client starts (clock), and ends (struct index, exclusive).
    const ranges = new Map<number, { structs: StoredStruct[]; start: number; first: number; end: number }>()
    let budget = this.maxStructs
    let progress = true
    while (budget > 0 && progress) {
      progress = false
      for (const [client, c] of this.cursors) {
        if (c.clock >= c.end) continue
        let range = ranges.get(client)
        if (range === undefined) {
          const structs = clients.get(client)
          if (structs === undefined || structs.length === 0) {
            this.done = true
            return null
          }
          const first = Y.findIndexSS(structs as unknown as Array<Y.Item | Y.GC>, c.clock)
          range = { structs, start: c.clock, first, end: first }
        }
        const structs = range.structs
        while (budget > 0 && c.clock < c.end && range.end < structs.length) {
          const s = structs[range.end]!
          if (!ready(this.cursors, s)) break
          c.clock = s.id.clock + s.length
          range.end++
          budget--
          progress = true
        }
        if (range.end > range.first) ranges.set(client, range)
      }
    }
    this.remaining = 0
    for (const c of this.cursors.values()) if (c.clock < c.end) this.remaining++
    if (ranges.size === 0) {
      // Nothing could go (no correct store does this): whatever is left, whole.
      this.done = true
      return this.remaining > 0 ? Y.encodeStateAsUpdate(this.doc, this.stateVector) : null
    }
    const encoder = new Y.UpdateEncoderV1()
    encoding.writeVarUint(encoder.restEncoder, ranges.size)
    for (const [client, r] of ranges) {
      encoding.writeVarUint(encoder.restEncoder, r.end - r.first)
      encoder.writeClient(client)
      encoding.writeVarUint(encoder.restEncoder, r.start)
      const first = r.structs[r.first]!
      first.write(encoder, r.start - first.id.clock)
      for (let i = r.first + 1; i < r.end; i++) r.structs[i]!.write(encoder, 0)
    }
    const last = this.remaining === 0
    writeDeleteSet(encoder, last ? this.deletes : null)
    if (last) this.done = true
    return encoder.toUint8Array()
  }
}

/**
 * The state of `doc` a holder of `stateVector` lacks, as slices of at most `maxStructs`
 * structs (one update, `Y.encodeStateAsUpdate`'s, when it is that small or cannot be
 * sliced). Throws when `stateVector` is malformed.
 */
export function encodeUpdateSlices(doc: Y.Doc, stateVector: Uint8Array, maxStructs: number): Uint8Array[] {
  const slicer = new UpdateSlicer(doc, stateVector, maxStructs)
  const slices: Uint8Array[] = []
  for (let s = slicer.next(); s !== null; s = slicer.next()) slices.push(s)
  return slices
}
