/**
 * A running Concord server peer: LMDB storage, libp2p transport, the replica and SQL
 * layer over them, the PostgreSQL wire server and the HTTP endpoint, started in that
 * order and stopped in reverse.
 *
 * Two ways in for harnesses (`concord start --memory --no-p2p`): `memory` (or a `storage`
 * the caller supplies) keeps the data in memory and writes nothing to disk, not even the
 * data directory; `p2p: false` starts no libp2p at all (no listeners, no joins), so the
 * node serves SQL alone.
 *
 * Invariants: on disk, everything lives under `dataDir` (node id, libp2p key, LMDB files),
 * so a restart from the same directory is the same node with the same data; in memory,
 * nothing is created under `dataDir`. `stop` releases every port and file handle, closes
 * the storage it opened (never one the caller supplied), and no timer of the node
 * outlives it.
 *
 * Closed by default (docs/security.md): every listener binds 127.0.0.1 unless told
 * otherwise, the data directory and its files are owner-only (data-dir.ts), and a peer
 * port beyond loopback, or beside a password, is keyed (peer-port-policy.ts).
 */
import { DEFAULT_MAX_REMOTE_VALUE_BYTES, MemoryStorage, RowCheckpoint, ShardHibernation, type ReplicaOptions, type Storage } from '@concord/core'
import { HeapReturn } from './heap-return.js'
import { afterNextPoll } from '../storage/after-next-poll.js'
import { IdleHeapWatch } from './idle-heap.js'
import { oversizedLog } from './oversized-update-log.js'
import { BROWSER_GRANT_KIND, DEFAULT_PAUSE_RUNS_MS, DEFAULT_SLICE_COMMIT_ROWS, PEER_MEMBER_KIND, SqlError, SqlState, parserHealth, setParserLoader } from '@concord/sql-facade'
import type { PrivateKey } from '@libp2p/interface'
import { join } from 'node:path'
// LMDB and libp2p load only when the node uses them (dynamic imports in start): a
// `--memory --no-p2p` node starts without reading either.
import type { Libp2pTransport, TransportStats } from '../transport/libp2p-transport.js'
import { DEFAULT_MAX_CONNECTIONS } from '../pgwire/connection-limits.js'
import { PgServer } from '../pgwire/pg-server.js'
import type { TlsRequirement } from '../pgwire/client-authentication.js'
import { loadPgTls, type PgTlsFiles, type PgTlsMaterial } from './tls-files.js'
import { HttpServer } from '../http/http-server.js'
import { consoleState } from '../http/console-state.js'
import type { Metric } from '../http/prometheus-text.js'
import { isLoopbackHost } from '../transport/loopback-host.js'
import { loadOrCreateNodeId, newNodeId } from './node-id.js'
import { openDataDir } from './data-dir.js'
import { lockDataDir, type DataDirLock } from './data-dir-lock.js'
import type { PeerPortKey } from './peer-port-policy.js'
import { fetchP2pAddresses, parsePgAddress, type PgAddress } from './pg-join.js'
import { openSqlEngine, type SqlEngine } from './sql-engine.js'
import { openBackupStore } from '../backup/backup-store-url.js'
import { CatchUpLog } from './catch-up-log.js'
import { boundRegExpBacktracking } from './regexp-backtracking.js'
import { freshParser } from './parser-reload.js'
import { pgConnector } from './pg-connector.js'
import { JoinTokens } from './join-tokens.js'
import { PeerMembership } from './peer-membership.js'
import { BrowserGrants } from './browser-grants.js'
import { watchRoleVerifiers } from './role-verifier-move.js'
import { MemberRights } from './member-rights.js'
import { errorMessage, silentLogger, type Logger } from '../log/logger.js'

