/**
 * `openReplica`: a SQL database in the page, durable in IndexedDB and replicating with
 * node peers over libp2p WebSockets. It returns the same `Database` as `openDatabase`
 * on Node (query, queryAll, session, replica, close) with the browser's extras attached:
 * the connection monitor and offline/online switches.
 *
 * The replica's node id is created once per replica name and kept in its storage, so a
 * reload is the same node: its unsynced writes keep their author, and nothing is sent
 * twice under two names.
 */
import { Database, DEFAULT_PAUSE_RUNS_MS, DEFAULT_SLICE_COMMIT_ROWS, restrictWrites } from '@concord/sql-facade'
import { decodeBrowserToken } from '@concord/p2p'
import { encodeRowKey, RowCheckpoint, type Scheduler, type Value } from '@concord/core'
import { IdbStorage } from './storage/idb-storage.js'
import { BrowserTransport, type BrowserTransportOptions } from './transport/browser-transport.js'
import { ConnectionMonitor, type ConnectionState } from './status/connection-monitor.js'

export interface OpenReplicaOptions {
  /** Replica name: one IndexedDB database and one node id per name. */
  name: string
  /**
   * Node peers to dial: WebSocket multiaddrs (`/p2p/<peer id>` optional), `host:ws-port`,
   * or `ws://` / `wss://` URLs; entries may be comma-separated. Anything else rejects.
   */
  join: string | string[]
  /**
   * Region this replica serves; it holds only the shards of tables replicated to it.
   * Default: the first region the token names (a read-write one before a read-only one),
   * else 'default'.
   */
  region?: string
  /** Start without dialing (the user chose offline before a reload). */
  offline?: boolean
  /**
   * A scoped browser token from the node (`concord_browser_token`): the tables this
   * replica may read and write there, those it may only read, the regions whose rows it
   * may read and write, and those whose rows it may only read. The replica then refuses
   * (42501) writes the node would not take: rows of other tables or of read-only regions, DDL.
   */
  token?: string
  /** Node id on first open; default `browser-<random>`. Ignored once one is stored. */
  nodeId?: string
  /** Milliseconds between anti-entropy rounds; default 1000. */
  antiEntropyIntervalMs?: number
  signGossip?: boolean
  backoff?: BrowserTransportOptions['backoff']
  indexedDB?: IDBFactory
  scheduler?: Scheduler
  log?: BrowserTransportOptions['log']
}

export interface BrowserExtras {
  readonly connection: ConnectionMonitor
  readonly network: BrowserTransport
  /** Hangs up and stops dialing; writes keep working and stay pending. */
  goOffline(): Promise<void>
  /** Redials every known node peer now. */
  goOnline(): Promise<void>
  /** Convenience: the current connection state. */
  status(): ConnectionState
  /**
   * Stores the replica's rows now, so the next open (a reload) starts from them instead
   * of resolving every stored record again; done on its own after a second with no row
   * change and when the page is hidden. Resolves false if writes are still in flight.
   */
  checkpoint(): Promise<boolean>
  /** Whether the row of `table` with this primary key (values in key column order) was written here and no node peer has confirmed it yet. */
  isPending(table: string, key: readonly Value[]): boolean
}

export type BrowserDatabase = Database & BrowserExtras

const NODE_ID_META_KEY = 'browser/node-id'

export async function openReplica(options: OpenReplicaOptions): Promise<BrowserDatabase> {
  const release = await holdNameLock(options.name)
  try {
    return await openLocked(options, release)
  } catch (err) {
    release()
    throw err
  }
}

