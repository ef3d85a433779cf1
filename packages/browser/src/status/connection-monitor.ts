/**
 * The connection state an app shows: `offline` (no node peer connected), `syncing` with
 * a progress in [0, 1], or `online` (every shard this replica holds is confirmed equal
 * on at least one connected peer), plus the number of local row changes no peer has
 * confirmed yet (`pendingChanges`).
 *
 * Confirmation is core's (`Replica.syncState`, replication/peer-confirmations.ts): a
 * shard is in sync when some connected peer last reported exactly its current state
 * hash, from the digests and diffs peers send anyway; a local write changes the hash, so
 * the shard stays unconfirmed until a peer has the write. No extra messages are sent,
 * and this package decodes none.
 *
 * Pending changes (and the rows they touched, pending-rows.ts) are counted from the
 * replica's local change events and kept in the replica's metadata (`Replica.setMeta`,
 * through its ordered storage queue; see pending-count-meta.ts), so a page reloaded
 * offline still shows its unsynced writes; both empty when the state reaches `online`.
 * `lastSyncedAt` is the last moment the state was `online`, kept the same way.
 *
 * The browser's `offline` event (the transport's `networkAvailable`) makes the state
 * `offline` at once, without waiting for a WebSocket to time out.
 */
import type { RowChange, SyncState } from '@concord/core'
import type { PeerInfo, TargetInfo } from '../transport/browser-transport.js'
import { PendingCountMeta, type MetaStore } from './pending-count-meta.js'
import { PendingRows } from './pending-rows.js'

/** What the monitor reads from the replica (core's `Replica` implements it). */
export interface MonitoredReplica extends MetaStore {
  syncState(): SyncState
  onSyncState(fn: () => void): () => void
  on(event: 'change', fn: (changes: RowChange[]) => void): () => void
}

/** What the monitor reads from the network (BrowserTransport implements it). */
export interface MonitoredNetwork {
  peerInfos(): PeerInfo[]
  targetInfos(): TargetInfo[]
  readonly isOnline: boolean
  /** The browser's view of the network; absent means available. */
  readonly networkAvailable?: boolean
  onChange(fn: () => void): () => void
}

export type ConnectionStatus = 'online' | 'syncing' | 'offline'

export interface ConnectionState {
  status: ConnectionStatus
  /** Shards confirmed in sync / shards known, in [0, 1]; 1 when online, 0 when offline. */
  progress: number
  /** Whether the app asked to be offline (`goOffline`). */
  manualOffline: boolean
  peers: PeerInfo[]
  targets: TargetInfo[]
  /** Whether the browser reports a network (false after its `offline` event). */
  networkAvailable: boolean
  /** Local row changes not yet confirmed by a peer. */
  pendingChanges: number
  /** Distinct rows those changes touched (`ConnectionMonitor.pendingKeys` lists them). */
  pendingRows: number
  /** When the replica was last `online` (ms since the epoch; now while online); null if never. */
  lastSyncedAt: number | null
}

/** Coalesce state notifications and pending-count writes. */
const NOTIFY_DELAY_MS = 50

export class ConnectionMonitor {
  private readonly listeners = new Set<(state: ConnectionState) => void>()
  private readonly unsubscribe: Array<() => void> = []
  private pending = 0
  private persistedPending = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private last: ConnectionState
  private closed = false
  private readonly pendingMeta: PendingCountMeta
  private rows = new PendingRows()
  private rowsDirty = false
  private lastSynced: number | null = null
  private readonly now: () => number

  private readonly replica: MonitoredReplica
  private readonly transport: MonitoredNetwork

  private constructor(
    replica: MonitoredReplica,
    transport: MonitoredNetwork,
    now: () => number,
  ) {
    this.replica = replica
    this.transport = transport
    this.now = now
    this.pendingMeta = new PendingCountMeta(replica)
    this.last = this.compute()
  }