export interface ConcordNodeOptions {
  /** Where node id, libp2p key and LMDB files live; required unless `memory` or `storage`. */
  dataDir?: string
  /**
   * Keep the data in memory (a core MemoryStorage): nothing is written to disk and no data
   * directory is created; the data is gone when the node stops. Default false.
   */
  memory?: boolean
  /**
   * The storage to run on instead of LMDB (implies nothing on disk, like `memory`). The
   * caller owns it: `stop` does not close it, so a harness can keep a MemoryStorage across
   * restarts, or start a node on a copy (`MemoryStorage.fromSnapshot`).
   */
  storage?: Storage
  /** Start libp2p (listeners, joins, replication to peers); default true. */
  p2p?: boolean
  /** Default: kept in `<dataDir>/node-id`, generated on first start (in memory: every start). */
  nodeId?: string
  region?: string
  /** Address the PostgreSQL server listens on (and HTTP, unless `httpHost`); default 127.0.0.1. */
  host?: string
  /** Address the HTTP server listens on; default `host`. Beyond loopback, /health leaves out ids and addresses. */
  httpHost?: string
  pgPort?: number
  /** Try the following ports when `pgPort` is taken (default true). */
  pgPortSearch?: boolean
  /**
   * Address libp2p (TCP and WebSockets) listens on; default 127.0.0.1. Beyond loopback the
   * node always uses a cluster key: `clusterKeyFile`, or one it creates in `dataDir`.
   */
  p2pHost?: string
  /** TCP port for libp2p (0: free port). WebSockets listens on a free port too. */
  p2pPort?: number
  wsPort?: number
  /**
   * WebSockets over TLS (a `/tls/ws` listener) on this port, for browser replicas on HTTPS
   * pages; needs `tls` (its certificate). Absent: no such listener.
   */
  wssPort?: number
  /** Peers to join: PostgreSQL addresses (host:port) or libp2p multiaddrs. */
  join?: string[]
  /** Swarm key file; without it a key kept in `dataDir` (see peer-port-policy.ts). */
  clusterKeyFile?: string
  /**
   * A one-time join token another node printed: redeemed on the first `join` target given
   * as a PostgreSQL address (ALTER SYSTEM ADD NODE .. WITH JOIN TOKEN), which admits this
   * node to the cluster's member list before it dials the peer port (join-tokens.ts).
   */
  joinToken?: string
  password?: string
  /**
   * TLS on the PostgreSQL port: PEM files, or 'self-signed' (a pair created in `dataDir`
   * on first start: tls-files.ts). Absent: SSLRequest is answered 'N'.
   */
  tls?: { certFile: string; keyFile: string } | 'self-signed'
  /**
   * PostgreSQL connections that must run over TLS: 'remote' (from beyond loopback) or
   * 'all'; needs `tls`. Default 'off' (pgwire/client-authentication.ts, rule 0).
   */
  requireTls?: TlsRequirement
  /** PEM file of the CA client certificates are checked against (pgwire/client-authentication.ts, rule 1b); needs `tls`. */
  tlsClientCaFile?: string
  /**
   * PEM file of certificate revocation lists (one or more) client certificates are checked
   * against with `tlsClientCaFile`, which it needs (crl-file.ts). A revoked certificate
   * proves nothing. Re-read by reloadTls (SIGHUP).
   */
  tlsCrlFile?: string
  /**
   * Directory of CRL files (PEM; every regular file in it is read), checked as `tlsCrlFile`
   * and with it if both are given; needs `tlsClientCaFile` (crl-file.ts). Re-read by
   * reloadTls (SIGHUP).
   */
  tlsCrlDir?: string
  /** PostgreSQL sessions at once; default 100 (see pgwire/connection-limits.ts). */
  maxConnections?: number
  /** Time a PostgreSQL connection has to authenticate; default 60 s. */
  authenticationTimeoutMs?: number
  /** Close PostgreSQL sessions idle this long; default never. */
  idleSessionTimeoutMs?: number
  /** Most bytes of values one row written here may hold; default 16 MiB (sql-facade runtime/row-size.ts). */
  maxRowBytes?: number
  /**
   * Worker threads long read-only statements move to, so other clients are served while
   * they run (offload/statement-worker-pool.ts); default 1, 0: none (every statement runs
   * on the event loop).
   */
  offloadWorkers?: number
  /** Old-generation heap of one statement worker in MB; default 1024 (past it: 53200, a fresh worker). */
  offloadHeapMb?: number
  /**
   * A statement worker unused this long ends, and with it the copies of tables its engine
   * kept for the next long statement (which then starts a fresh worker); default 5 min, 0: never.
   */
  offloadIdleMs?: number
  /**
   * Put away the Yjs document of a shard nobody has written or synced for this long,
   * keeping its rows (core rows/shard-hibernation.ts, decision 37): less memory; the next
   * write to it loads the document again, holding the event loop (~5 s per million rows).
   * Default 0: never (decision 37 says why).
   */
  hibernateAfterMs?: number
  /**
   * Every this many ms, whether the node was idle over the interval after work that grew
   * its heap by 32 MiB or more; if so its heap is collected and given back (idle-heap.ts).
   * Default 0: never (the CLI's default is 2 s).
   */
  idleHeapReturnMs?: number
  /** 0 or undefined: no HTTP server. */
  httpPort?: number
  /** Generation compaction (see @concord/core ReplicaOptions.compaction); default on, departed after 24 h. */
  compaction?: ReplicaOptions['compaction']
  logger?: Logger
}

const PG_PORT_SEARCH = 100
/**
 * Rows are checkpointed after this long with no row change (core's rows/row-checkpoint.ts):
 * a node that keeps writing pays nothing, one that pauses pays about a second of CPU per
 * million rows, at most about 5% of the time.
 */
const ROW_CHECKPOINT_QUIET_MS = 2000
/** Rows a row checkpoint encodes per turn of the event loop: about 10 ms of it (a checkpoint of 200,000 rows held every client for 380 ms in one turn). */
const CHECKPOINT_ROWS_PER_TURN = 5000
/** ConcordNodeOptions.hibernateAfterMs's default. */
const DEFAULT_HIBERNATE_AFTER_MS = 0
/**
 * ConcordNodeOptions.offloadIdleMs's default: a worker's copies of tables held five minutes
 * past their last use (a periodic report keeps its engine; a node at rest gives the memory back).
 */
const DEFAULT_OFFLOAD_IDLE_MS = 300_000
/** Entries put away in one check past which the heap is collected and shrunk (heap-return.ts). */
const HEAP_RETURN_MIN_ENTRIES = 10_000

/** The transport counters of a node without libp2p. */
const NO_TRANSPORT: TransportStats = {
  peers: 0,
  messagesSent: 0,
  messagesReceived: 0,
  bytesSent: 0,
  bytesReceived: 0,
  messagesDropped: 0,
  gossipPublished: 0,
  gossipReceived: 0,
  framesRejected: 0,
}

export class ConcordNode {
  private stopped = false
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  /** Stops the watch that closes an unkeyed peer port once LOGIN roles exist (roles-peer-port.ts). */
  private stopRolesWatch: () => void = () => {}
  private stopGrantsWatch: () => void = () => {}
  private stopVerifiersWatch: () => void = () => {}
  /** The data directory's lock (data-dir-lock.ts), released once storage is closed; none in memory. */
  private dataDirLock: DataDirLock | undefined
  /** Reads the PostgreSQL port's TLS files again; undefined without TLS. */
  private tlsReload: (() => PgTlsMaterial) | undefined
  /** Set when that watch closed the peer port: no libp2p until the next start. */
  peerPortClosed = false
  private readonly started = Date.now()
  private readonly catchUp: CatchUpLog
  private readonly membership: PeerMembership
  private readonly joinTokens = new JoinTokens()
  /** The join token not yet used that this node printed last (a fresh one after each use); undefined without libp2p. */
  joinToken: string | undefined
  /** The join token this node still has to redeem on its first PostgreSQL-address join target. */
  private pendingJoinToken: string | undefined

