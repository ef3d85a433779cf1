/**
 * The wire formats shared with Node peers: sync frames ('/concord/sync/1.0.0': HELLO,
 * DATA, PEERS), the gossip envelope, the length-prefix decoder and reconnect backoff.
 *
 * They live in @concord/node-server, whose package entry also loads LMDB, pg and
 * node:fs; these four modules import nothing but each other, so the browser imports them
 * by path and the bundle stays free of Node built-ins. Both sides therefore always speak
 * exactly the same protocol version.
 */
export { SYNC_PROTOCOL, MAX_ADDRS, encodeSyncFrame, decodeSyncFrame, SyncFrameError, type SyncFrame } from '../../../node-server/src/transport/sync-frame.js'
export { encodeGossipEnvelope, decodeGossipEnvelope, GossipEnvelopeError } from '../../../node-server/src/transport/gossip-envelope.js'
export { decodeLengthPrefix, MAX_PREFIX_BYTES } from '../../../node-server/src/transport/length-prefix.js'
export { backoffDelay, type BackoffOptions } from '../../../node-server/src/transport/backoff.js'
