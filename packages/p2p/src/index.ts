/**
 * @concord/p2p: what Node peers and browser replicas share of networking, so both always
 * speak the same protocol version: the '/concord/sync/1.0.0' frames and sessions, gossip
 * topics and their envelope, the libp2p node factory, the join/redial loop with backoff,
 * and the `SessionTransport` base both environments' core `Transport` extend.
 * No Node built-ins: bundles for browsers.
 */
// First: libp2p needs it on Node 20, before it loads.
import './node/promise-with-resolvers.js'

export {
  SYNC_PROTOCOL, SYNC_FRAME_VERSION, MAX_ADDRS, MAX_ADDR_CHARS, MAX_NODE_ID_BYTES,
  encodeSyncFrame, decodeSyncFrame, SyncFrameError, type SyncFrame,
} from './sync/sync-frame.js'
export { decodeLengthPrefix, FrameSplitter, MAX_PREFIX_BYTES, LengthPrefixError } from './sync/length-prefix.js'
export { SyncSessions, type SyncSession, type SyncSessionHooks, type SyncNode, type SyncCounters } from './sync/sync-sessions.js'
export { encodeGossipEnvelope, decodeGossipEnvelope, GossipEnvelopeError, GOSSIP_ENVELOPE_VERSION } from './gossip/gossip-envelope.js'
export { GossipTopics, type GossipCounters } from './gossip/gossip-topics.js'
export { backoffDelay, type BackoffOptions } from './dial/backoff.js'
export {
  JoinLoop, peerIdOf, type JoinTarget, type JoinDialer, type JoinLoopOptions, type JoinLoopHooks, type DialState,
} from './dial/join-loop.js'
export { timerScheduler } from './dial/timer-scheduler.js'
export { createLibp2pNode, type Libp2pNode, type Libp2pNodeOptions } from './node/libp2p-node.js'
export { withCorkedWrites, writesCorked } from './node/corked-writes.js'
export { encodeBrowserToken, decodeBrowserToken, type BrowserToken } from './node/browser-token.js'
export { SessionTransport, type SessionTransportOptions, type LogLevel } from './session-transport.js'
