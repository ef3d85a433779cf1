/**
 * The consistent cut a backup stores: every shard's state taken in one synchronous pass
 * over the replica's documents. A transaction commits inside one synchronous call, so a
 * write is either wholly in the cut (it committed before) or wholly out (after): no
 * statement is half in. Everything acknowledged before the cut is in it (a write is
 * acknowledged after it committed in memory and reached disk).
 *
 * With a parent (an incremental backup), a shard still in the generation the parent saw
 * is taken as a diff against the parent's state vector (`Y.encodeStateAsUpdate(doc,
 * vector)`); a shard in a newer generation, or new, is taken whole.
 */
import * as Y from 'yjs'
import type { Replica } from '../replica.js'
import type { Shard } from '../rows/shard.js'

export interface CutShard {
  shard: string
  generation: number
  kind: 'full' | 'diff'
  data: Uint8Array
  stateVector: Uint8Array
  overlays: Array<{ generation: number; data: Uint8Array }>
}

/** What the parent backup recorded of a shard. */
export interface ParentShard {
  generation: number
  stateVector: Uint8Array
}

/** Takes the cut; synchronous by design (see the header). */
export function takeCut(replica: Replica, parent: ReadonlyMap<string, ParentShard> | null): CutShard[] {
  const out: CutShard[] = []
  for (const [id, shard] of replica.shards) out.push(cutShard(id, shard, parent?.get(id)))
  return out
}

/**
 * The whole state of some shards, taken in one synchronous pass like a backup's cut: what
 * a statement moved off the main thread reads (the catalog and the tables it names).
 * `only` is asked with each shard's id and the name of the table its rows belong to now
 * (undefined for the catalog and for shards of no current table). Null once the states taken pass `maxBytes` (the caller then does not move it).
 */
export function takeShards(replica: Replica, only: (id: string, table: string | undefined) => boolean, maxBytes: number): CutShard[] | null {
  const out: CutShard[] = []
  let bytes = 0
  for (const [id, shard] of replica.shards) {
    if (!only(id, shard.viewName())) continue
    const cut = cutShard(id, shard, undefined)
    bytes += cut.data.byteLength + cut.overlays.reduce((n, o) => n + o.data.byteLength, 0)
    if (bytes > maxBytes) return null
    out.push(cut)
  }
  return out
}

function cutShard(id: string, shard: Shard, before: ParentShard | undefined): CutShard {
  const diff = before !== undefined && before.generation === shard.generation
  return {
    shard: id,
    generation: shard.generation,
    kind: diff ? 'diff' : 'full',
    data: diff ? shard.encodeState(before.stateVector) : shard.encodeState(),
    stateVector: shard.stateVector(),
    overlays: shard.prevs.map((p) => ({ generation: p.generation, data: Y.encodeStateAsUpdate(p.doc) })),
  }
}

export function toBase64(data: Uint8Array): string {
  let s = ''
  for (let i = 0; i < data.length; i += 0x8000) s += String.fromCharCode(...data.subarray(i, i + 0x8000))
  return btoa(s)
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text)
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}
