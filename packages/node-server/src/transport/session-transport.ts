/**
 * What the Node and browser libp2p transports answer alike for the core `Transport`:
 * direct messages go through their sync sessions, gossip through their topics. Each
 * subclass builds both and says when it is accepting (started and, for a page, online).
 */
import type { GossipTopics } from './gossip-topics.js'
import type { SyncSessions } from './sync-sessions.js'

export abstract class SessionTransport {
  protected abstract readonly sync: SyncSessions
  protected abstract readonly gossip: GossipTopics
  /** Whether this transport takes part now: publishes gossip and accepts sync streams. */
  protected abstract accepting(): boolean

  send(peer: string, data: Uint8Array): void {
    this.sync.send(peer, data)
  }

  backlog(peer: string): number {
    return this.sync.backlog(peer)
  }

  publish(topic: string, data: Uint8Array): void {
    if (this.accepting()) this.gossip.publish(topic, data)
  }

  subscribe(topic: string): void {
    this.gossip.subscribe(topic)
  }

  unsubscribe(topic: string): void {
    this.gossip.unsubscribe(topic)
  }

  peers(): string[] {
    return this.sync.upNodeIds()
  }
}
