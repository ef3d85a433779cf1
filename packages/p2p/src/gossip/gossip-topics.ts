/**
 * The gossip side of a Concord transport, shared by the Node and browser transports:
 * topic subscriptions kept across (re)starts of the libp2p node, and every message
 * wrapped in an envelope naming its origin node (gossip is relayed, so the libp2p sender
 * is not the writer).
 *
 * Every message is judged in gossipsub's topic validator, before gossipsub relays it or
 * hands it on: one that does not decode, one signed by a libp2p peer the transport does
 * not admit (a peer cut off from the cluster cannot reach it through a member that relays
 * its gossip), and one whose envelope names an origin its signer may not speak as
 * (`originRefused`: a node id bound to another PeerId, or this node's own) is rejected:
 * counted, logged once per signer and origin, never delivered and never relayed by this
 * node (gossipsub also lowers the score of the peer it came from).
 *
 * A message no peer is subscribed to is not built: gossipsub would sign it (an Ed25519
 * signature per commit, the largest per-commit cost of a node with no peers) and send it
 * to nobody. A peer that subscribes later gets those writes by anti-entropy, as it gets
 * every write made before it connected.
 *
 * Invariants: the judgement is a pure function of the message and the hooks, so the
 * listener repeats it silently (a message reaching it without passing the validator is
 * dropped just the same); at most MAX_LOGGED_REFUSALS refusals are logged.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import { decodeGossipEnvelope, encodeGossipEnvelope } from './gossip-envelope.js'

export interface GossipCounters {
  published: number
  /** Messages not built because no peer was subscribed to their topic. */
  unheard: number
  received: number
  dropped: number
  rejected: number
  /** Of `rejected`: signed by a peer that may not speak as the origin its envelope names. */
  originsRefused: number
}

export interface GossipHooks {
  message(origin: string, data: Uint8Array): void
  /** Whether a message signed by this libp2p peer may be delivered; absent: every author. */
  authorAdmitted?(peerId: string): boolean
  /**
   * Why the libp2p peer that signed a message may not speak as the origin its envelope
   * names, or null; absent: any origin. Unsigned gossip carries no signer to check.
   */
  originRefused?(origin: string, peerId: string): string | null
  log(level: 'info' | 'warn', message: string): void
}

const MAX_LOGGED_REFUSALS = 1024

type Verdict =
  | { ok: true; origin: string; data: Uint8Array; own: boolean }
  | { ok: false; kind: 'author' | 'malformed' | 'origin'; why: string; author?: string; origin?: string }

export class GossipTopics {
  readonly counters: GossipCounters = { published: 0, unheard: 0, received: 0, dropped: 0, rejected: 0, originsRefused: 0 }
  private readonly topics = new Set<string>()
  private pubsub?: GossipSub
  private selfPeerId: string | undefined
  /** (signer, origin) pairs refused and logged. */
  private readonly logged = new Set<string>()

  private readonly options: { nodeId: string; maxMessageBytes: number }
  private readonly hooks: GossipHooks

  constructor(options: { nodeId: string; maxMessageBytes: number }, hooks: GossipHooks) {
    this.options = options
    this.hooks = hooks
  }

  /** Starts receiving on the node's gossipsub (whose own PeerId is `selfPeerId`) and subscribes to every topic asked for so far. */
  attach(pubsub: GossipSub, selfPeerId?: string): void {
    this.pubsub = pubsub
    this.selfPeerId = selfPeerId
    pubsub.addEventListener('message', (e) => {
      const msg = e.detail
      if (!this.topics.has(msg.topic)) return
      const v = this.judge(msg)
      if (!v.ok || v.own) return
      this.counters.received++
      this.hooks.message(v.origin, v.data)
    })
    for (const topic of this.topics) this.listen(topic)
  }

  publish(topic: string, data: Uint8Array): void {
    const pubsub = this.pubsub
    if (!pubsub) return
    if (data.length > this.options.maxMessageBytes) {
      this.counters.dropped++
      this.hooks.log('warn', `dropped a ${data.length}-byte gossip message: larger than ${this.options.maxMessageBytes}`)
      return
    }
    if (pubsub.getSubscribers(topic).length === 0) {
      this.counters.unheard++
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
    if (this.pubsub) this.listen(topic)
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic)
    this.pubsub?.topicValidators.delete(topic)
    this.pubsub?.unsubscribe(topic)
  }

  private listen(topic: string): void {
    const pubsub = this.pubsub!
    pubsub.topicValidators.set(topic, (_from, msg) => this.validate(msg))
    pubsub.subscribe(topic)
  }

  /** gossipsub's validator: counts and logs what it rejects. */
  private validate(msg: Message): TopicValidatorResult {
    const v = this.judge(msg)
    if (v.ok) return TopicValidatorResult.Accept
    this.counters.rejected++
    if (v.kind === 'malformed') {
      this.hooks.log('warn', `dropped gossip on ${msg.topic}: ${v.why}`)
    } else if (v.kind === 'origin') {
      this.counters.originsRefused++
      const key = `${v.author}\u0000${v.origin}`
      if (!this.logged.has(key) && this.logged.size < MAX_LOGGED_REFUSALS) {
        this.logged.add(key)
        this.hooks.log('warn', `dropped gossip signed by ${v.author} under node id ${v.origin}: ${v.why} (not applied, not relayed)`)
      }
    }
    // A removed member's gossip may still be relayed by a member that has not heard of the
    // removal: ignored, so that relayer is not penalized.
    return v.kind === 'author' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
  }

  private judge(msg: Message): Verdict {
    const author = msg.type === 'signed' ? msg.from.toString() : undefined
    if (author !== undefined && this.hooks.authorAdmitted && !this.hooks.authorAdmitted(author)) {
      return { ok: false, kind: 'author', why: 'signer not admitted' }
    }
    let envelope: { origin: string; data: Uint8Array }
    try {
      envelope = decodeGossipEnvelope(msg.data)
    } catch (err) {
      return { ok: false, kind: 'malformed', why: err instanceof Error ? err.message : String(err) }
    }
    const { origin, data } = envelope
    if (author !== undefined) {
      if (origin === this.options.nodeId && author !== this.selfPeerId) {
        return { ok: false, kind: 'origin', why: "that is this node's own node id", author, origin }
      }
      const why = author === this.selfPeerId ? null : (this.hooks.originRefused?.(origin, author) ?? null)
      if (why !== null) return { ok: false, kind: 'origin', why, author, origin }
    }
    return { ok: true, origin, data, own: origin === this.options.nodeId }
  }
}
