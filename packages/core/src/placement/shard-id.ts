/**
 * Shard ids (docs/decisions/0002-shard-documents.md). One shard per (table incarnation,
 * partition): `t:<incarnation>:<partition>:<table>`; the catalog is the shard `catalog`, and
 * the catalog's secrets (role verifiers) the shard `secrets`
 * (docs/decisions/0034-role-secrets-off-browsers.md).
 * Which regions hold a shard comes from its table, not the id, so changing a table's
 * regions moves no data between documents.
 */

/** The catalog's shard: held by every replica. */
export const CATALOG_SHARD = 'catalog'

/**
 * The secrets' shard: held by every replica, as the catalog, but a peer scope never
 * serves it (a scoped browser reads the catalog and its tables only), so what must not
 * leave the nodes lives here.
 */
export const SECRETS_SHARD = 'secrets'

/** Whether a shard id is one of the system shards (no table's: never compacted, never in a row snapshot). */
export function isSystemShard(id: string): boolean {
  return id === CATALOG_SHARD || id === SECRETS_SHARD
}

export function shardId(table: string, incarnation: number, partition: number): string {
  return `t:${incarnation}:${partition}:${table}`
}

/** Parses a shard id `t:incarnation:partition:table`; null for anything else. */
export function parseShardId(id: string): { table: string; incarnation: number; partition: number } | null {
  if (!id.startsWith('t:')) return null
  const a = id.indexOf(':', 2)
  const b = a < 0 ? -1 : id.indexOf(':', a + 1)
  if (a < 0 || b < 0) return null
  const incarnation = Number(id.slice(2, a))
  const partition = Number(id.slice(a + 1, b))
  if (!Number.isSafeInteger(incarnation) || !Number.isSafeInteger(partition) || incarnation < 1 || partition < 0) return null
  return { table: id.slice(b + 1), incarnation, partition }
}
