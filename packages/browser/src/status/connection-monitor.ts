/**
 * The connection state an app shows: `offline` (no node peer connected), `syncing` with
 * a progress in [0, 1], or `online` (every shard this replica holds is confirmed equal
 * on at least one connected peer), plus the number of local row changes no peer has
 * confirmed yet (`pendingChanges`).
 *
 * Confirmation comes from what peers already send in the replication protocol: a DIGEST
 * lists a peer's hash of each shard we both hold, and a SYNC_DIFF carries the sender's
 * hash after its state. A shard is in sync when its current local digest equals the last
 * hash some connected peer reported for it; a local write changes the digest, so the
 * shard stays unconfirmed until a peer has the write. No extra messages are sent.
 *
 * Peers' messages are read with core's own decoder; a message that does not decode is
 * ignored here (the replica rejects and counts it).
 *
 * Pending changes are counted from the replica's local change events and persisted in
 * storage metadata (pending-count-meta.ts), so a page reloaded offline still shows its
 * unsynced writes; the count drops to zero when the state reaches `online`.
 */
import { decodeMessage, MessageType, type Message, type RowChange } from '@concord/core'
import type { PeerInfo, TargetInfo, TrafficTap } from '../transport/browser-transport.js'
import { PendingCountMeta, type MetaStore } from './pending-count-meta.js'

/** What the monitor reads from the replica (core's `Replica` implements it). */
export interface MonitoredReplica {
  readonly region: string
  /** The local digest of each shard held. */
  digests(): Map<string, number>
  holds(region: string, shardId: string): boolean
  on(event: 'change', fn: (changes: RowChange[]) => void): () => void
  /** Only for the pending count (see pending-count-meta.ts). */
  readonly storage: MetaStore
}

/** What the monitor reads from the network (BrowserTransport implements it). */
export interface MonitoredNetwork {
  peerInfos(): PeerInfo[]
  targetInfos(): TargetInfo[]
  readonly isOnline: boolean
  setTap(tap: TrafficTap | undefined): void
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
  /** Local row changes not yet confirmed by a peer. */
  pendingChanges: number
}

/** Coalesce state notifications and pending-count writes. */
const NOTIFY_DELAY_MS = 50

export class ConnectionMonitor {
  /** Last hash each peer reported per shard. */
  private readonly peerHashes = new Map<string, Map<string, number>>()
  private readonly listeners = new Set<(state: ConnectionState) => void>()
  private readonly unsubscribe: Array<() => void> = []
  private pending = 0
  private persistedPending = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private last: ConnectionState
  private closed = false
  private readonly pendingMeta: PendingCountMeta

  private readonly replica: MonitoredReplica
  private readonly transport: MonitoredNetwork

  private constructor(
    replica: MonitoredReplica,
    transport: MonitoredNetwork,
  ) {
    this.replica = replica
    this.transport = transport
    this.pendingMeta = new PendingCountMeta(replica)
    this.last = this.compute()
  }

  static async create(replica: MonitoredReplica, transport: MonitoredNetwork): Promise<ConnectionMonitor> {
    const m = new ConnectionMonitor(replica, transport)
    m.pending = m.persistedPending = await m.pendingMeta.load()
    transport.setTap((from, data) => m.onTraffic(from, data))
    m.unsubscribe.push(transport.onChange(() => m.schedule()))
    m.unsubscribe.push(
      replica.on('change', (changes) => {
        let local = 0
        for (const c of changes) if (c.origin === 'local') local++
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

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.transport.setTap(undefined)
    for (const u of this.unsubscribe) u()
    this.listeners.clear()
  }

  private onTraffic(from: string, data: Uint8Array): void {
    // Any message may change local digests; only digests and diffs carry peer hashes.
    this.schedule()
    let msg: Message
    try {
      msg = decodeMessage(data)
    } catch {
      return
    }
    if (msg.type !== MessageType.Digest && msg.type !== MessageType.SyncDiff) return
    let hashes = this.peerHashes.get(from)
    if (!hashes) {
      hashes = new Map()
      this.peerHashes.set(from, hashes)
    }
    if (msg.type === MessageType.Digest) for (const d of msg.digests) hashes.set(d.shard, d.hash)
    else if (msg.type === MessageType.SyncDiff) for (const d of msg.diffs) hashes.set(d.shard, d.hash)
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
    const next = this.compute()
    if (next.status === 'online') this.pending = 0
    next.pendingChanges = this.pending
    if (this.pending !== this.persistedPending) {
      this.persistedPending = this.pending
      this.pendingMeta.save(this.pending)
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
    const base = { manualOffline: !this.transport.isOnline, peers, targets: this.transport.targetInfos(), pendingChanges: this.pending }
    if (peers.length === 0) return { ...base, status: 'offline', progress: 0 }
    for (const id of [...this.peerHashes.keys()]) if (!peers.some((p) => p.nodeId === id)) this.peerHashes.delete(id)
    const local = this.replica.digests()
    const shards = new Set(local.keys())
    for (const hashes of this.peerHashes.values()) for (const s of hashes.keys()) if (this.replica.holds(this.replica.region, s)) shards.add(s)
    let synced = 0
    for (const s of shards) {
      const mine = local.get(s)
      if (mine === undefined) continue
      for (const hashes of this.peerHashes.values()) {
        if (hashes.get(s) === mine) {
          synced++
          break
        }
      }
    }
    const progress = shards.size === 0 ? 1 : synced / shards.size
    return { ...base, status: progress === 1 && this.peerHashes.size > 0 ? 'online' : 'syncing', progress }
  }
}
