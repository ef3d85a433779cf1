/**
 * The one place that reaches into Yjs internals (yjs ~13.6, pinned for this reason).
 *
 * A `Y.Map` keeps, per key, the newest `Item` written under it in its private `_map`,
 * also when that item is deleted: the key was deleted, or a newer value overwrote it and
 * has not arrived yet (Yjs applies a delete at once but holds back a struct whose
 * predecessors are missing). Generations need to tell "this document never held the
 * key" from "it held it, and the value is momentarily absent", and a restarted node
 * needs the Yjs ids of its earlier sessions' items to chain its new writes onto. Nothing
 * here writes, but `fitContent`, which changes how a value is held, not the value.
 */
import * as Y from 'yjs'

interface MapInternals {
  _map: Map<string, Y.Item>
}

/** Every key `map` holds an item for (live or deleted), with that item. Read-only. */
export function mapItems(map: Y.Map<unknown>): ReadonlyMap<string, Y.Item> {
  return (map as unknown as MapInternals)._map
}

/** The value a map key's item holds, as `Y.Map.get` reads it from the item: undefined when absent or deleted. */
export function itemValue(item: Y.Item | undefined): unknown {
  return item === undefined || item.deleted ? undefined : item.content.getContent()[item.length - 1]
}

/** Whether `map` holds an item under `key` at all, even a deleted one. */
export function holdsKey(map: Y.Map<unknown>, key: string): boolean {
  return (map as unknown as MapInternals)._map.has(key)
}

/** True while part of an applied update waits in `doc` for structs it depends on. */
export function hasPendingUpdates(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
}

/** Items a snapshot's delete set covers: overwritten map values and deleted text (history). */
export function deletedItemCount(snapshot: Y.Snapshot): number {
  let deleted = 0
  for (const ranges of snapshot.ds.clients.values()) for (const r of ranges) deleted += r.len
  return deleted
}

/** Room a decoded value's array may have beyond its length before `fitContent` copies it. */
const FIT_BELOW = 16

/**
 * Yjs decodes a value's content (ContentAny) by pushing onto an empty array, so a one-value
 * entry (every row entry) arrives in an array with room for 17: 216 bytes where an array
 * of its size takes 88 (measured on Node 20). An item from an update or from storage is
 * copied to an array of its size: the same values, 128 bytes less per row entry held
 * (issues 13 and 20: 128 MB per million rows, a tenth of a 1,000-peer simulation).
 */
export function fitContent(item: Y.Item): void {
  const content = item.content
  if (content instanceof Y.ContentAny && content.arr.length < FIT_BELOW) content.arr = content.arr.slice()
}

interface ObservableInternals {
  _observers: Map<string, Set<(...args: unknown[]) => void>>
}

/** A document's 'update' listener as Shard registers it (the update's bytes first). */
type UpdateListener = (update: Uint8Array) => void

/**
 * Runs `fn` with the one listener in `sole` hearing `doc`'s 'update' events, as lib0's
 * `on` before and `off` after would, but registering `sole` itself: `on` made a Set and
 * `off` dropped it each time (a tpcb-like COMMIT did it for four documents: ~1.2 KB and
 * ~0.4% of a node's time). Yjs encodes a transaction's update only while an 'update'
 * listener is registered, so one registered only around local writes keeps remote ones
 * from being encoded. `sole` is the caller's, holding exactly its listener, and is left
 * so: a listener another party adds meanwhile stays registered in a Set of its own.
 */
export function whileUpdating(doc: Y.Doc, sole: Set<UpdateListener>, fn: () => void): void {
  const observers = (doc as unknown as { _observers: Map<string, Set<UpdateListener>> })._observers
  const listener = sole.values().next().value!
  if (observers.has('update')) {
    doc.on('update', listener)
    try {
      fn()
    } finally {
      doc.off('update', listener)
    }
    return
  }
  observers.set('update', sole)
  try {
    fn()
  } finally {
    if (observers.get('update') !== sole) doc.off('update', listener)
    else if (sole.size === 1 && sole.has(listener)) observers.delete('update')
    else {
      // Changed meanwhile: what lib0's `off` would leave, in a Set that is not the caller's.
      const others = new Set([...sole].filter((f) => f !== listener))
      if (others.size > 0) observers.set('update', others)
      else observers.delete('update')
      sole.clear()
      sole.add(listener)
    }
  }
}

/**
 * A Y.Doc whose events cost nothing where nobody listens. Yjs emits six events or more
 * per transaction (`beforeTransaction`, `beforeObserverCalls`, `afterTransaction`, ..)
 * through lib0's `emit`, which makes a Map when an event has no listener and copies the
 * listeners into an array when it has: ~2.5 µs of a one-key transaction's ~12 (a bare
 * transaction setting one key of four documents, measured on Node 20), and a pgbench
 * tpcb-like COMMIT runs four. Listeners see what lib0 gives them: called in the order
 * they subscribed, the event's listeners as they were when it was emitted (one added
 * meanwhile is not called).
 */
export class LeanDoc extends Y.Doc {
  override emit(name: Parameters<Y.Doc['emit']>[0], args: Parameters<Y.Doc['emit']>[1]): void {
    const observers = (this as unknown as ObservableInternals)._observers.get(name)
    if (observers === undefined) return
    if (observers.size === 1) {
      observers.values().next().value!(...(args as unknown[]))
      return
    }
    for (const f of Array.from(observers)) f(...(args as unknown[]))
  }
}
