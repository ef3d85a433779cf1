/**
 * Which catalog objects a Yjs update to the catalog shard would change, before it is
 * applied (docs/decisions/0024-member-rights.md): the kinds of the `$catalog` rows whose
 * writer entries it sets or deletes. A node uses it to refuse a member's update that
 * touches what the member may not write (the member list, roles, cluster settings:
 * node-server member-rights.ts).
 *
 * A writer entry's key (`rowKey U+0000 nodeId`, codec/row-key.ts) is encoded in an update
 * only for an entry's first struct; a struct overwriting a key names its predecessor
 * (`origin`) instead, which is found in the update itself or in the local document. A
 * deletion names struct ids, found the same way.
 *
 * Invariants: pure reading, the document is never changed. Structs and deletions the
 * local document already holds are ignored (applying them changes nothing). Anything that
 * cannot be attributed to a key (a struct whose predecessor is neither in the update nor
 * here, a deletion of a struct held nowhere, an update that does not decode) makes the
 * answer null: the caller must treat the update as touching every kind. Work is bounded
 * by the update's size (each predecessor chain is followed at most once per struct).
 */
import * as Y from 'yjs'
import { decodeRowKey, splitEntryKey } from '../codec/row-key.js'

const ROWS = 'rows'

type Struct = Y.Item | Y.GC | Y.Skip

/** The catalog kinds `update` changes in `doc` (null: a fresh document, as a GENERATION's state); null when not attributable. */
export function catalogKindsOfUpdate(doc: Y.Doc | null, update: Uint8Array): Set<string> | null {
  let decoded: { structs: Struct[]; ds: { clients: Map<number, Array<{ clock: number; len: number }>> } }
  try {
    decoded = Y.decodeUpdate(update) as unknown as typeof decoded
  } catch {
    return null
  }
  const own = new Map<number, Struct[]>()
  for (const s of decoded.structs) {
    let list = own.get(s.id.client)
    if (list === undefined) own.set(s.id.client, (list = []))
    list.push(s)
  }
  const rows = doc?.share.get(ROWS)
  const held = (client: number): number => (doc === null ? 0 : Y.getState(doc.store, client))
  const kinds = new Set<string>()
  const bound = decoded.structs.length + 1

  const find = (id: Y.ID): Struct | undefined => {
    const mine = search(own.get(id.client), id.clock)
    if (mine !== undefined) return mine
    if (doc === null || held(id.client) <= id.clock) return undefined
    try {
      return Y.getItem(doc.store, id) as Struct
    } catch {
      return undefined
    }
  }

  /** The map key of an Item (undefined: not an entry of `rows`), or null when not attributable. */
  const keyOf = (start: Y.Item): string | undefined | null => {
    let item: Y.Item = start
    for (let i = 0; i < bound; i++) {
      // A decoded struct names its parent by root name (a string, whatever Yjs's types say); a held one by the type.
      const parent = item.parent as unknown
      if (item.parentSub !== null) return parent === ROWS || (rows !== undefined && parent === rows) ? item.parentSub : undefined
      // A parent without a key: content of a sequence (a text column's Y.Text), not a map entry.
      if (parent !== null) return undefined
      const next = item.origin ?? item.rightOrigin
      if (next === null) return null
      const s = find(next)
      if (!(s instanceof Y.Item)) return null
      item = s
    }
    return null
  }

  const note = (key: string | undefined | null): boolean => {
    if (key === null) return false
    if (key === undefined) return true
    const split = splitEntryKey(key)
    if (split === null) return false
    let kind: unknown
    try {
      kind = decodeRowKey(split[0], 2)[0]
    } catch {
      return false
    }
    if (typeof kind !== 'string') return false
    kinds.add(kind)
    return true
  }

  for (const s of decoded.structs) {
    if (!(s instanceof Y.Item)) continue
    // Already held here: applying it changes nothing.
    if (held(s.id.client) >= s.id.clock + s.length) continue
    if (!note(keyOf(s))) return null
  }
  for (const [client, ranges] of decoded.ds.clients) {
    for (const { clock, len } of ranges) {
      for (let c = clock; c < clock + len; ) {
        const s = find(Y.createID(client, c))
        if (s === undefined) return null
        c = s.id.clock + s.length
        if (!(s instanceof Y.Item)) continue
        if (s.deleted && held(client) > s.id.clock) continue
        if (!note(keyOf(s))) return null
      }
    }
  }
  return kinds
}

/** The struct of a client's clock-ordered list holding `clock`. */
function search(list: Struct[] | undefined, clock: number): Struct | undefined {
  if (list === undefined) return undefined
  let lo = 0
  let hi = list.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const s = list[mid]!
    if (clock < s.id.clock) hi = mid - 1
    else if (clock >= s.id.clock + s.length) lo = mid + 1
    else return s
  }
  return undefined
}
