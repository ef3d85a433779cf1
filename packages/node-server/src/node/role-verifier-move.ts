/**
 * Moves role verifiers out of the catalog (sql-facade catalog/role-secret.ts,
 * docs/decisions/0034-role-secrets-off-browsers.md): a role record written by an earlier
 * version keeps its SCRAM verifier in the catalog, which scoped browser replicas receive.
 * This node moves every such verifier to the secrets shard once it starts (also those
 * only older entries of a record hold: the catalog keeps one entry per writing node), and
 * again whenever a role record arrives resolving to one (written by a node of an earlier
 * version during a rolling upgrade), so it stays in the catalog only until a node that
 * may write roles sees it.
 *
 * Invariants: only a node that may write roles moves them (a `member` without the admin
 * right is refused by its own guard, 42501, and leaves it to an admin node); the move
 * runs outside the catalog event that asked for it, at most one pending at a time.
 */
import type { Replica } from '@concord/core'
import { moveRoleVerifiers, ROLE_KIND, SqlError, SqlState } from '@concord/sql-facade'
import type { Logger } from '../log/logger.js'

/** Moves the verifiers now and after each change of role records; returns the stop function. */
export function watchRoleVerifiers(replica: Replica, log: Logger): () => void {
  let pending = false
  let stopped = false
  /** `history`: look at every node's entry of each role record, not only at what it resolves to (at start). */
  const move = (history: boolean): void => {
    pending = false
    if (stopped) return
    try {
      const entries = history ? replica.catalogEntryValues(ROLE_KIND) : []
      const moved = replica.transact((tx) => moveRoleVerifiers(tx, entries))
      if (moved.length > 0) log.info(`moved the password verifiers of ${moved.length} role(s) from the catalog to the secrets shard (${moved.slice(0, 5).join(', ')}${moved.length > 5 ? ', ..' : ''})`)
    } catch (err) {
      // A member node may not write roles: an admin node moves them.
      if (err instanceof SqlError && err.code === SqlState.insufficientPrivilege) return
      log.warn(`could not move role verifiers to the secrets shard: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  move(true)
  const stop = replica.on('catalog', (changes) => {
    if (pending || !changes.some((c) => c.kind === ROLE_KIND)) return
    pending = true
    queueMicrotask(() => move(false))
  })
  return () => {
    stopped = true
    stop()
  }
}