  readonly nodeId: string
  readonly region: string
  readonly pgPort: number
  readonly httpPort: number | undefined
  /** The cluster key the peer port uses (file, and whether this start created it); no key: loopback only or no libp2p. */
  readonly peerPortKey: PeerPortKey
  /** Where the data lives: 'lmdb' (the data directory) or 'memory' (nothing on disk). */
  readonly storageKind: 'lmdb' | 'memory'
  /** The storage this node opened and closes on stop; undefined when the caller supplied it. */
  private readonly ownStorage: Storage | undefined
  /** undefined with `p2p: false`: no libp2p listeners, no peers. */
  readonly transport: Libp2pTransport | undefined
  private readonly engine: SqlEngine
  private readonly pg: PgServer
  private readonly http: HttpServer | undefined
  private readonly log: Logger
  /** Stores the rows while the node runs, so a start after a crash need not resolve them from the records. */
  private readonly rowCheckpoint: RowCheckpoint
  /** Puts away idle shards' documents (`hibernateAfterMs`); null when off. */
  private hibernation: ShardHibernation | null = null
  /** Gives the heap they held back to the system. */
  private heapReturn: HeapReturn | null = null
  private idleHeap: IdleHeapWatch | null = null

  private constructor(
    nodeId: string,
    region: string,
    pgPort: number,
    httpPort: number | undefined,
    peerPortKey: PeerPortKey,
    storage: { kind: 'lmdb' | 'memory'; own: Storage | undefined },
    transport: Libp2pTransport | undefined,
    engine: SqlEngine,
    pg: PgServer,
    http: HttpServer | undefined,
    log: Logger,
    membership: PeerMembership,
  ) {
    this.nodeId = nodeId
    this.region = region
    this.pgPort = pgPort
    this.httpPort = httpPort
    this.peerPortKey = peerPortKey
    this.storageKind = storage.kind
    this.ownStorage = storage.own
    this.transport = transport
    this.engine = engine
    this.pg = pg
    this.http = http
    this.log = log
    this.membership = membership
    this.catchUp = new CatchUpLog(engine.replica, log)
    const restored = engine.replica.rowsRestored
    if (restored.exact + restored.after > 0) {
      log.info(`rows of ${restored.exact + restored.after} shards from the row snapshot (${restored.after} with later records applied on top)`)
    }
    this.rowCheckpoint = new RowCheckpoint(engine.replica, {
      scheduler: engine.replica.scheduler,
      quietMs: ROW_CHECKPOINT_QUIET_MS,
      onStored: (ms) => log.info(`rows checkpointed in ${ms} ms`),
    })
    engine.database.backups.openStore = openBackupStore
    engine.database.backups.log = (line) => log.info(line)
    engine.database.rebalance.onProgress = (line) => log.info(line)
    engine.replica.replicator.onDivergence = (d) =>
      log.error(`shard ${d.shard} holds other rows here than on ${d.peer} although both hold the same updates (since ${new Date(d.since).toISOString()}): reported in pg_cluster_health`)
    engine.database.failover.onEvent((e) => (e.kind === 'primary_suspected' ? log.warn(`failover: ${e.message}`) : log.info(`failover: ${e.message}`)))
  }

  static async start(options: ConcordNodeOptions): Promise<ConcordNode> {
    const onDisk = options.storage === undefined && options.memory !== true
    if (!onDisk || options.dataDir === undefined) return ConcordNode.startLocked(options, undefined)
    openDataDir(options.dataDir, options.logger ?? silentLogger)
    // Before anything reads or writes the directory: a second node on it corrupts it.
    const lock = lockDataDir(options.dataDir)
    try {
      return await ConcordNode.startLocked(options, lock)
    } catch (err) {
      lock.release()
      throw err
    }
  }

