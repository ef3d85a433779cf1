/**
 * The replication and cluster views, from real measurements:
 * - positions are LSNs of this node's change sequence (`replica.lsn`); a peer's
 *   write/flush/replay position is how far it acknowledged durably holding our changes
 *   (core's ACK messages), so the three are equal: a Concord replica applies a change
 *   when it stores it;
 * - lags are commit-to-acknowledgement times of the acknowledged change;
 * - `wal_keep_size` is the change window a peer may lag by and still be 'streaming'.
 *   Concord keeps no WAL: a peer further behind is brought up to date by a state-vector
 *   diff of each shard (anti-entropy), shown as state 'catchup' and slot wal_status
 *   'unreserved' until it acknowledges again.
 */
import { fnv1a, parseShardId, type PeerStatus, type Replica } from '@concord/core'
import type { ExecCtx } from '../runtime/context.js'
import type { ColumnBinding } from '../relation/scope.js'
import type { Relation } from '../relation/relation.js'
import { Interval } from '../types/interval.js'
import { arrayOf, T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { NODE_SETTING_KIND } from '../settings/settings.js'
import { memoryBytes } from '../settings/parameters.js'
import { formatLsn } from './lsn.js'
import { moveRecords, REBALANCE_MOVE_KIND } from '../placement/rebalance-job.js'
import { covers, publicationsOf, subscriptions, type SubscriptionRecord } from './replication-catalog.js'
import { objectOid } from '../catalog/catalog-model.js'
import type { SystemView } from '../runtime/system-view.js'
import { haMode, roleOf } from '../cluster/node-role.js'
import { currentTerm, PRIMARY_TERM_KIND } from '../cluster/primary-term.js'

/** Window used when wal_keep_size is 0 (PostgreSQL's default WAL segment, 16 MB). */
export const DEFAULT_KEEP_BYTES = 16 * 1024 * 1024

export interface NodeRecord {
  nodeId: string
  region: string
  startedAt: number
  addresses?: string[]
}

function rel(cols: Array<[string, SqlType]>, rows: () => RtValue[][]): Relation {
  const columns: ColumnBinding[] = cols.map(([name, type]) => ({ name, table: null, type }))
  return { columns, rows }
}

export function nodeRecords(replica: Replica): NodeRecord[] {
  return replica.listCatalog('node').map(([, v]) => v as unknown as NodeRecord).filter((n) => typeof n?.nodeId === 'string').sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1))
}


function keepBytes(ctx: ExecCtx): number {
  return memoryBytes(ctx.settings.show('wal_keep_size') ?? '0') || DEFAULT_KEEP_BYTES
}

function statusMap(replica: Replica): Map<string, PeerStatus> {
  return new Map(replica.replicator.peerStatus().map((s) => [s.nodeId, s]))
}

function pidOf(nodeId: string): number {
  return 10_000 + (fnv1a(new TextEncoder().encode(nodeId)) % 90_000)
}

function micros(ms: number | null): number | null {
  return ms === null ? null : ms * 1000
}

function lagInterval(ms: number | null): Interval | null {
  return ms === null ? null : new Interval(0, 0, Math.round(ms * 1000))
}

function pgHost(addresses: string[] | undefined): string | null {
  for (const a of addresses ?? []) {
    const m = /^postgresql:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)/.exec(a)
    if (m) return m[1]!.replace(/^\[|\]$/g, '')
  }
  return null
}

/** The node label: SET / ALTER SYSTEM SET node_id on that node, else its node id. */
function nodeName(replica: Replica, ctx: ExecCtx, nodeId: string): string {
  if (nodeId === replica.nodeId) return ctx.settings.show('node_id') ?? nodeId
  const v = replica.getCatalog(NODE_SETTING_KIND, `${nodeId}/node_id`)
  return typeof v === 'string' ? v : nodeId
}

