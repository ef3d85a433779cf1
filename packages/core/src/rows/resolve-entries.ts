/**
 * Verification: the rows a set of writer entries resolves to in a fresh document, with no
 * generation and no history dropped. The simulation campaign resolves every entry ever
 * written this way (its compaction-off twin) and compares with what replicas show.
 */
import type { TableView } from '../catalog/table-view.js'
import type { ResolverLookup } from '../merge/policy.js'
import type { Row } from '../types.js'
import { LOAD_ORIGIN, Shard } from './shard.js'

/** Rows of `entries` (entry key, raw entry) under `view`; text columns resolve to null. */
export function resolveEntriesFresh(shardId: string, view: TableView, entries: Iterable<[string, string]>, resolvers: ResolverLookup): Row[] {
  const shard = new Shard(shardId, 1, '', {
    onRows: () => {},
    onUpdate: () => {},
    resolvers,
    onMalformed: () => {},
    observe: () => {},
  })
  shard.doc.transact(() => {
    for (const [k, v] of entries) shard.map.set(k, v)
  }, LOAD_ORIGIN)
  shard.setView(view)
  const rows = [...shard.rows.values()]
  shard.doc.destroy()
  return rows
}