  private static async startLocked(options: ConcordNodeOptions, lock: DataDirLock | undefined): Promise<ConcordNode> {
    boundRegExpBacktracking()
    setParserLoader(freshParser)
    const log = options.logger ?? silentLogger
    const region = options.region ?? 'default'
    const p2p = options.p2p ?? true
    if (!p2p && (options.join ?? []).length > 0) throw new Error('joining peers needs libp2p: drop p2p: false (--no-p2p) or the joins')
    const onDisk = options.storage === undefined && options.memory !== true
    const dataDir = options.dataDir
    if (onDisk && dataDir === undefined) throw new Error('a node on disk needs a data directory (or memory: true)')
    if (onDisk) openDataDir(dataDir!, log)
    const nodeId = onDisk ? loadOrCreateNodeId(dataDir!, options.nodeId) : newNodeId(options.nodeId)
    const [lmdb, journalMod, libp2p, peerKey, portPolicy, rolesPeerPort] = await Promise.all([
      onDisk ? import('../storage/lmdb-storage.js') : undefined,
      onDisk ? import('../storage/lmdb-change-journal.js') : undefined,
      p2p ? import('../transport/libp2p-transport.js') : undefined,
      p2p ? import('../transport/peer-key.js') : undefined,
      p2p ? import('./peer-port-policy.js') : undefined,
      p2p ? import('./roles-peer-port.js') : undefined,
    ])
    const p2pHost = options.p2pHost ?? '127.0.0.1'
    const peerPortKey: PeerPortKey = portPolicy
      ? portPolicy.choosePeerPortKey({
        ...(onDisk ? { dataDir: dataDir! } : {}),
        ...(options.clusterKeyFile !== undefined ? { clusterKeyFile: options.clusterKeyFile } : {}),
        p2pHost,
        passwordRequired: options.password !== undefined,
      })
      : { created: false }
    if (peerPortKey.created) log.warn(`created cluster key ${peerPortKey.file}: peers need it to connect (--cluster-key)`)
    if (options.wssPort !== undefined && options.tls === undefined) throw new Error('WebSockets over TLS (wssPort) needs a certificate: give tls')
    if (((options.requireTls ?? 'off') !== 'off' || options.tlsClientCaFile !== undefined) && options.tls === undefined) {
      throw new Error(`${options.tlsClientCaFile !== undefined ? 'tlsClientCaFile' : `requireTls '${options.requireTls}'`} needs a certificate: give tls`)
    }
    for (const [name, given] of [['tlsCrlFile', options.tlsCrlFile], ['tlsCrlDir', options.tlsCrlDir]] as const) {
      if (given !== undefined && options.tlsClientCaFile === undefined) throw new Error(`${name} needs the client CA it is checked with: give tlsClientCaFile`)
    }
    const tlsFiles: PgTlsFiles | undefined = options.tls === undefined ? undefined : {
      pair: options.tls,
      ...(options.tlsClientCaFile !== undefined ? { clientCaFile: options.tlsClientCaFile } : {}),
      ...(options.tlsCrlFile !== undefined ? { crlFile: options.tlsCrlFile } : {}),
      ...(options.tlsCrlDir !== undefined ? { crlDir: options.tlsCrlDir } : {}),
    }
    const pgTls = tlsFiles !== undefined ? loadPgTls(tlsFiles, dataDir, log) : undefined
    const tlsPair = pgTls !== undefined ? { cert: pgTls.cert, key: pgTls.key } : undefined
    const own: Storage | undefined =
      options.storage !== undefined ? undefined : lmdb ? new lmdb.LmdbStorage({ path: join(dataDir!, 'lmdb') }) : new MemoryStorage()
    const storage = options.storage ?? own!
    // Table change feeds kept with the data (clients resume across restarts): on LMDB only.
    const changeJournal = lmdb !== undefined && own instanceof lmdb.LmdbStorage ? new journalMod!.LmdbChangeJournal(own) : undefined
    if (options.joinToken !== undefined && !(options.join ?? []).some((a) => parsePgAddress(a) !== null)) {
      throw new Error('--join-token is redeemed over PostgreSQL: give --join the host:port of the node that printed it')
    }
    // Grants live in the replicated catalog: any member honours a token another issued.
    const grants = new BrowserGrants()
    const membership = new PeerMembership(log, (peerId) => grants.admits(peerId))
    let transport: Libp2pTransport | undefined
    let nodeKey: PrivateKey | undefined
    if (libp2p && peerKey) {
      const privateKey = onDisk ? await peerKey.loadOrCreatePeerKey(join(dataDir!, 'peer.key')) : await peerKey.newPeerKey()
      nodeKey = privateKey
      transport = new libp2p.Libp2pTransport({
        nodeId,
        listen: [
          `/ip4/${p2pHost}/tcp/${options.p2pPort ?? 0}`,
          `/ip4/${p2pHost}/tcp/${options.wsPort ?? 0}/ws`,
          ...(options.wssPort !== undefined ? [`/ip4/${p2pHost}/tcp/${options.wssPort}/tls/ws`] : []),
        ],
        ...(options.wssPort !== undefined && tlsPair !== undefined ? { webSocketsTls: tlsPair } : {}),
        privateKey,
        ...(peerPortKey.key ? { clusterKey: peerPortKey.key } : {}),
        admitPeer: (peerId) => (grants.restricted(peerId) ? grants.admitsOrLog(peerId, log) : membership.admits(peerId)),
        restrictedPeer: (peerId) => grants.restricted(peerId),
        claimRefused: (claimed, peerId) => membership.claimRefused(claimed, peerId),
        logger: log,
      })
    }
    let engine: SqlEngine | undefined
    let pg: PgServer | undefined
    let http: HttpServer | undefined
    try {
      engine = await openSqlEngine({
        nodeId,
        region,
        storage,
        ...(changeJournal !== undefined ? { changeJournal } : {}),
        ...(transport !== undefined ? { transport } : {}),
        ...(options.compaction !== undefined ? { compaction: options.compaction } : {}),
        ...(options.maxRowBytes !== undefined ? { maxRemoteValueBytes: options.maxRowBytes } : {}),
        onOversizedUpdate: oversizedLog(log, options.maxRowBytes ?? DEFAULT_MAX_REMOTE_VALUE_BYTES),
        offload: options.offloadWorkers === 0 ? null : {
          size: options.offloadWorkers ?? 1,
          ...(options.offloadHeapMb !== undefined ? { heapMb: options.offloadHeapMb } : {}),
          idleMs: options.offloadIdleMs ?? DEFAULT_OFFLOAD_IDLE_MS,
          logger: log,
        },
        onWarning: (message) => log.warn(message),
        // A checkpoint of a million rows encodes for about 2 s: a few milliseconds at a time instead.
        checkpointRowsPerTurn: CHECKPOINT_ROWS_PER_TURN,
        // A peer's row is readable before its records are encoded and queued (the write waits alike: LmdbStorage).
        handOffRemote: (fn) => void afterNextPoll(fn),
      })
      const eng = engine
      if (changeJournal?.damage != null) log.warn(changeJournal.damage)
      // What `SHOW concord.p2p_addresses` answers peers that join by PostgreSQL address (pg-join.ts).
      eng.database.setP2pAddresses(() => transport?.addresses() ?? [])
      // SHOW max_connections answers what the wire server enforces.
      eng.database.setServerParameter('max_connections', String(options.maxConnections ?? DEFAULT_MAX_CONNECTIONS))
      if (options.maxRowBytes !== undefined) eng.database.maxRowBytes = options.maxRowBytes
      // Large commits apply in slices and DO blocks pause, other clients served meanwhile (decisions 0038, 0039).
      eng.database.sliceCommitRows = DEFAULT_SLICE_COMMIT_ROWS
      eng.database.pauseRunsAfterMs = DEFAULT_PAUSE_RUNS_MS
      pg = new PgServer({
        session: (info) => eng.session(info),
        host: options.host ?? '127.0.0.1',
        password: options.password,
        logins: eng.logins,
        ...(pgTls !== undefined ? { tls: pgTls } : {}),
        ...(options.requireTls !== undefined ? { requireTls: options.requireTls } : {}),
        ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
        ...(options.authenticationTimeoutMs !== undefined ? { authenticationTimeoutMs: options.authenticationTimeoutMs } : {}),
        ...(options.idleSessionTimeoutMs !== undefined ? { idleSessionTimeoutMs: options.idleSessionTimeoutMs } : {}),
        serverVersion: await eng.serverVersion(),
        logger: log,
      })
      const pgPort = await listenWithSearch(pg, options.pgPort ?? 5432, options.pgPortSearch ?? true)
      let httpPort: number | undefined
      let self: ConcordNode | undefined
      if (options.httpPort !== undefined && options.httpPort >= 0) {
        const httpHost = options.httpHost ?? options.host ?? '127.0.0.1'
        // Ids and addresses only to callers on this machine (docs/security.md, "HTTP").
        const detail = isLoopbackHost(httpHost)
        // Requests before `self` exists get a 500 from HttpServer; it exists before we return.
        http = new HttpServer({
          health: () => self!.health(detail),
          metrics: () => self!.metrics(),
          console: () => consoleState({ database: eng.database, health: () => self!.health(detail), metrics: () => self!.metrics(), detail }),
        })
        httpPort = await http.listen(options.httpPort, httpHost)
      }
      const ready = new ConcordNode(nodeId, region, pgPort, httpPort, peerPortKey, { kind: onDisk ? 'lmdb' : 'memory', own }, transport, eng, pg, http, log, membership)
      ready.dataDirLock = lock
      self = ready
      const hibernateAfter = options.hibernateAfterMs ?? DEFAULT_HIBERNATE_AFTER_MS
      const idleHeapReturn = options.idleHeapReturnMs ?? 0
      // One HeapReturn for both callers: its collections never overlap.
      const heap = hibernateAfter > 0 || idleHeapReturn > 0 ? new HeapReturn() : null
      ready.heapReturn = heap
      if (heap !== null && idleHeapReturn > 0) {
        const request = async (): Promise<void> => {
          const before = process.memoryUsage().heapTotal
          const collections = heap.collected
          await heap.request()
          // Nothing ran when a return after hibernation was under way already.
          if (heap.collected === collections) return
          const mb = (bytes: number): string => (bytes / 1048576).toFixed(0)
          log.info(`idle: heap collected and given back, ${mb(before)} MB -> ${mb(process.memoryUsage().heapTotal)} MB`)
        }
        ready.idleHeap = new IdleHeapWatch({ everyMs: idleHeapReturn, request })
        ready.idleHeap.start()
      }
      if (heap !== null && hibernateAfter > 0) {
        ready.hibernation = new ShardHibernation(eng.replica, {
          scheduler: eng.replica.scheduler,
          quietMs: hibernateAfter,
          onChecked: (shards, entries) => {
            log.info(`put away the documents of ${shards} idle shards (${entries} entries); their rows stay`)
            if (entries >= HEAP_RETURN_MIN_ENTRIES) void heap.request()
          },
        })
      }
      if (tlsFiles !== undefined) ready.tlsReload = () => loadPgTls(tlsFiles, dataDir, log)
      if (transport !== undefined) {
        const t = transport
        membership.attach(eng.replica, t)
        grants.attach(eng.replica, { peerId: t.peerId, key: nodeKey!, trusted: (peerId) => membership.rightOf(peerId) === 'admin' })
        const rights = new MemberRights(membership, eng.replica, log)
        eng.replica.catalogWriteGuard = (kind) => rights.guard(kind)
        eng.replica.replicator.peerWriteChecks = (peer) => rights.checkOf(peer)
        eng.replica.replicator.onWriteRefused = (peer, shards) => rights.refused(peer, shards)
        ready.stopGrantsWatch = eng.replica.on('catalog', (changes) => {
          if (!changes.some((c) => c.kind === BROWSER_GRANT_KIND || c.kind === PEER_MEMBER_KIND)) return
          grants.refresh()
          // A revoked (or no longer trusted) grant closes the browser's open connections.
          membership.refresh()
        })
        ready.pendingJoinToken = options.joinToken
        ready.joinToken = ready.joinTokens.issue()
        eng.database.membership = {
          selfPeerId: () => t.peerId,
          redeemJoinToken: (token) => {
            if (!ready.joinTokens.redeem(token)) return false
            ready.joinToken = ready.joinTokens.issue()
            log.info(`a join token was used; the next one is ${ready.joinToken}`)
            return true
          },
          issueBrowserToken: (tables, validSeconds, readOnly, regions, readOnlyRegions) => {
            // Without the list any identity connects as a full peer: a scope would bind nobody.
            if (!membership.enforced) {
              throw new SqlError(SqlState.objectNotInPrerequisiteState, `browser tokens need the cluster's member list: turn it on with ALTER SYSTEM ADD NODE '${t.peerId}'`)
            }
            return grants.issue(tables, validSeconds, readOnly, regions, readOnlyRegions)
          },
          revokeBrowserToken: (tokenOrId) => grants.revoke(tokenOrId),
          selfRight: () => membership.selfRight(),
        }
        eng.replica.replicator.peerScopes = (peer) => {
          const peerId = t.peerIdOf(peer)
          return peerId === undefined ? null : (grants.scopeOf(peerId) ?? null)
        }
        eng.replica.replicator.onOutOfScope = outOfScopeLog(log)
        log.info(`libp2p peer id ${t.peerId}; ${membership.enforced ? 'member list on' : 'no member list yet (the cluster key admits peers)'}; join token (one use): ${ready.joinToken}`)
      }
      // After the rights guard: a member node leaves the move to an admin node.
      ready.stopVerifiersWatch = watchRoleVerifiers(eng.replica, log)
      // How peers reach this node (pg_nodes.addresses, client_addr); subscriptions and
      // master_nodes reach other nodes through their PostgreSQL addresses.
      const pgHost = options.host ?? '127.0.0.1'
      eng.database.announceAddresses([`postgresql://${pgHost.includes(':') ? `[${pgHost}]` : pgHost}:${pgPort}/concord`, ...(transport?.addresses() ?? [])])
      eng.database.setConnector(pgConnector({ password: options.password, join: (addr) => ready.join(addr, options.password) }))
      if (transport !== undefined && rolesPeerPort !== undefined && peerPortKey.key === undefined) {
        const t = transport
        ready.stopRolesWatch = rolesPeerPort.watchRolesOnOpenPeerPort({
          // With the member list on, identity gates the port: a local process cannot join without being admitted.
          rolesExist: () => eng.database.roles().loginRolesExist && !membership.enforced,
          closePeerPort: async () => {
            ready.peerPortClosed = true
            await t.stop()
          },
          ...(onDisk ? { dataDir: dataDir! } : {}),
          log,
        })
      }
      for (const addr of options.join ?? []) ready.join(addr, options.password)
      const mode = `${onDisk ? '' : ', data in memory'}${p2p ? '' : ', no libp2p'}`
      log.info(`node ${nodeId} (region ${region}) ready: PostgreSQL on ${options.host ?? '127.0.0.1'}:${pgPort}${httpPort !== undefined ? `, HTTP on ${httpPort}` : ''}${mode}`)
      return ready
    } catch (err) {
      await http?.close().catch(() => {})
      await pg?.close().catch(() => {})
      await (engine ? engine.close() : transport?.stop())?.catch(() => {})
      await Promise.resolve(own?.close?.()).catch(() => {})
      throw err
    }
  }