  static async create(replica: MonitoredReplica, transport: MonitoredNetwork, now: () => number = Date.now): Promise<ConnectionMonitor> {
    const m = new ConnectionMonitor(replica, transport, now)
    m.pending = m.persistedPending = await m.pendingMeta.load()
    m.rows = await m.pendingMeta.loadRows()
    m.lastSynced = await m.pendingMeta.loadLastSynced()
    m.unsubscribe.push(replica.onSyncState(() => m.schedule()))
    m.unsubscribe.push(
      transport.onChange(() => {
        // Losing the network shows at once; everything else is coalesced.
        if (transport.networkAvailable === false && m.last.networkAvailable) m.refresh()
        else m.schedule()
      }),
    )
    m.unsubscribe.push(
      replica.on('change', (changes) => {
        let local = 0
        for (const c of changes) {
          if (c.origin !== 'local') continue
          local++
          if (m.rows.add(c.table, c.key)) m.rowsDirty = true
        }
        if (local > 0) m.pending += local
        m.schedule()
      }),
    )
    m.last = m.compute()
    return m
  }

  get state(): ConnectionState {
    return this.last
  }

  /** Calls `fn` now and on every change; returns the unsubscribe function. */
  subscribe(fn: (state: ConnectionState) => void): () => void {
    this.listeners.add(fn)
    fn(this.last)
    return () => this.listeners.delete(fn)
  }

  /** Resolves when `pred(state)` holds (checked on every change), or rejects after `timeoutMs`. */
  waitFor(pred: (s: ConnectionState) => boolean, timeoutMs = 30_000): Promise<ConnectionState> {
    return new Promise((resolve, reject) => {
      let off: () => void = () => {}
      const t = setTimeout(() => {
        off()
        reject(new Error(`connection state not reached in ${timeoutMs} ms (now ${this.last.status})`))
      }, timeoutMs)
      off = this.subscribe((s) => {
        if (!pred(s)) return
        clearTimeout(t)
        queueMicrotask(() => off())
        resolve(s)
      })
    })
  }

  /** Keys of `table`'s rows changed here and not yet confirmed by a peer (core's row keys). */
  pendingKeys(table: string): ReadonlySet<string> {
    return this.rows.keys(table)
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    for (const u of this.unsubscribe) u()
    this.listeners.clear()
  }

  private schedule(): void {
    if (this.closed || this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.refresh()
    }, NOTIFY_DELAY_MS)
  }

  private refresh(): void {
    if (this.closed) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    const next = this.compute()
    if (next.status === 'online' || this.last.status === 'online') {
      // In sync until now (leaving `online` is noticed within the coalescing delay).
      this.lastSynced = this.now()
      if (next.status !== 'online' || this.last.status !== 'online') this.pendingMeta.saveLastSynced(this.lastSynced)
    }
    if (next.status === 'online') {
      this.pending = 0
      if (this.rows.size > 0 || this.rows.overflow) {
        this.rows.clear()
        this.rowsDirty = true
      }
    }
    next.pendingChanges = this.pending
    next.pendingRows = this.rows.size
    next.lastSyncedAt = this.lastSynced
    if (this.pending !== this.persistedPending) {
      this.persistedPending = this.pending
      this.pendingMeta.save(this.pending)
    }
    if (this.rowsDirty) {
      this.rowsDirty = false
      this.pendingMeta.saveRows(this.rows)
    }
    this.last = next
    for (const fn of this.listeners) {
      try {
        fn(next)
      } catch {
        // An app listener cannot break the monitor.
      }
    }
  }

  private compute(): ConnectionState {
    const peers = this.transport.peerInfos()
    const networkAvailable = this.transport.networkAvailable !== false
    const base = {
      manualOffline: !this.transport.isOnline,
      networkAvailable,
      peers,
      targets: this.transport.targetInfos(),
      pendingChanges: this.pending,
      pendingRows: this.rows.size,
      lastSyncedAt: this.lastSynced,
    }
    if (peers.length === 0 || !networkAvailable) return { ...base, peers: networkAvailable ? peers : [], status: 'offline', progress: 0 }
    const sync = this.replica.syncState()
    const progress = sync.shards === 0 ? 1 : sync.confirmed / sync.shards
    return { ...base, status: progress === 1 && sync.peers > 0 ? 'online' : 'syncing', progress }
  }
}
