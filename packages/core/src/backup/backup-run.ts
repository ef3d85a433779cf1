/**
 * Taking a backup: find the chain's latest backup under the store's prefix (the parent,
 * unless a full backup is asked for), take the cut (backup-cut.ts, synchronous), then
 * write one object per shard and overlay, and the manifest last. A backup without its
 * manifest does not exist for restore or for the next incremental, so a backup that
 * fails half way leaves the chain as it was.
 *
 * Invariants: the cut is taken before the first await of the backup's writes, so
 * writes running meanwhile are in it or not, never half; every object's sha256 and size
 * are in the manifest.
 */
import type { Replica } from '../replica.js'
import type { BackupStore } from './backup-store.js'
import { fromBase64, takeCut, toBase64, type ParentShard } from './backup-cut.js'
import { BACKUPS_DIR, encodeManifest, manifestName, MANIFEST_VERSION, parseManifest, type BackupManifest, type ShardPiece } from './backup-manifest.js'
import { sha256Hex } from './sha256.js'
import { ConcordError } from '../errors/concord-error.js'

export interface BackupOptions {
  /** Store a full backup even when the prefix holds a chain already. */
  full?: boolean
  /** A progress line (bytes, shards, phase); the node logs it. */
  progress?: (line: string) => void
  /** The same as data, at each step (pg_stat_progress_backup). */
  onProgress?: (p: BackupProgress) => void
}

/** Where a running backup is. */
export interface BackupProgress {
  id: string
  phase: 'writing' | 'writing manifest' | 'done'
  shardsTotal: number
  shardsDone: number
  bytesDone: number
}

/** Ids of the complete backups (those with a manifest) under the store's prefix, oldest first. */
export async function listBackupIds(store: BackupStore): Promise<string[]> {
  const names = await store.list(BACKUPS_DIR)
  const ids: string[] = []
  for (const n of names) {
    const m = /^backups\/([^/]+)\/manifest\.json$/.exec(n)
    if (m !== null) ids.push(m[1]!)
  }
  return ids.sort()
}

export async function readManifest(store: BackupStore, id: string): Promise<BackupManifest> {
  const name = manifestName(id)
  const data = await store.get(name)
  if (data === undefined) throw new ConcordError('undefinedObject', `backup ${id} not found at ${store.url} (no ${name})`)
  const m = parseManifest(data, `${store.url}/${name}`)
  if (m.id !== id) throw new ConcordError('dataCorrupted', `backup manifest ${store.url}/${name} names backup ${m.id}`)
  return m
}

/** A new backup id: sortable by time (UTC), unique by its random tail. */
function newBackupId(now: number, random: () => number): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${Math.floor(random() * 0xffffffff).toString(16).padStart(8, '0')}`
}

/** Takes one backup of `replica` into `store`; resolves to its manifest once the manifest is stored. */
export async function runBackup(replica: Replica, store: BackupStore, options: BackupOptions = {}): Promise<BackupManifest> {
  const progress = options.progress ?? (() => {})
  const ids = await listBackupIds(store)
  const latest = ids[ids.length - 1]
  const parent = latest === undefined || options.full === true ? null : await readManifest(store, latest)
  const parentShards = new Map<string, ParentShard>()
  for (const s of parent?.shards ?? []) parentShards.set(s.shard, { generation: s.generation, stateVector: fromBase64(s.stateVector) })
  // A sliced commit applying now is in no backup until it ends (docs/decisions/0038-sliced-commits.md).
  await replica.settled()
  // The cut: synchronous, nothing awaited from here to its end.
  const started = replica.now()
  const cut = takeCut(replica, parent === null ? null : parentShards)
  let id = newBackupId(started, replica.random)
  // Ids sort by time; the newest backup under the prefix is the one an incremental builds on.
  if (latest !== undefined && id <= latest) id = `${latest}-1`
  progress(`backup ${id} to ${store.url}: cut taken, ${cut.length} shards, phase writing`)
  const shards: ShardPiece[] = []
  let bytes = 0
  const report = (phase: BackupProgress['phase'], shardsDone: number): void =>
    options.onProgress?.({ id, phase, shardsTotal: cut.length, shardsDone, bytesDone: bytes })
  report('writing', 0)
  for (let i = 0; i < cut.length; i++) {
    const c = cut[i]!
    const object = `${BACKUPS_DIR}${id}/shard-${i}.ydoc`
    await store.put(object, c.data)
    const overlays: ShardPiece['overlays'] = []
    for (const o of c.overlays) {
      const name = `${BACKUPS_DIR}${id}/shard-${i}-gen-${o.generation}.ydoc`
      await store.put(name, o.data)
      overlays.push({ object: name, sha256: await sha256Hex(o.data), bytes: o.data.length, generation: o.generation })
      bytes += o.data.length
    }
    shards.push({
      shard: c.shard,
      generation: c.generation,
      kind: c.kind,
      object,
      sha256: await sha256Hex(c.data),
      bytes: c.data.length,
      stateVector: toBase64(c.stateVector),
      overlays,
    })
    bytes += c.data.length
    report('writing', i + 1)
    if ((i + 1) % 16 === 0 || i + 1 === cut.length) progress(`backup ${id}: ${i + 1}/${cut.length} shards, ${bytes} bytes written`)
  }
  const manifest: BackupManifest = {
    version: MANIFEST_VERSION,
    id,
    kind: parent === null ? 'full' : 'incremental',
    parent: parent?.id ?? null,
    started,
    finished: replica.now(),
    node: replica.nodeId,
    shards,
  }
  report('writing manifest', cut.length)
  await store.put(manifestName(id), encodeManifest(manifest))
  report('done', cut.length)
  progress(`backup ${id} done: ${manifest.kind}, ${shards.length} shards, ${bytes} bytes`)
  return manifest
}