  /**
   * Reads the PostgreSQL port's TLS files again (the CLI does on SIGHUP, as PostgreSQL
   * rereads ssl_* files): a renewed certificate, client CA bundle, CRL file or directory serves the
   * connections that open after; sessions open already keep theirs; the WSS listener keeps
   * the certificate of the start. Throws, keeping what is in use, if a file cannot be read
   * or parsed; false when the node has no TLS.
   */
  reloadTls(): boolean {
    if (this.tlsReload === undefined) return false
    this.pg.reloadTls(this.tlsReload())
    this.log.info('TLS files of the PostgreSQL port read again')
    return true
  }

  /** Joins a peer by PostgreSQL address (resolved to its libp2p addresses, retried with backoff) or multiaddr. */
  join(addr: string, password?: string): void {
    if (this.transport === undefined) throw new Error('this node runs without libp2p (--no-p2p): it joins no peers')
    if (this.peerPortClosed) throw new Error('this node closed its peer port (LOGIN roles and no cluster key): restart it to join peers')
    const pgAddr = parsePgAddress(addr)
    if (!pgAddr) {
      this.transport.join(addr)
      return
    }
    void this.resolveAndJoin(pgAddr, password, 0)
  }

  private async resolveAndJoin(addr: PgAddress, password: string | undefined, attempt: number): Promise<void> {
    if (this.stopped) return
    try {
      const token = this.pendingJoinToken
      const admit = token !== undefined && this.transport !== undefined ? { peerId: this.transport.peerId, token } : undefined
      const addrs = await fetchP2pAddresses(addr, password, admit)
      if (admit !== undefined) {
        this.pendingJoinToken = undefined
        this.log.info(`admitted to the cluster's member list by ${addr.host}:${addr.port} (join token)`)
      }
      if (addrs.length === 0) throw new Error('peer reported no libp2p addresses')
      this.log.info(`joining ${addr.host}:${addr.port} via ${addrs[0]}`)
      this.transport?.join(addrs[0]!)
    } catch (err) {
      if (this.stopped) return
      if (this.pendingJoinToken !== undefined && (err as { code?: unknown }).code === SqlState.invalidAuthorizationSpecification) {
        // A token is used once: retrying cannot help. Joining goes on; the member list decides.
        this.pendingJoinToken = undefined
        this.log.error(`the join token was refused by ${addr.host}:${addr.port} (${errorMessage(err)}): ask a member for a new one, or to run ALTER SYSTEM ADD NODE '${this.transport?.peerId ?? ''}'`)
      }
      // @concord/p2p loads libp2p: only a node that joins peers pays for it.
      const { backoffDelay } = await import('@concord/p2p')
      const delay = backoffDelay(attempt, { initialMs: 500, maxMs: 30_000 })
      this.log.warn(`cannot reach ${addr.host}:${addr.port} to join (${errorMessage(err)}); retrying in ${delay} ms`)
      const t = setTimeout(() => {
        this.timers.delete(t)
        void this.resolveAndJoin(addr, password, attempt + 1)
      }, delay)
      this.timers.add(t)
    }
  }

