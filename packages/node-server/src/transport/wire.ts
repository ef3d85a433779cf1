/**
 * The libp2p wire formats Node peers and browser replicas share: sync frames
 * ('/concord/sync/1.0.0': HELLO, DATA, PEERS), the gossip envelope, the bounded
 * length-prefix decoder and reconnect backoff. Exported on their own as
 * `@concord/node-server/wire` because they import nothing Node-specific, while the
 * package entry loads LMDB, pg and node:fs; browsers bundle this entry only.
 */
export { SYNC_PROTOCOL, MAX_ADDRS, encodeSyncFrame, decodeSyncFrame, SyncFrameError, type SyncFrame } from './sync-frame.js'
export { encodeGossipEnvelope, decodeGossipEnvelope, GossipEnvelopeError } from './gossip-envelope.js'
export { decodeLengthPrefix, MAX_PREFIX_BYTES } from './length-prefix.js'
export { backoffDelay, type BackoffOptions } from './backoff.js'
export { SyncSessions, type SyncSession, type SyncSessionHooks, type SyncNode, type SyncCounters } from './sync-sessions.js'
export { GossipTopics, type GossipCounters } from './gossip-topics.js'
export { SessionTransport } from './session-transport.js'
