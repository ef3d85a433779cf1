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
import { assert } from '../errors/assert.js'
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
  assert(!replica.isCommitting, 'a backup cut waits for the sliced commit applying (Replica.settled)')
  const out: CutShard[] = []
  for (const [id, shard] of replica.shards) out.push(cutShard(id, shard, parent?.get(id)))
  return out
}

/** What an engine kept between statements holds of a shard (a moved statement's worker): at least this state. */
export interface HeldShard extends ParentShard {
  /** The shard's digest (`Shard.digest`: state vector and delete set) at that state. */
  digest: number
}

/** The states `takeShards` took. */
export interface TakenShards {
  /** Whole, or a diff against what the engine holds; a shard the engine holds unchanged is left out. */
  shards: CutShard[]
  /** Every shard taken as it is now (those left out too): what the engine holds once `shards` are applied. */
  states: Array<[string, HeldShard]>
  /** Bytes of state in `shards`. */
  bytes: number
  /**
   * Some shard cannot be applied onto the engine (held in another generation, or one with
   * older generations still held, whose overlays only a fresh engine loads): `shards` is
   * empty, and the caller takes them again without `held`, for a fresh engine.
   */
  stale: boolean
}

/**
 * The state of some shards, taken in one synchronous pass like a backup's cut: what a
 * statement moved off the main thread reads (the catalog and the tables it names). `only`
 * is asked with each shard's id and the name of the table its rows belong to now
 * (undefined for the catalog and for shards of no current table). Without `held`, each
 * shard whole (a fresh engine); with it (what an engine kept between statements holds),
 * a shard held in its current generation as a diff against the held state vector, or not
 * at all when its digest is the held one. Null once the states taken pass `maxBytes`, or
 * when a sliced commit holds one of them (the caller then does not move the statement).
 */
export function takeShards(replica: Replica, only: (id: string, table: string | undefined) => boolean, maxBytes: number, held?: ReadonlyMap<string, HeldShard>): TakenShards | null {
  const out: TakenShards = { shards: [], states: [], bytes: 0, stale: false }
  for (const [id, shard] of replica.shards) {
    if (!only(id, shard.viewName())) continue
    // Part of a sliced commit is in its document (docs/decisions/0038-sliced-commits.md): nothing moves meanwhile.
    if (shard.isHeld) return null
    const before = held?.get(id)
    if (held !== undefined && (shard.prevs.length > 0 || (before !== undefined && before.generation !== shard.generation))) return { shards: [], states: [], bytes: 0, stale: true }
    const state = heldState(shard)
    out.states.push([id, state])
    if (before !== undefined && before.digest === state.digest) continue
    const cut = cutShard(id, shard, before)
    out.bytes += cut.data.byteLength + cut.overlays.reduce((n, o) => n + o.data.byteLength, 0)
    if (out.bytes > maxBytes) return null
    out.shards.push(cut)
  }
  return out
}

/** A shard's state as an engine holding it now would be recorded (`HeldShard`). */
export function heldState(shard: Shard): HeldShard {
  return { generation: shard.generation, stateVector: shard.stateVector(), digest: shard.digest() }
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