  /** Where peers reach this node over libp2p; empty without libp2p. */
  p2pAddresses(): string[] {
    return this.transport?.addresses() ?? []
  }

  /**
   * What /health answers. `detail` (an HTTP listener on loopback) adds the node id, peer
   * node ids and libp2p addresses; without it only node-local facts and counts, so an
   * unauthenticated caller from the network learns no member names or addresses.
   */
  health(detail = true): Record<string, unknown> {
    const peers = this.transport?.peers() ?? []
    // A parser that failed and could not be replaced answers no new statement: not ok.
    const parser = parserHealth()
    const base = {
      status: this.stopped ? 'stopping' : parser.ok ? 'ok' : 'degraded',
      region: this.region,
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      peerCount: peers.length,
      storage: this.storageKind,
      p2p: this.transport !== undefined,
      parser,
    }
    if (!detail) return base
    return { ...base, nodeId: this.nodeId, peers, pgPort: this.pgPort, p2pAddresses: this.p2pAddresses() }
  }

  metrics(): Metric[] {
    const t = this.transport?.stats() ?? NO_TRANSPORT
    const pg = this.pg.stats()
    const out: Metric[] = [
      { name: 'concord_peers', help: 'Peers connected over libp2p', type: 'gauge', value: t.peers },
      { name: 'concord_sync_messages_sent_total', help: 'Direct messages sent to peers', type: 'counter', value: t.messagesSent },
      { name: 'concord_sync_messages_received_total', help: 'Direct messages received from peers', type: 'counter', value: t.messagesReceived },
      { name: 'concord_sync_bytes_sent_total', help: 'Bytes of direct messages sent', type: 'counter', value: t.bytesSent },
      { name: 'concord_sync_bytes_received_total', help: 'Bytes of direct messages received', type: 'counter', value: t.bytesReceived },
      { name: 'concord_messages_dropped_total', help: 'Messages dropped (no peer, queue full, too large)', type: 'counter', value: t.messagesDropped },
      { name: 'concord_gossip_published_total', help: 'Gossip messages published', type: 'counter', value: t.gossipPublished },
      { name: 'concord_gossip_received_total', help: 'Gossip messages received', type: 'counter', value: t.gossipReceived },
      { name: 'concord_frames_rejected_total', help: 'Malformed frames from peers', type: 'counter', value: t.framesRejected },
      { name: 'concord_pg_connections', help: 'Open PostgreSQL client connections', type: 'gauge', value: pg.connections },
      { name: 'concord_idle_heap_returns_total', help: 'Times the node, idle after work that grew its heap, collected it and gave memory back (--idle-heap-return)', type: 'counter', value: this.idleHeap?.started ?? 0 },
      { name: 'concord_heap_collections_total', help: 'Major collections run to give heap memory back (idle, or after shards were put away)', type: 'counter', value: this.heapReturn?.collected ?? 0 },
      { name: 'concord_pg_connections_total', help: 'PostgreSQL client connections accepted', type: 'counter', value: pg.connectionsTotal },
      { name: 'concord_pg_connections_starting', help: 'PostgreSQL connections not yet authenticated', type: 'gauge', value: pg.starting },
      { name: 'concord_pg_messages_total', help: 'PostgreSQL protocol messages handled', type: 'counter', value: pg.messages },
    ]
    const offload = this.engine.offload
    if (offload !== null) {
      out.push(
        { name: 'concord_offloaded_statements_total', help: 'Read-only statements answered by a worker thread (docs/decisions/0031-statement-offload.md)', type: 'counter', value: offload.stats.offloaded },
        { name: 'concord_statement_workers', help: 'Statement worker threads running', type: 'gauge', value: offload.workers },
        { name: 'concord_statement_workers_terminated_total', help: 'Statement workers terminated after a cancel or deadline they did not honour in time', type: 'counter', value: offload.stats.terminated },
        { name: 'concord_statement_workers_out_of_memory_total', help: 'Statement workers that ran out of heap (53200 to the client)', type: 'counter', value: offload.stats.outOfMemory },
        { name: 'concord_offload_kept_engine_total', help: 'Moved statements sent onto the engine their worker kept from earlier ones (carrying only what it lacked)', type: 'counter', value: offload.stats.keptEngine },
        { name: 'concord_statement_workers_idle_ended_total', help: 'Statement workers ended after going unused for --offload-idle, the copies of tables they kept released', type: 'counter', value: offload.stats.idleEnded },
        { name: 'concord_offload_state_bytes_total', help: 'Bytes of table and catalog state sent to statement workers', type: 'counter', value: offload.stats.stateBytes },
      )
    }
    {
      const s = this.engine.replica.stats()
      out.push(
        { name: 'concord_shards', help: 'Shards held by this node', type: 'gauge', value: s.shards },
        {
          name: 'concord_shards_hibernated',
          help: 'Shards whose CRDT document is put away, only their rows held (--hibernate-after; docs/decisions/0037-shard-hibernation.md)',
          type: 'gauge',
          value: [...this.engine.replica.shards.values()].filter((shard) => shard.isDeferred).length,
        },
        { name: 'concord_shards_hibernated_total', help: 'Shards put away since start (a shard woken and put away again counts again)', type: 'counter', value: this.hibernation?.hibernated ?? 0 },
        ...memoryMetrics(),
        { name: 'concord_updates_applied_total', help: 'Remote updates merged into local shards', type: 'counter', value: s.updatesApplied },
        { name: 'concord_updates_sent_direct_total', help: 'Messages of fresh local updates sent as direct frames (every live hearer of their topic connected; docs/decisions/0040-direct-updates.md)', type: 'counter', value: s.updatesSentDirect },
        { name: 'concord_updates_gossiped_total', help: 'Messages of fresh local updates gossiped (some live hearer of their topic not connected here)', type: 'counter', value: s.updatesGossiped },
        { name: 'concord_repair_bytes_total', help: 'Bytes received through anti-entropy repair', type: 'counter', value: s.repairBytes },
        { name: 'concord_malformed_total', help: 'Updates or messages that failed validation', type: 'counter', value: s.malformed },
        { name: 'concord_generations_total', help: 'Shard generations built or adopted (storage compaction) since start', type: 'counter', value: s.generationsAdopted },
        { name: 'concord_tombstones_dropped_total', help: 'Deleted rows whose tombstones generations built here dropped, since start', type: 'counter', value: s.tombstonesDropped },
        { name: 'concord_generation_overlays', help: 'Older generations still held until their writers re-apply', type: 'gauge', value: s.overlays },
        { name: 'concord_writes_refused_total', help: 'Updates from members without the admin right refused (member list, roles, settings, browser grants)', type: 'counter', value: s.writesRefused },
        { name: 'concord_out_of_scope_total', help: 'Messages from scoped browser replicas cut to their token\'s tables', type: 'counter', value: s.outOfScope },
        { name: 'concord_fragmented_messages_sent_total', help: 'Messages over the size limit sent as fragments', type: 'counter', value: s.fragmentedSent },
        {
          name: 'concord_diverged_shards',
          help: 'Shards whose rows differ from a peer holding the same updates (never expected; see pg_cluster_health)',
          type: 'gauge',
          value: this.engine.replica.replicator.divergences().filter((d) => d.confirmed).length,
        },
        ...[...this.engine.database.conflicts.counts].map(([kind, n]): Metric => ({
          name: 'concord_conflicts_total',
          help: 'Conflicts between masters this node resolved, by kind (history in concord_conflicts)',
          type: 'counter',
          value: n,
          labels: { kind },
        })),
        { name: 'concord_failover_promotions_total', help: 'Times this node became the primary (active_passive) since start', type: 'counter', value: this.engine.database.failover.promotions },
        { name: 'concord_failover_epoch', help: 'Epoch of the current primary term (0: none recorded)', type: 'gauge', value: this.engine.database.failover.term()?.epoch ?? 0 },
        { name: 'concord_standby', help: '1 while this node is a read-only standby (active_passive)', type: 'gauge', value: this.engine.database.failover.writable() ? 0 : 1 },
        { name: 'concord_sends_deferred_dropped_total', help: 'Replies dropped while too many waited for local durability (resent by anti-entropy)', type: 'counter', value: this.engine.replica.sendsDropped },
      )
      // Absent until this node took a backup (alert on RPO with absent() or the age).
      const lastBackup = this.engine.database.backups.lastSucceeded()
      if (lastBackup?.finished != null) {
        const age = Math.max(0, (this.engine.replica.now() - lastBackup.finished) / 1000)
        out.push({ name: 'concord_backup_last_success_age_seconds', help: 'Seconds since the last backup this node took succeeded (since start)', type: 'gauge', value: age })
      }
    }
    return out
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.stopRolesWatch()
    this.stopGrantsWatch()
    this.stopVerifiersWatch()
    this.membership.stop()
    this.log.info(`node ${this.nodeId} stopping`)
    this.catchUp.stop()
    this.rowCheckpoint.stop()
    this.hibernation?.stop()
    this.idleHeap?.stop()
    this.heapReturn?.stop()
    await this.http?.close().catch((err: unknown) => this.log.warn(`http close: ${errorMessage(err)}`))
    await this.pg.close().catch((err: unknown) => this.log.warn(`pg close: ${errorMessage(err)}`))
    await this.engine.close().catch((err: unknown) => this.log.warn(`replica close: ${errorMessage(err)}`))
    await this.transport?.stop().catch(() => {})
    try {
      await this.ownStorage?.close?.()
    } finally {
      this.dataDirLock?.release()
    }
    this.log.info(`node ${this.nodeId} stopped; ${this.storageKind === 'memory' ? 'its in-memory data is gone' : 'storage flushed and closed'}`)
  }
}

