/**
 * Reading a backup chain back: the manifests from the chosen backup (the latest, or one
 * named) back to the full backup it builds on, every object they need read and checked
 * against its sha256 and size, then each shard's pieces merged oldest first into one
 * state. Nothing is handed to the caller before every check passed, so a corrupt,
 * truncated or missing object fails the restore with nothing applied.
 */
import * as Y from 'yjs'
import type { BackupStore } from './backup-store.js'
import type { BackupManifest, BackupObject } from './backup-manifest.js'
import { listBackupIds, readManifest } from './backup-run.js'
import { sha256Hex } from './sha256.js'
import { ConcordError } from '../errors/concord-error.js'

/** Chains longer than this are refused (a loop in corrupt manifests ends here too). */
export const MAX_CHAIN = 10_000

export interface RestoreShard {
  shard: string
  generation: number
  state: Uint8Array
  overlays: Array<{ generation: number; state: Uint8Array }>
}

export interface RestorePlan {
  /** The backup restored to (the last of the chain). */
  backup: BackupManifest
  chain: BackupManifest[]
  shards: RestoreShard[]
  bytes: number
}

/** Reads and checks the chain ending at `asOf` (default: the latest backup under the prefix). */
export async function planRestore(store: BackupStore, asOf?: string): Promise<RestorePlan> {
  let id = asOf
  if (id === undefined) {
    const ids = await listBackupIds(store)
    if (ids.length === 0) throw new ConcordError('undefinedObject', `no backup found at ${store.url}`)
    id = ids[ids.length - 1]!
  }
  // Newest first while walking parents.
  const chain: BackupManifest[] = []
  for (let next: string | null = id; next !== null; ) {
    if (chain.length >= MAX_CHAIN) throw new ConcordError('dataCorrupted', `backup chain at ${store.url} is longer than ${MAX_CHAIN} (or loops)`)
    const m = await readManifest(store, next)
    chain.push(m)
    next = m.parent
  }
  const target = chain[0]!
  const objects = new Map<string, Uint8Array>()
  let bytes = 0
  const fetchChecked = async (o: BackupObject): Promise<Uint8Array> => {
    const have = objects.get(o.object)
    if (have !== undefined) return have
    const where = `${store.url}/${o.object}`
    const data = await store.get(o.object)
    if (data === undefined) throw new ConcordError('dataCorrupted', `backup object ${where} is missing`)
    if (data.length !== o.bytes) throw new ConcordError('dataCorrupted', `backup object ${where} is truncated or corrupt: ${data.length} bytes, the manifest says ${o.bytes}`)
    if ((await sha256Hex(data)) !== o.sha256) throw new ConcordError('dataCorrupted', `backup object ${where} is corrupt: its sha256 does not match the manifest`)
    objects.set(o.object, data)
    bytes += data.length
    return data
  }
  const shards: RestoreShard[] = []
  for (const piece of target.shards) {
    // This shard's pieces back to its last whole state, then applied oldest first.
    const parts: Uint8Array[] = [await fetchChecked(piece)]
    let cur = piece
    for (let i = 1; cur.kind === 'diff'; i++) {
      const older = chain[i]?.shards.find((s) => s.shard === piece.shard)
      if (older === undefined || older.generation !== piece.generation) {
        throw new ConcordError('dataCorrupted', `backup ${chain[i - 1]!.id} stores shard ${piece.shard} as a diff, but its parent holds no state of that generation`)
      }
      parts.push(await fetchChecked(older))
      cur = older
    }
    parts.reverse()
    const overlays: RestoreShard['overlays'] = []
    for (const o of piece.overlays) overlays.push({ generation: o.generation, state: await fetchChecked(o) })
    shards.push({ shard: piece.shard, generation: piece.generation, state: parts.length === 1 ? parts[0]! : Y.mergeUpdates(parts), overlays })
  }
  return { backup: target, chain: chain.reverse(), shards, bytes }
}