function isSubscribedOneWay(subs: SubscriptionRecord[], nodeId: string): boolean {
  return subs.some((s) => s.node === nodeId && s.enabled && s.publisher !== null && !subs.some((r) => r.node === s.publisher && r.publisher === nodeId && r.enabled))
}

function replicationView(replica: Replica, name: string, ctx: ExecCtx): Relation | null {
  switch (name) {
    case 'pg_stat_replication':
      return rel([
        ['pid', T.int4], ['usesysid', T.oid], ['usename', T.name], ['application_name', T.text], ['client_addr', T.text], ['client_hostname', T.text],
        ['client_port', T.int4], ['backend_start', T.timestamptz], ['backend_xmin', T.text], ['state', T.text], ['sent_lsn', T.text], ['write_lsn', T.text],
        ['flush_lsn', T.text], ['replay_lsn', T.text], ['write_lag', T.interval], ['flush_lag', T.interval], ['replay_lag', T.interval],
        ['sync_priority', T.int4], ['sync_state', T.text], ['reply_time', T.timestamptz],
      ], () => {
        const lsn = replica.lsn
        const keep = keepBytes(ctx)
        const nodes = new Map(nodeRecords(replica).map((n) => [n.nodeId, n]))
        return replica.replicator.peerStatus().filter((p) => p.connected).map((p) => {
          const pos = formatLsn(p.ackedLsn)
          const lag = lagInterval(p.lagMs)
          const node = nodes.get(p.nodeId)
          return [pidOf(p.nodeId), 10, 'concord', p.nodeId, pgHost(node?.addresses), null, null, micros(node?.startedAt ?? null), null,
            lsn - p.ackedLsn > keep ? 'catchup' : 'streaming', formatLsn(lsn), pos, pos, pos, lag, lag, lag, 0, 'async', micros(p.ackedAt)]
        })
      })
    case 'pg_replication_slots':
      // A slot lives on the publisher: one per live subscription other nodes made to this node.
      return rel([
        ['slot_name', T.name], ['plugin', T.name], ['slot_type', T.text], ['datoid', T.oid], ['database', T.name], ['temporary', T.bool],
        ['active', T.bool], ['active_pid', T.int4], ['xmin', T.text], ['catalog_xmin', T.text], ['restart_lsn', T.text], ['confirmed_flush_lsn', T.text],
        ['wal_status', T.text], ['safe_wal_size', T.int8], ['two_phase', T.bool], ['conflicting', T.bool], ['subscriber', T.text],
      ], () => {
        const st = statusMap(replica)
        const lsn = replica.lsn
        const keep = keepBytes(ctx)
        return subscriptions(replica).filter((s) => s.publisher === replica.nodeId).map((s) => {
          const p = st.get(s.node)
          const acked = p?.ackedLsn ?? 0
          const active = s.enabled && p?.connected === true
          const behind = lsn - acked
          return [s.name, 'pgoutput', 'logical', 1, 'concord', false, active, active ? pidOf(s.node) : null, null, null, formatLsn(acked), formatLsn(acked),
            behind > keep ? 'unreserved' : 'reserved', BigInt(keep - behind), false, false, s.node]
        })
      })
    case 'pg_subscription':
      return rel([
        ['oid', T.oid], ['subdbid', T.oid], ['subname', T.name], ['subowner', T.oid], ['subenabled', T.bool], ['subbinary', T.bool], ['substream', T.text],
        ['subslotname', T.name], ['subsynccommit', T.text], ['subconninfo', T.text], ['subpublications', T.text], ['subpublisher', T.text],
      ], () => subscriptions(replica, replica.nodeId).map((s) => [
        pidOf(`sub/${s.name}`), 1, s.name, 10, s.enabled, false, 'f', s.name, 'off', s.conninfo, `{${s.publications.join(',')}}`, s.publisher,
      ]))
    case 'pg_stat_subscription':
      return rel([
        ['subid', T.oid], ['subname', T.name], ['pid', T.int4], ['received_lsn', T.text], ['last_msg_send_time', T.timestamptz],
        ['last_msg_receipt_time', T.timestamptz], ['latest_end_lsn', T.text], ['latest_end_time', T.timestamptz], ['publisher', T.text], ['sync_state', T.text],
      ], () => {
        const st = statusMap(replica)
        return subscriptions(replica, replica.nodeId).map((s) => {
          const p = s.publisher === null ? undefined : st.get(s.publisher)
          const running = s.enabled && p?.connected === true
          const received = p?.receivedLsn ?? 0
          const ready = s.publisher !== null && received > 0 && received >= s.startLsn
          return [pidOf(`sub/${s.name}`), s.name, running ? pidOf(s.publisher!) : null, formatLsn(received), null, micros(p?.lastSeen ?? null),
            formatLsn(received), micros(p?.lastSeen ?? null), s.publisher, s.publisher === null ? 'not connected' : ready ? 'ready' : 'copying']
        })
      })
    case 'pg_subscription_rel':
      // Per table of a subscription: 'd' while the initial copy runs (the publisher's LSN at
      // CREATE SUBSCRIPTION not yet held), 'r' once it is.
      return rel([['srsubid', T.oid], ['subname', T.name], ['srrelname', T.text], ['srsubstate', T.text], ['srsublsn', T.text]], () => {
        const st = statusMap(replica)
        const out: RtValue[][] = []
        for (const s of subscriptions(replica, replica.nodeId)) {
          if (s.publisher === null) continue
          const pubs = publicationsOf(replica, s.publisher).filter((p) => s.publications.includes(p.name))
          const received = st.get(s.publisher)?.receivedLsn ?? 0
          const state = received > 0 && received >= s.startLsn ? 'r' : 'd'
          for (const t of ctx.allTables()) if (pubs.some((p) => covers(p, t.name))) out.push([pidOf(`sub/${s.name}`), s.name, t.name, state, formatLsn(received)])
        }
        return out
      })
    case 'pg_publication':
      return rel([
        ['oid', T.oid], ['pubname', T.name], ['pubowner', T.oid], ['puballtables', T.bool], ['pubinsert', T.bool], ['pubupdate', T.bool],
        ['pubdelete', T.bool], ['pubtruncate', T.bool], ['pubviaroot', T.bool],
      ], () => publicationsOf(replica, replica.nodeId).map((p) => [pidOf(`pub/${p.name}`), p.name, 10, p.allTables, true, true, true, true, false]))
    case 'pg_publication_rel':
      // The tables a FOR TABLE publication names (FOR ALL TABLES ones list none, as in PostgreSQL).
      return rel([['oid', T.oid], ['prpubid', T.oid], ['prrelid', T.oid], ['prqual', T.text], ['prattrs', arrayOf(T.int2)]], () =>
        publicationsOf(replica, replica.nodeId).filter((p) => !p.allTables).flatMap((p) =>
          ctx.allTables().filter((t) => covers(p, t.name)).map((t) => [pidOf(`pubrel/${p.name}/${t.name}`), pidOf(`pub/${p.name}`), objectOid('table', t.name), null, null])))
    case 'pg_publication_tables':
      return rel([['pubname', T.name], ['schemaname', T.name], ['tablename', T.name]], () =>
        publicationsOf(replica, replica.nodeId).flatMap((p) => ctx.allTables().filter((t) => covers(p, t.name)).map((t) => [p.name, 'public', t.name])))
    case 'pg_cluster_health':
      // 'diverged': some shard shows other rows on that node than here although both hold
      // the same Yjs state (anti-entropy compares row hashes too): replicas that differ are
      // never reported healthy. diverged_shards names them (table/partition).
      return rel([['node_name', T.text], ['status', T.text], ['last_heartbeat', T.timestamptz], ['lag_bytes', T.int8], ['replication_lag', T.interval], ['node_id', T.text], ['diverged_shards', T.text]], () => {
        const st = statusMap(replica)
        const lsn = replica.lsn
        const keep = keepBytes(ctx)
        const diverged = new Map<string, string[]>()
        for (const d of replica.replicator.divergences()) {
          if (!d.confirmed) continue
          const list = diverged.get(d.peer) ?? []
          const parsed = parseShardId(d.shard)
          list.push(parsed === null ? d.shard : `${parsed.table}/${parsed.partition}`)
          diverged.set(d.peer, list)
        }
        return nodeRecords(replica).map((n) => {
          if (n.nodeId === replica.nodeId) return [nodeName(replica, ctx, n.nodeId), 'healthy', ctx.nowMicros, 0n, new Interval(0, 0, 0), n.nodeId, null]
          const p = st.get(n.nodeId)
          const behind = lsn - (p?.ackedLsn ?? 0)
          const apart = diverged.get(n.nodeId)
          const status = p?.connected !== true ? 'unreachable' : apart !== undefined ? 'diverged' : behind > keep ? 'catching_up' : 'healthy'
          return [nodeName(replica, ctx, n.nodeId), status, micros(p?.lastSeen ?? null), BigInt(behind), lagInterval(p?.lagMs ?? null), n.nodeId, apart === undefined ? null : apart.join(',')]
        })
      })
    case 'pg_stat_concord_shards':
      // Storage compaction at a glance, per shard this node holds: its generation, older
      // generations still held, live rows against stored entries and history not yet
      // rewritten away, tombstones dropped here, and which member builds its generations.
      // Placement: shard_location and the node ids holding a placed shard (null: every node
      // of the table's regions); held_here is false for a copy written here before the shard
      // was placed elsewhere, kept until a holder has it all; caught_up is false while this
      // node, new to the table, has not caught up on it (reads of it go to a holder).
      // hibernated: the shard's CRDT document is put away (idle past --hibernate-after),
      // only its rows held; its next write loads it again. Nothing here loads it.
      // committing: a large commit is being applied to it in slices (decision 0038): its
      // rows show none of that commit until all of it is in, and writes wait for it.
      return rel([
        ['table_name', T.text], ['partition', T.int4], ['generation', T.int8], ['overlays', T.int4], ['live_rows', T.int8],
        ['entries', T.int8], ['history_items', T.int8], ['tombstones_dropped', T.int8], ['builder', T.text],
        ['shard_location', T.text], ['held_by', T.text], ['held_here', T.bool], ['caught_up', T.bool], ['hibernated', T.bool], ['committing', T.bool],
      ], () => {
        const out: RtValue[][] = []
        for (const s of replica.shards.values()) {
          const parsed = parseShardId(s.id)
          if (parsed === null || s.table === null) continue
          const placed = replica.placementOf(s.id)
          out.push([
            s.table.info.name, parsed.partition, BigInt(s.generation), s.prevs.length, BigInt(s.rows.size), BigInt(s.entryCount), BigInt(s.garbage()),
            BigInt(s.tombstonesDropped), replica.builderOf(s.id), placed?.location ?? null, placed === null ? null : [...placed.nodes].sort().join(','), replica.holdsHere(s.id),
            replica.caughtUp(s.table.info), s.isDeferred, s.isHeld,
          ])
        }
        return out.sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : String(x[0]) > String(y[0]) ? 1 : Number(x[1]) - Number(y[1])))
      })
    case 'pg_stat_concord_rebalance':
      // The shard moves of ALTER TABLE .. REBALANCE SHARDS (placement/rebalance-job.ts), one
      // row per move as the catalog records it: from_nodes and to_nodes are node id lists;
      // state 'copying' (the new nodes are catching up), 'done' (placement switched; the
      // old nodes drop their copies once a new holder has every update), 'cancelled'. On a
      // new node running a move, bytes_done is what it holds of the shard now.
      return rel([
        ['table_name', T.text], ['shard', T.text], ['partition', T.int4], ['from_nodes', T.text], ['to_nodes', T.text], ['rows_total', T.int8],
        ['bytes_total', T.int8], ['bytes_done', T.int8], ['state', T.text], ['started_at', T.timestamptz], ['finished_at', T.timestamptz],
      ], () =>
        moveRecords(replica.listCatalog(REBALANCE_MOVE_KIND))
          .sort(([a, x], [b, y]) => x.started - y.started || (a < b ? -1 : 1))
          .map(([id, m]) => {
            const here = m.state === 'copying' && m.to.filter((n) => !m.from.includes(n))[0] === replica.nodeId ? replica.shards.get(id) : undefined
            const done = here === undefined ? m.bytesDone : Math.min(m.bytes, here.encodeState().length)
            return [m.table, m.shard, m.partition, [...m.from].sort().join(','), [...m.to].sort().join(','), BigInt(m.rows), BigInt(m.bytes), BigInt(done), m.state, micros(m.started), micros(m.finished)]
          }))
    case 'pg_nodes':
      // node_type: every node is a writable 'master' in multi_master mode (a one-way
      // subscriber shows as 'standby'); in active_passive mode the current term's node is
      // the 'primary' and every other a 'standby' (cluster/node-role.ts). lag: how far
      // behind this node's changes the node is (bytes, and the time of the last
      // acknowledged change); epoch: the current primary term.
      return rel([
        ['node_id', T.text], ['node_name', T.text], ['node_type', T.text], ['region', T.text], ['status', T.text], ['addresses', T.text],
        ['last_heartbeat', T.timestamptz], ['lag', T.interval], ['lag_bytes', T.int8], ['epoch', T.int8],
      ], () => {
        const st = statusMap(replica)
        const mode = haMode(ctx.settings.show('high_availability_mode'))
        const term = currentTerm(replica.listCatalog(PRIMARY_TERM_KIND))
        const subs = subscriptions(replica)
        const lsn = replica.lsn
        // Members the cluster declared departed (silent past the compaction horizon).
        const departed = new Set(replica.members().filter((m) => m.departed).map((m) => m.nodeId))
        return nodeRecords(replica).map((n) => {
          const self = n.nodeId === replica.nodeId
          const p = st.get(n.nodeId)
          const up = self || p?.connected === true
          const type = self ? ctx.replication().role : roleOf(mode, term, n.nodeId)
          const shown = type === 'master' && isSubscribedOneWay(subs, n.nodeId) ? 'standby' : type
          const status = departed.has(n.nodeId) && !up ? 'departed' : up ? 'online' : 'unreachable'
          const lag = self ? new Interval(0, 0, 0) : lagInterval(p?.lagMs ?? null)
          const lagBytes = self ? 0n : BigInt(Math.max(0, lsn - (p?.ackedLsn ?? 0)))
          return [
            n.nodeId, nodeName(replica, ctx, n.nodeId), shown, n.region, status, (n.addresses ?? []).join(','), self ? ctx.nowMicros : micros(p?.lastSeen ?? null),
            lag, lagBytes, term === null ? null : BigInt(term.epoch),
          ]
        })
      })
  }
  return null
}

const NAMES = [
  'pg_stat_replication', 'pg_replication_slots', 'pg_subscription', 'pg_stat_subscription', 'pg_subscription_rel', 'pg_publication',
  'pg_publication_rel', 'pg_publication_tables', 'pg_cluster_health', 'pg_stat_concord_shards', 'pg_stat_concord_rebalance', 'pg_nodes',
]

/** The replication and cluster views, for the system view registry. */
export const REPLICATION_VIEWS: Record<string, SystemView> = Object.fromEntries(NAMES.map((n) => [n, (ctx) => replicationView(ctx.replica, n, ctx.exec)!]))
