/**
 * The chains under a store's prefix, and retention. A chain is a full backup and the
 * incrementals that build on it (each naming its parent); a prefix holds one chain until
 * a full backup starts the next one (BACKUP .. with `full`, or a schedule's
 * backup_chain_length).
 *
 * Invariants: pruning deletes whole chains, never the newest one, each from its newest
 * backup back to its full one and every backup's manifest before its objects, so what is
 * left at any moment (even after a crash half way) is complete chains plus unreferenced
 * objects: every manifest still there restores.
 */
import type { BackupStore } from './backup-store.js'
import type { BackupManifest } from './backup-manifest.js'
import { listBackupIds, readManifest } from './backup-run.js'
import { manifestName } from './backup-manifest.js'
import { MAX_CHAIN } from './restore-plan.js'
import { ConcordError } from '../errors/concord-error.js'

/** The chains under the prefix, oldest first, each from its full backup on. Backups whose parent is gone are left out. */
export async function listChains(store: BackupStore): Promise<BackupManifest[][]> {
  const ids = await listBackupIds(store)
  if (ids.length > MAX_CHAIN) throw new ConcordError('programLimitExceeded', `more than ${MAX_CHAIN} backups under ${store.url}`)
  const byId = new Map<string, BackupManifest>()
  for (const id of ids) byId.set(id, await readManifest(store, id))
  const chains = new Map<string, BackupManifest[]>()
  // Ids sort by time: a parent comes before its children.
  const rootOf = new Map<string, string>()
  for (const id of ids) {
    const m = byId.get(id)!
    const root = m.parent === null ? id : rootOf.get(m.parent)
    if (root === undefined) continue
    rootOf.set(id, root)
    const chain = chains.get(root) ?? []
    chain.push(m)
    chains.set(root, chain)
  }
  return [...chains.values()]
}

/** Which chains to keep: the newest `chains` (0: any number), and those whose last backup finished within `maxAgeMs` of `now` (0: any age). */
export interface Retention {
  chains: number
  maxAgeMs: number
  now: number
}

/**
 * Deletes every chain that retention lets go: beyond the newest `chains`, or whose last
 * backup finished more than `maxAgeMs` before `now`. The newest chain is always kept.
 * Resolves to the ids of the backups deleted.
 */
export async function pruneChains(store: BackupStore, retention: Retention): Promise<string[]> {
  const chains = await listChains(store)
  const { chains: keep, maxAgeMs, now } = retention
  const drop = chains.slice(0, -1).filter((chain, i) => {
    const tooMany = keep > 0 && i < chains.length - keep
    const tooOld = maxAgeMs > 0 && chain[chain.length - 1]!.finished < now - maxAgeMs
    return tooMany || tooOld
  })
  const deleted: string[] = []
  for (const chain of drop) {
    for (const m of [...chain].reverse()) {
      await store.delete(manifestName(m.id))
      for (const s of m.shards) {
        await store.delete(s.object)
        for (const o of s.overlays) await store.delete(o.object)
      }
      deleted.push(m.id)
    }
  }
  return deleted
}
