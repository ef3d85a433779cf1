/**
 * @concord/node-server: the Node server peer. LMDB storage and a libp2p transport for the
 * core replica, a PostgreSQL wire server, HTTP health and metrics, and the `concord` CLI.
 */
export { LmdbStorage, type LmdbStorageOptions } from './storage/lmdb-storage.js'
export { encodeRecord, decodeRecord, CorruptRecordError, RECORD_FORMAT_VERSION } from '@concord/core'
export { Libp2pTransport, type Libp2pTransportOptions, type TransportStats } from './transport/libp2p-transport.js'
// Wire formats and backoff live in @concord/p2p (shared with browser replicas); re-exported as before.
export { SYNC_PROTOCOL, encodeSyncFrame, decodeSyncFrame, SyncFrameError, type SyncFrame, encodeGossipEnvelope, decodeGossipEnvelope, GossipEnvelopeError, backoffDelay, type BackoffOptions } from '@concord/p2p'
export { generateClusterKey, readClusterKey, writeClusterKey, ClusterKeyError } from './transport/cluster-key.js'
export { loadOrCreatePeerKey } from './transport/peer-key.js'
export { PgServer, type PgServerOptions, type PgServerStats } from './pgwire/pg-server.js'
export { WireSession } from './pgwire/wire-session.js'
export type { SqlSession, SessionFactory, SessionInfo, QueryResult, QueryField, SessionTransactionState } from './pgwire/sql-session.js'
export { typeOid, textValue, OID } from './pgwire/pg-types.js'
export { HttpServer, type HttpSources } from './http/http-server.js'
export { prometheusText, type Metric } from './http/prometheus-text.js'
export { ConcordNode, type ConcordNodeOptions } from './node/concord-node.js'
export { parsePgAddress, fetchP2pAddresses, P2P_ADDRESSES_QUERY } from './node/pg-join.js'
export { main as runCli, usage } from './cli.js'
export { consoleLogger, silentLogger, type Logger } from './log/logger.js'
