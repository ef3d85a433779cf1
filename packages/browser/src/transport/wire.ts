/**
 * The wire formats shared with Node peers, from `@concord/node-server/wire` (that entry
 * has no Node built-ins), so both sides always speak exactly the same protocol version.
 */
export {
  SYNC_PROTOCOL,
  MAX_ADDRS,
  encodeSyncFrame,
  decodeSyncFrame,
  SyncFrameError,
  type SyncFrame,
  encodeGossipEnvelope,
  decodeGossipEnvelope,
  GossipEnvelopeError,
  decodeLengthPrefix,
  MAX_PREFIX_BYTES,
  backoffDelay,
  type BackoffOptions,
  SyncSessions,
  type SyncSession,
  GossipTopics,
  SessionTransport,
} from '@concord/node-server/wire'