async function openLocked(options: OpenReplicaOptions, release: () => void): Promise<BrowserDatabase> {
  // A damaged token fails the open here, before anything is stored or dialed.
  const scope = options.token !== undefined ? decodeBrowserToken(options.token) : undefined
  const storage = new IdbStorage({ name: options.name, ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}) })
  let nodeId: string
  try {
    nodeId = await loadOrCreateNodeId(storage, options.nodeId)
  } catch (err) {
    // A damaged or unknown-format database: closed, so the page can delete it (deleteIdbStorage).
    storage.close()
    throw err
  }
  const transport = new BrowserTransport({
    nodeId,
    join: options.join,
    offline: options.offline,
    ...(options.token !== undefined ? { token: options.token } : {}),
    signGossip: options.signGossip,
    backoff: options.backoff,
    scheduler: options.scheduler,
    log: options.log,
  })
  let db: Database
  try {
    db = await Database.open({
      nodeId,
      // A region-scoped token's rows are those placed in its regions: the replica holds them as one of their nodes does.
      region: options.region ?? scope?.regions[0] ?? scope?.readOnlyRegions[0] ?? 'default',
      storage,
      transport,
      // Offline-first: the page answers from its own rows and shows sync status (ConnectionMonitor).
      answerBeforeCatchUp: true,
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      ...(options.antiEntropyIntervalMs !== undefined ? { antiEntropyIntervalMs: options.antiEntropyIntervalMs } : {}),
    })
  } catch (err) {
    await transport.stop().catch(() => undefined)
    storage.close()
    throw err
  }
  // Large commits apply in slices and DO blocks pause, the page served meanwhile (decisions 0038, 0039); a test's own scheduler moves only when driven.
  if (options.scheduler === undefined) {
    db.sliceCommitRows = DEFAULT_SLICE_COMMIT_ROWS
    db.pauseRunsAfterMs = DEFAULT_PAUSE_RUNS_MS
  }
  if (scope !== undefined) {
    restrictWrites(db.replica, { tables: scope.tables, readOnly: scope.readOnly, regions: scope.regions, readOnlyRegions: scope.readOnlyRegions })
  }
  const connection = await ConnectionMonitor.create(db.replica, transport)
  const stopWatching = watchBrowserNetwork(transport)
  const checkpoint = new RowCheckpoint(db.replica, { scheduler: options.scheduler ?? timerScheduler })
  const stopHiding = watchPageHidden(() => void checkpoint.checkpointNow())
  const close = db.close.bind(db)
  const extras: BrowserExtras = {
    connection,
    network: transport,
    goOffline: () => transport.setOnline(false),
    goOnline: () => transport.setOnline(true),
    status: () => connection.state,
    checkpoint: () => checkpoint.checkpointNow(),
    isPending: (table, key) => connection.pendingKeys(table).has(encodeRowKey(key)),
  }
  Object.defineProperties(db, Object.getOwnPropertyDescriptors(extras))
  Object.defineProperty(db, 'close', {
    value: async () => {
      stopWatching()
      stopHiding()
      checkpoint.stop()
      connection.close()
      await close()
      storage.close()
      release()
    },
  })
  return db as BrowserDatabase
}

/**
 * Follows the browser's `online` / `offline` events (and `navigator.onLine` at open), so
 * a lost network shows and hangs up at once and a regained one redials at once. Where
 * there is no `window` (a worker, Node), nothing is watched.
 */
function watchBrowserNetwork(transport: BrowserTransport): () => void {
  const target = typeof window !== 'undefined' ? window : undefined
  if (!target || typeof target.addEventListener !== 'function') return () => {}
  const onOnline = (): void => void transport.setNetworkAvailable(true)
  const onOffline = (): void => void transport.setNetworkAvailable(false)
  target.addEventListener('online', onOnline)
  target.addEventListener('offline', onOffline)
  if (typeof navigator !== 'undefined' && navigator.onLine === false) onOffline()
  return () => {
    target.removeEventListener('online', onOnline)
    target.removeEventListener('offline', onOffline)
  }
}

/** Calls `fn` when the page is hidden or being unloaded: the last moment a closing tab reliably gets. */
function watchPageHidden(fn: () => void): () => void {
  if (typeof document === 'undefined' || typeof window === 'undefined') return () => {}
  const onVisibility = (): void => {
    if (document.visibilityState === 'hidden') fn()
  }
  document.addEventListener('visibilitychange', onVisibility)
  window.addEventListener('pagehide', fn)
  return () => {
    document.removeEventListener('visibilitychange', onVisibility)
    window.removeEventListener('pagehide', fn)
  }
}

const timerScheduler: Scheduler = {
  setTimeout(ms, fn) {
    const t = setTimeout(fn, ms)
    return () => clearTimeout(t)
  },
}

export class ReplicaInUseError extends Error {
  constructor(name: string) {
    super(`replica '${name}' is open in another tab or worker`)
    this.name = 'ReplicaInUseError'
  }
}

/**
 * One open replica per name per origin: two tabs sharing a name would share a node id
 * and each write that node's entries, and Yjs would keep only one of two concurrent
 * writes to an entry. A Web Lock held while the replica is open prevents that.
 */
async function holdNameLock(name: string): Promise<() => void> {
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined
  if (!locks) return () => {}
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const granted = await new Promise<boolean>((resolve) => {
    void locks.request(`concord:${name}`, { ifAvailable: true }, (lock) => {
      resolve(lock !== null)
      return lock === null ? undefined : held
    })
  })
  if (!granted) throw new ReplicaInUseError(name)
  return release
}

async function loadOrCreateNodeId(storage: IdbStorage, wanted: string | undefined): Promise<string> {
  const stored = await storage.getMeta(NODE_ID_META_KEY)
  if (stored) return new TextDecoder().decode(stored)
  const bytes = new Uint8Array(6)
  crypto.getRandomValues(bytes)
  const id = wanted ?? `browser-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`
  await storage.setMeta(NODE_ID_META_KEY, new TextEncoder().encode(id))
  return id
}
