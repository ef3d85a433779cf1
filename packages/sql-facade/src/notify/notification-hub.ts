/**
 * The node's LISTEN registry and NOTIFY fan-out: every session listening on a channel
 * gets each notification committed on it, by a session of this node or of any other
 * node of the cluster (through the replica's ephemeral notices: never stored, so a node
 * not reached when a notification is sent never gets it).
 *
 * Invariant: a notification is handed to a listener once, in commit order per sender.
 */
import type { Replica } from '@concord/core'
import { decodeNotifications, encodeNotifications, NOTIFY_TOPIC, type Notification } from './notification.js'

/** A session as the hub sees it. */
export interface NotificationListener {
  deliver(n: Notification): void
}

export class NotificationHub {
  private readonly channels = new Map<string, Set<NotificationListener>>()
  private readonly replica: Replica
  private readonly stop: () => void

  constructor(replica: Replica) {
    this.replica = replica
    this.stop = replica.onNotice((_origin, topic, body) => {
      if (topic !== NOTIFY_TOPIC) return
      const list = decodeNotifications(body)
      if (list !== null) this.deliverHere(list)
    })
  }

  listen(l: NotificationListener, channel: string): void {
    let set = this.channels.get(channel)
    if (set === undefined) {
      set = new Set()
      this.channels.set(channel, set)
    }
    set.add(l)
  }

  unlisten(l: NotificationListener, channel: string): void {
    const set = this.channels.get(channel)
    set?.delete(l)
    if (set?.size === 0) this.channels.delete(channel)
  }

  /** A committed transaction's notifications: to this node's listeners now, to the other nodes' once durable. */
  publish(list: readonly Notification[]): void {
    if (list.length === 0) return
    this.deliverHere(list)
    for (const body of encodeNotifications(list)) this.replica.publishNotice(NOTIFY_TOPIC, body)
  }

  /** Whether a session of this node listens on any channel. */
  hasAnyListener(): boolean {
    return this.channels.size > 0
  }

  /** Whether a session of this node listens on `channel`. */
  hasListeners(channel: string): boolean {
    return this.channels.has(channel)
  }

  /**
   * Notifications for this node's listeners only: ones every node makes for itself
   * (table change feeds, live/change-feed.ts), so sending them to the others would double them.
   */
  deliverLocal(list: readonly Notification[]): void {
    this.deliverHere(list)
  }

  close(): void {
    this.stop()
    this.channels.clear()
  }

  private deliverHere(list: readonly Notification[]): void {
    for (const n of list) for (const l of this.channels.get(n.channel) ?? []) l.deliver(n)
  }
}
