/**
 * The libp2p node every Concord replica runs (DESIGN.md decision 10), Node or page alike:
 * Noise encryption, Yamux multiplexing, identify, ping and gossipsub, configured the same
 * way on both sides so they always speak to each other. What differs per environment is
 * passed in: transports and listen addresses, the dial gater, an optional private-network
 * protector (the Node side's cluster key) and a stable identity.
 *
 * Limits: gossipsub takes inbound messages up to `maxMessageBytes` (plus envelope room)
 * and buffers at most two such messages per peer outbound.
 */
import './promise-with-resolvers.js'
import './yamux-window-updates.js'
import { withQuietReads } from './noise-reads.js'
import { withCorkedWrites } from './corked-writes.js'
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { gossipsub, StrictNoSign, StrictSign, type GossipSub } from '@libp2p/gossipsub'
import type { ConnectionGater, PeerId, PrivateKey } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export type Libp2pNode = Libp2p<{ pubsub: GossipSub }>

export interface Libp2pNodeOptions {
  /** Implementation name peers see in identify (`concord`, `concord-browser`). */
  name: string
  /** Multiaddrs to listen on (none in a page). */
  listen: string[]
  /** libp2p transports of the environment (TCP and WebSockets on Node, WebSockets in a page). */
  transports: NonNullable<Libp2pOptions['transports']>
  /** Whether a multiaddr must not be dialed. */
  denyDial(addr: Multiaddr): boolean
  /**
   * Whether a peer (its libp2p PeerId, as Noise authenticated it) must not be connected:
   * checked once the encryption handshake has proved the identity and before any stream,
   * so a refused peer exchanges no protocol message, gossip included. Absent: every peer.
   */
  denyPeer?(peerId: string): boolean
  /**
   * Whether a connected peer is kept out of gossip (a scoped browser replica): gossipsub
   * scores it far below its graylist threshold, so nothing is published or relayed to it
   * and nothing it sends is taken. Absent: none.
   */
  gossipExcluded?(peerId: string): boolean
  /** Stable identity; a fresh one if absent. */
  privateKey?: PrivateKey
  /** Private-network protector (libp2p pnet); absent: open network. */
  connectionProtector?: Libp2pOptions['connectionProtector']
  /** Sign gossip. Every member of a cluster must agree. */
  signGossip: boolean
  /** Largest gossip message. */
  maxMessageBytes: number
}

export const NODE_VERSION = '0.1.0'

/**
 * Gossipsub's application score: EXCLUDED_SCORE (times its default weight of 10) is below
 * every default threshold (gossip -10, publish -50, graylist -80); 0 leaves the rest as is.
 */
const EXCLUDED_SCORE = -1000

function excludedScore(excluded: (peerId: string) => boolean): (peerId: string) => number {
  return (peerId) => (excluded(peerId) ? EXCLUDED_SCORE : 0)
}

/** The connection gater's per-peer checks: dialing a refused peer, and either side of its encrypted connection. */
type PeerGate = Pick<ConnectionGater, 'denyDialPeer' | 'denyInboundEncryptedConnection' | 'denyOutboundEncryptedConnection'>

function peerGate(deny: (peerId: string) => boolean): PeerGate {
  const check = (peerId: PeerId): boolean => deny(peerId.toString())
  return { denyDialPeer: check, denyInboundEncryptedConnection: check, denyOutboundEncryptedConnection: check }
}

export async function createLibp2pNode(options: Libp2pNodeOptions): Promise<Libp2pNode> {
  return createLibp2p({
    ...(options.privateKey ? { privateKey: options.privateKey } : {}),
    nodeInfo: { name: options.name, version: NODE_VERSION, userAgent: `${options.name}/${NODE_VERSION}` },
    addresses: { listen: options.listen },
    transports: options.transports.map((make) => withCorkedWrites(make)),
    connectionEncrypters: [withQuietReads(noise())],
    streamMuxers: [yamux()],
    ...(options.connectionProtector ? { connectionProtector: options.connectionProtector } : {}),
    connectionGater: {
      denyDialMultiaddr: async (addr: Multiaddr) => options.denyDial(addr),
      ...(options.denyPeer ? peerGate(options.denyPeer) : {}),
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        globalSignaturePolicy: options.signGossip ? StrictSign : StrictNoSign,
        maxInboundDataLength: options.maxMessageBytes + 1024,
        maxOutboundBufferSize: 2 * options.maxMessageBytes,
        ...(options.gossipExcluded ? { scoreParams: { appSpecificScore: excludedScore(options.gossipExcluded) } } : {}),
      }),
    },
  })
}
