/**
 * System views: PostgreSQL's catalog views a client commonly reads, and Concord's own
 * cluster views from the seed (pg_regions here; pg_nodes, pg_cluster_health and the
 * replication views in replication/replication-views.ts). Node membership comes from
 * catalog objects each node writes when it opens (kind 'node'); liveness from the
 * transport's current peers.
 */
import type { Replica } from '@concord/core'
import type { ExecCtx } from '../exec/context.js'
import type { ColumnBinding } from '../expr/scope.js'
import type { Relation } from '../plan/relation.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { columnMeta } from '../catalog/table-meta.js'
import { typeName } from '../types/sql-type.js'
import { nodeRecords, replicationView } from '../replication/replication-views.js'


function rel(cols: Array<[string, SqlType]>, rows: () => RtValue[][]): Relation {
  const columns: ColumnBinding[] = cols.map(([name, type]) => ({ name, table: null, type }))
  return { columns, rows }
}

const nodes = nodeRecords

function peers(replica: Replica): Set<string> {
  return new Set(replica.options.transport?.peers() ?? [])
}

export function systemView(replica: Replica, name: string, ctx: ExecCtx): Relation | null {
  const replication = replicationView(replica, name, ctx)
  if (replication !== null) return replication
  switch (name) {
    case 'pg_regions':
      return rel([['region_name', T.text], ['status', T.text], ['roles', T.text], ['node_count', T.int4]], () => {
        const regions = new Map<string, string>()
        for (const [n, v] of replica.listCatalog('region')) regions.set(n, ((v as { roles?: string[] }).roles ?? []).join(','))
        const members = nodes(replica)
        for (const m of members) if (!regions.has(m.region)) regions.set(m.region, '')
        const live = peers(replica)
        return [...regions.entries()].sort().map(([r, roles]) => {
          const here = members.filter((m) => m.region === r)
          const up = here.some((m) => m.nodeId === replica.nodeId || live.has(m.nodeId))
          return [r, here.length === 0 ? 'configured' : up ? 'online' : 'unreachable', roles, here.length]
        })
      })
    case 'pg_settings':
      // PostgreSQL's columns a client reads, plus `scope`: session, node or cluster.
      return rel(
        [['name', T.text], ['setting', T.text], ['unit', T.text], ['category', T.text], ['short_desc', T.text], ['context', T.text], ['vartype', T.text], ['source', T.text], ['boot_val', T.text], ['reset_val', T.text], ['scope', T.text]],
        () => ctx.settings.all().map((r) => [r.name, r.setting, null, r.scope === 'session' ? 'Client Connection Defaults' : r.scope === 'node' ? 'Concord / Node' : 'Concord / Cluster', r.description, r.context, r.vartype, r.source, r.boot, r.reset, r.scope]),
      )
    case 'pg_tables':
      return rel([['schemaname', T.name], ['tablename', T.name], ['tableowner', T.name]], () => ctx.allTables().map((t) => ['public', t.name, 'concord']))
    case 'pg_indexes':
      return rel([['schemaname', T.name], ['tablename', T.name], ['indexname', T.name], ['indexdef', T.text]], () =>
        replica.listCatalog('index').map(([n, v]) => {
          const d = v as { table: string; columns: string[]; unique: boolean }
          return ['public', d.table, n, `CREATE ${d.unique ? 'UNIQUE ' : ''}INDEX ${n} ON public.${d.table} USING btree (${d.columns.join(', ')})`]
        }))
    case 'pg_shards':
      return rel([['table_name', T.text], ['partition_of', T.text], ['shard_location', T.text]], () =>
        ctx.allTables().filter((t) => t.partitioning || (t.meta as { partitionOf?: string } | null)?.partitionOf).map((t) => [t.name, (t.meta as { partitionOf?: string } | null)?.partitionOf ?? null, t.options.shard_location ?? null]))
    case 'columns':
      return rel([['table_name', T.text], ['column_name', T.text], ['data_type', T.text], ['ordinal_position', T.int4], ['is_nullable', T.text]], () =>
        ctx.allTables().flatMap((t) => t.columns.filter((c) => !columnMeta(c).hidden).map((c, i) => {
          const m = columnMeta(c)
          return [t.name, c.name, typeName(m.t), i + 1, m.notNull || t.primaryKey.includes(c.name) ? 'NO' : 'YES']
        })))
  }
  return null
}
