/**
 * System views: PostgreSQL's catalog views a client commonly reads, and Concord's own
 * cluster views from the seed (pg_regions, pg_nodes, pg_cluster_health). Node membership
 * comes from catalog objects each node writes when it opens (kind 'node'); liveness from
 * the transport's current peers. Replication lags are not measured yet (NULL).
 */
import type { Replica } from '@concord/core'
import type { ExecCtx } from '../exec/context.js'
import type { ColumnBinding } from '../expr/scope.js'
import type { Relation } from '../plan/relation.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { columnMeta } from '../catalog/table-meta.js'
import { typeName } from '../types/sql-type.js'

export interface NodeRecord {
  nodeId: string
  region: string
  startedAt: number
}

function rel(cols: Array<[string, SqlType]>, rows: () => RtValue[][]): Relation {
  const columns: ColumnBinding[] = cols.map(([name, type]) => ({ name, table: null, type }))
  return { columns, rows }
}

function nodes(replica: Replica): NodeRecord[] {
  return replica.listCatalog('node').map(([, v]) => v as unknown as NodeRecord).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))
}

function peers(replica: Replica): Set<string> {
  return new Set(replica.options.transport?.peers() ?? [])
}

export function systemView(replica: Replica, name: string, ctx: ExecCtx): Relation | null {
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
    case 'pg_nodes':
      return rel([['node_id', T.text], ['node_name', T.text], ['region', T.text], ['node_type', T.text], ['status', T.text], ['last_heartbeat', T.timestamptz]], () => {
        const live = peers(replica)
        const mode = ctx.settings.show('high_availability_mode')
        return nodes(replica).map((n, i) => {
          const up = n.nodeId === replica.nodeId || live.has(n.nodeId)
          const type = mode === 'active_passive' && i > 0 ? 'standby' : 'primary'
          return [n.nodeId, n.nodeId, n.region, type, up ? 'online' : 'unreachable', up ? ctx.nowMicros : n.startedAt * 1000]
        })
      })
    case 'pg_cluster_health':
      return rel([['node_name', T.text], ['status', T.text], ['last_heartbeat', T.timestamptz], ['lag_bytes', T.int8]], () => {
        const live = peers(replica)
        return nodes(replica).map((n) => {
          const up = n.nodeId === replica.nodeId || live.has(n.nodeId)
          return [n.nodeId, up ? 'healthy' : 'unreachable', up ? ctx.nowMicros : n.startedAt * 1000, up ? 0n : null]
        })
      })
    case 'pg_stat_replication':
      return rel([['pid', T.int4], ['usename', T.name], ['application_name', T.text], ['client_addr', T.text], ['state', T.text], ['sent_lsn', T.text], ['write_lsn', T.text], ['flush_lsn', T.text], ['replay_lsn', T.text], ['write_lag', T.interval], ['flush_lag', T.interval], ['replay_lag', T.interval], ['sync_state', T.text]], () =>
        [...peers(replica)].sort().map((p, i) => [i + 1, 'concord', p, null, 'streaming', null, null, null, null, null, null, null, 'async']))
    case 'pg_replication_slots':
      return rel([['slot_name', T.name], ['plugin', T.name], ['slot_type', T.text], ['active', T.bool], ['restart_lsn', T.text], ['confirmed_flush_lsn', T.text]], () =>
        // A slot lives on the publishing side: this node serves the subscriptions other nodes made.
        replica.listCatalog('subscription').filter(([, v]) => (v as { node?: string } | null)?.node !== replica.nodeId).map(([n]) => [n, 'concord', 'logical', true, null, null]))
    case 'pg_publication':
      return rel([['pubname', T.name], ['puballtables', T.bool]], () => replica.listCatalog('publication').map(([n, v]) => [n, (v as { allTables?: boolean }).allTables === true]))
    case 'pg_subscription':
      return rel([['subname', T.name], ['subconninfo', T.text], ['subpublications', T.text]], () =>
        replica.listCatalog('subscription').map(([n, v]) => [n, (v as { conninfo?: string }).conninfo ?? '', ((v as { publications?: string[] }).publications ?? []).join(',')]))
    case 'pg_settings':
      return rel([['name', T.text], ['setting', T.text]], () => ctx.settings.all())
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
      return rel([['table_name', T.text], ['column_name', T.text], ['data_type', T.text], ['ordinal_position', T.int4]], () =>
        ctx.allTables().flatMap((t) => t.columns.filter((c) => !columnMeta(c).hidden).map((c, i) => [t.name, c.name, typeName(columnMeta(c).t), i + 1])))
  }
  return null
}
