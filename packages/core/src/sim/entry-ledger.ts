/**
 * The campaign's record of the writer entries its replicas wrote (`onLocalEntry`), kept
 * for the compaction-off twin: the twin resolves every entry that reached a disk, newest
 * per key, and the cluster must converge to exactly that.
 *
 * An entry is, in turn:
 * - fresh: written, and not yet part of a client's write (background writes such as
 *   membership wait here for the next client write of their node);
 * - pending: its write waits for durability. Durable, it is acknowledged; refused by a
 *   failing disk, the client hears an error, yet the replica keeps the write and persists
 *   it once the disk has room, so it still counts once durable;
 * - durable: on a disk (`durable`), hence in what the cluster converges to;
 * - uncertain: its node crashed before the write was known durable. A torn tail may have
 *   landed it anyway (DiskFaults); the node's restart tells: the entry is durable if the
 *   restarted replica holds it, lost if not (nothing undurable is ever sent to a peer).
 *
 * Entries are [shard id, entry key (row key U+0000 writer), entry].
 */
import type { Replica } from '../replica.js'
import { entryHlc } from '../codec/writer-entry.js'

type Entry = [shardId: string, key: string, entry: string]

export class EntryLedger {
  /** Newest durable entry per entry key, per shard. */
  readonly durable = new Map<string, Map<string, string>>()
  private readonly fresh = new Map<string, Entry[]>()
  private readonly pending = new Map<string, Set<Entry[]>>()
  private readonly uncertain = new Map<string, Entry[]>()

  /** Records an entry a replica wrote (ReplicaOptions.onLocalEntry). */
  readonly written = (shardId: string, key: string, entry: string): void => {
    const writer = key.slice(key.lastIndexOf('\u0000') + 1)
    listOf(this.fresh, writer).push([shardId, key, entry])
  }

  /** Forgets the fresh entries of every writer (written before the campaign's first write). */
  clearFresh(): void {
    this.fresh.clear()
  }

  /** Takes `writer`'s fresh entries into one client write, pending until `madeDurable`. */
  take(writer: string): Entry[] {
    const entries = this.fresh.get(writer)?.splice(0) ?? []
    let set = this.pending.get(writer)
    if (set === undefined) {
      set = new Set()
      this.pending.set(writer, set)
    }
    set.add(entries)
    return entries
  }

  /** The write holding `entries` (from `take`) is durable. Ignored once its node crashed. */
  madeDurable(writer: string, entries: Entry[]): void {
    if (this.pending.get(writer)?.delete(entries) !== true) return
    for (const e of entries) this.keep(e)
  }

  /** `writer`'s node crashed: what it had not made durable may or may not be on its disk. */
  crashed(writer: string): void {
    const out = listOf(this.uncertain, writer)
    out.push(...(this.fresh.get(writer) ?? []))
    for (const entries of this.pending.get(writer) ?? []) out.push(...entries)
    this.fresh.delete(writer)
    this.pending.delete(writer)
  }

  /**
   * `r` has just restarted from its disk (before it heard from anyone): its uncertain
   * entries are durable if it holds them (its newest entry for the row is as new), lost
   * otherwise.
   */
  restarted(r: Replica): void {
    for (const e of this.uncertain.get(r.nodeId) ?? []) {
      const [shardId, key] = e
      const at = key.lastIndexOf('\u0000')
      const held = r.shards.get(shardId)?.entryTimestamp(key.slice(0, at), key.slice(at + 1)) ?? null
      if (held !== null && held >= entryHlc(e[2])) this.keep(e)
    }
    this.uncertain.delete(r.nodeId)
  }

  private keep([shardId, key, entry]: Entry): void {
    let m = this.durable.get(shardId)
    if (m === undefined) {
      m = new Map()
      this.durable.set(shardId, m)
    }
    const had = m.get(key)
    if (had === undefined || entryHlc(entry) > entryHlc(had)) m.set(key, entry)
  }
}

function listOf<T>(m: Map<string, T[]>, key: string): T[] {
  let list = m.get(key)
  if (list === undefined) {
    list = []
    m.set(key, list)
  }
  return list
}