/** The process's memory as the system and V8 see it (what a hibernation returns shows here). */
function memoryMetrics(): Metric[] {
  const m = process.memoryUsage()
  return [
    { name: 'concord_resident_memory_bytes', help: 'Resident set size of the node process', type: 'gauge', value: m.rss },
    { name: 'concord_heap_total_bytes', help: 'V8 heap reserved (live objects and free space kept)', type: 'gauge', value: m.heapTotal },
    { name: 'concord_heap_used_bytes', help: 'V8 heap used by live and not yet collected objects', type: 'gauge', value: m.heapUsed },
    { name: 'concord_external_memory_bytes', help: 'Memory outside the V8 heap held by JavaScript objects (buffers, WebAssembly)', type: 'gauge', value: m.external },
  ]
}

/** Distinct (peer, what) refusals logged per node: a scoped browser resends its own catalog entries every round. */
const MAX_OUT_OF_SCOPE_LOGGED = 4096

/** Logs what a scoped peer sent outside its scope, once per peer and shard. */
function outOfScopeLog(log: Logger): (peer: string, refused: string[]) => void {
  const seen = new Set<string>()
  return (peer, refused) => {
    for (const what of refused) {
      const key = `${peer}\u0000${what}`
      if (seen.has(key) || seen.size >= MAX_OUT_OF_SCOPE_LOGGED) continue
      seen.add(key)
      log.warn(`refused from scoped browser replica ${peer}: ${what} is outside its token's tables and regions (not applied, not replicated)`)
    }
  }
}

async function listenWithSearch(pg: PgServer, port: number, search: boolean): Promise<number> {
  const last = search && port !== 0 ? Math.min(65535, port + PG_PORT_SEARCH) : port
  for (let p = port; ; p++) {
    try {
      return await pg.listen(p)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || p >= last) throw err
    }
  }
}
