/**
 * The gossip side of a Concord transport, shared by the Node and browser transports:
 * topic subscriptions kept across (re)starts of the libp2p node, and every message
 * wrapped in an envelope naming its origin node (gossip is relayed, so the libp2p sender
 * is not the writer). Envelopes that do not decode are dropped and counted, and so are
 * signed messages whose author (the libp2p peer that signed them) the transport does not
 * admit: a peer cut off from the cluster cannot reach it through a member that relays
 * its gossip.
 */
import type { GossipSub } from '@libp2p/gossipsub'
import { decodeGossipEnvelope, encodeGossipEnvelope } from './gossip-envelope.js'

export interface GossipCounters {
  published: number
  received: number
  dropped: number
  rejected: number
}

export interface GossipHooks {
  message(origin: string, data: Uint8Array): void
  /** Whether a message signed by this libp2p peer may be delivered; absent: every author. */
  authorAdmitted?(peerId: string): boolean
  log(level: 'info' | 'warn', message: string): void
}

export class GossipTopics {
  readonly counters: GossipCounters = { published: 0, received: 0, dropped: 0, rejected: 0 }
  private readonly topics = new Set<string>()
  private pubsub?: GossipSub

  private readonly options: { nodeId: string; maxMessageBytes: number }
  private readonly hooks: GossipHooks

  constructor(options: { nodeId: string; maxMessageBytes: number }, hooks: GossipHooks) {
    this.options = options
    this.hooks = hooks
  }

  /** Starts receiving on the node's gossipsub and subscribes to every topic asked for so far. */
  attach(pubsub: GossipSub): void {
    this.pubsub = pubsub
    pubsub.addEventListener('message', (e) => {
      const msg = e.detail
      if (!this.topics.has(msg.topic)) return
      if (msg.type === 'signed' && this.hooks.authorAdmitted && !this.hooks.authorAdmitted(msg.from.toString())) {
        this.counters.rejected++
        return
      }
      let envelope: { origin: string; data: Uint8Array }
      try {
        envelope = decodeGossipEnvelope(msg.data)
      } catch (err) {
        this.counters.rejected++
        this.hooks.log('warn', `dropped gossip on ${msg.topic}: ${err instanceof Error ? err.message : String(err)}`)
        return
      }
      if (envelope.origin === this.options.nodeId) return
      this.counters.received++
      this.hooks.message(envelope.origin, envelope.data)
    })
    for (const topic of this.topics) pubsub.subscribe(topic)
  }

  publish(topic: string, data: Uint8Array): void {
    const pubsub = this.pubsub
    if (!pubsub) return
    if (data.length > this.options.maxMessageBytes) {
      this.counters.dropped++
      this.hooks.log('warn', `dropped a ${data.length}-byte gossip message: larger than ${this.options.maxMessageBytes}`)
      return
    }
    this.counters.published++
    pubsub.publish(topic, encodeGossipEnvelope(this.options.nodeId, data)).catch((err: unknown) => {
      this.counters.dropped++
      this.hooks.log('warn', `gossip publish on ${topic} failed: ${err instanceof Error ? err.message : String(err)}`)
    })
  }

  subscribe(topic: string): void {
    this.topics.add(topic)
    this.pubsub?.subscribe(topic)
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic)
    this.pubsub?.unsubscribe(topic)
  }
}
