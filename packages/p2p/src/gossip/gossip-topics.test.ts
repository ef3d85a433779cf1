/**
 * Gossip origins bound to signers (issue 15): a message signed by one libp2p peer under a
 * node id bound to another is rejected in gossipsub's validator (never relayed, never
 * delivered) and logged once; so is one under this node's own node id. Before, the
 * envelope's origin was whatever the publisher wrote: a member could publish writes as any
 * other member. A fake gossipsub stands in: it runs the topic validator and emits only
 * what it accepts, as gossipsub does before relaying.
 */
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import { describe, expect, it } from 'vitest'
import { encodeGossipEnvelope } from './gossip-envelope.js'
import { GossipTopics } from './gossip-topics.js'

class FakePubsub extends EventTarget {
  readonly topicValidators = new Map<string, (from: unknown, msg: Message) => TopicValidatorResult | Promise<TopicValidatorResult>>()
  readonly relayed: Message[] = []
  subscribe(): void {}
  unsubscribe(): void {}
  async publish(): Promise<void> {}

  /** A message arriving from the network: validated, then relayed and emitted only when accepted. */
  async arrive(msg: Message): Promise<TopicValidatorResult> {
    const v = this.topicValidators.get(msg.topic)
    const result = v ? await v(undefined, msg) : TopicValidatorResult.Accept
    if (result === TopicValidatorResult.Accept) {
      this.relayed.push(msg)
      this.dispatchEvent(new CustomEvent('message', { detail: msg }))
    }
    return result
  }
}

function signed(author: string, origin: string, text: string): Message {
  const from = { toString: () => author }
  const data = encodeGossipEnvelope(origin, new TextEncoder().encode(text))
  return { type: 'signed', from, topic: 'concord', sequenceNumber: 1n, signature: new Uint8Array(), key: {}, data } as unknown as Message
}

describe('GossipTopics: origins bound to signers', () => {
  it('rejects gossip whose signer may not speak as its origin, and delivers the rest', async () => {
    const bound = new Map([['node-b', 'PEER-B']])
    const delivered: Array<[string, string]> = []
    const logs: string[] = []
    const topics = new GossipTopics(
      { nodeId: 'node-a', maxMessageBytes: 1 << 20 },
      {
        message: (origin, data) => delivered.push([origin, new TextDecoder().decode(data)]),
        originRefused: (origin, author) => {
          const owner = bound.get(origin)
          return owner !== undefined && owner !== author ? `node id ${origin} is bound to member ${owner}` : null
        },
        log: (_level, m) => logs.push(m),
      },
    )
    const pubsub = new FakePubsub()
    topics.subscribe('concord')
    topics.attach(pubsub as unknown as GossipSub, 'PEER-A')

    expect(await pubsub.arrive(signed('PEER-B', 'node-b', 'real'))).toBe(TopicValidatorResult.Accept)
    // The impostor: its own key, b's node id. Twice: counted twice, logged once.
    expect(await pubsub.arrive(signed('PEER-X', 'node-b', 'forged'))).toBe(TopicValidatorResult.Reject)
    expect(await pubsub.arrive(signed('PEER-X', 'node-b', 'forged again'))).toBe(TopicValidatorResult.Reject)
    // Under this node's own node id.
    expect(await pubsub.arrive(signed('PEER-X', 'node-a', 'as a'))).toBe(TopicValidatorResult.Reject)
    // Under a node id nobody is bound to: its own business.
    expect(await pubsub.arrive(signed('PEER-X', 'node-x', 'own'))).toBe(TopicValidatorResult.Accept)

    expect(delivered).toEqual([['node-b', 'real'], ['node-x', 'own']])
    expect(pubsub.relayed.map((m) => m.data.length)).toHaveLength(2)
    expect(topics.counters).toMatchObject({ received: 2, rejected: 3, originsRefused: 3 })
    expect(logs).toEqual([
      'dropped gossip signed by PEER-X under node id node-b: node id node-b is bound to member PEER-B (not applied, not relayed)',
      "dropped gossip signed by PEER-X under node id node-a: that is this node's own node id (not applied, not relayed)",
    ])
  })

  it('ignores (does not penalize the relayer of) gossip signed by a peer no longer admitted', async () => {
    const delivered: string[] = []
    const topics = new GossipTopics(
      { nodeId: 'node-a', maxMessageBytes: 1 << 20 },
      { message: (origin) => delivered.push(origin), authorAdmitted: (p) => p !== 'REMOVED', log: () => {} },
    )
    const pubsub = new FakePubsub()
    topics.attach(pubsub as unknown as GossipSub, 'PEER-A')
    topics.subscribe('concord')
    expect(await pubsub.arrive(signed('REMOVED', 'node-r', 'late'))).toBe(TopicValidatorResult.Ignore)
    expect(await pubsub.arrive(signed('PEER-B', 'node-b', 'ok'))).toBe(TopicValidatorResult.Accept)
    expect(delivered).toEqual(['node-b'])
  })
})

describe('GossipTopics: publishing', () => {
  class CountingPubsub extends FakePubsub {
    subscribers: string[] = []
    readonly sent: Uint8Array[] = []
    getSubscribers(): string[] {
      return this.subscribers
    }
    override async publish(_topic?: string, data?: Uint8Array): Promise<void> {
      this.sent.push(data!)
    }
  }

  it('builds no message while no peer is subscribed to the topic, and publishes once one is', () => {
    const topics = new GossipTopics({ nodeId: 'node-a', maxMessageBytes: 1 << 20 }, { message: () => {}, log: () => {} })
    const pubsub = new CountingPubsub()
    topics.attach(pubsub as unknown as GossipSub, 'PEER-A')
    topics.subscribe('concord')
    topics.publish('concord', new Uint8Array([1]))
    expect(pubsub.sent).toHaveLength(0)
    pubsub.subscribers = ['PEER-B']
    topics.publish('concord', new Uint8Array([2]))
    expect(pubsub.sent).toHaveLength(1)
    expect(topics.counters).toMatchObject({ published: 1, unheard: 1 })
  })
})
