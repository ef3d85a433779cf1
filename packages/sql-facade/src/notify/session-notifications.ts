/**
 * One session's LISTEN / NOTIFY state, with PostgreSQL's transactional rules:
 * - NOTIFY (and pg_notify) queue in the session's transaction and go out when it commits
 *   (a statement outside a block commits at its end); a rollback, or ROLLBACK TO a
 *   savepoint set before them, drops them. Within one transaction a notification equal
 *   to an earlier one (channel and payload) is folded into it.
 * - LISTEN / UNLISTEN inside a block take effect at its commit.
 * - Notifications for this session are held while it is inside a block, and handed to
 *   its receiver (the wire server: NotificationResponse) once it is not; without a
 *   receiver they wait in a bounded inbox (the oldest dropped past MAX_INBOX).
 */
import type { NotificationHub, NotificationListener } from './notification-hub.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { checkNotification, type Notification } from './notification.js'

/** Notifications kept for a session that has no receiver yet. */
const MAX_INBOX = 10_000
/** Distinct notifications one transaction may queue. */
const MAX_PENDING = 100_000

export type NotificationReceiver = (n: Notification) => void

/** Where a savepoint left the transaction's notifications and LISTEN changes. */
export interface NotificationMark {
  readonly pending: number
  readonly changes: number
}

export class SessionNotifications implements NotificationListener {
  private readonly hub: NotificationHub
  private readonly processId: number
  private readonly channels = new Set<string>()
  private pending: Notification[] = []
  private folded = new Set<string>()
  /** LISTEN (channel) / UNLISTEN (channel, or null for all) made in the open block. */
  private changes: Array<{ listen: boolean; channel: string | null }> = []
  private inBlock = false
  private inbox: Notification[] = []
  private receiver: NotificationReceiver | null = null

  constructor(hub: NotificationHub, processId: number) {
    this.hub = hub
    this.processId = processId
  }

  /** NOTIFY channel, payload: queued until the transaction commits. */
  notify(channel: string, payload: string): void {
    checkNotification(channel, payload)
    const key = `${channel}\u0000${payload}`
    if (this.folded.has(key)) return
    if (this.pending.length >= MAX_PENDING) throw new SqlError(SqlState.programLimitExceeded, 'too many notifications in the NOTIFY queue')
    this.folded.add(key)
    this.pending.push({ channel, payload, processId: this.processId })
  }

  listen(channel: string): void {
    if (this.inBlock) this.changes.push({ listen: true, channel })
    else this.apply(true, channel)
  }

  /** UNLISTEN channel, or every channel for null (UNLISTEN *). */
  unlisten(channel: string | null): void {
    if (this.inBlock) this.changes.push({ listen: false, channel })
    else this.apply(false, channel)
  }

  /** Channels listened to now (pg_listening_channels). */
  listening(): string[] {
    return [...this.channels].sort()
  }

  begin(): void {
    this.inBlock = true
  }

  mark(): NotificationMark {
    return { pending: this.pending.length, changes: this.changes.length }
  }

  rollbackTo(mark: NotificationMark): void {
    this.pending.length = Math.min(this.pending.length, mark.pending)
    this.folded = new Set(this.pending.map((n) => `${n.channel}\u0000${n.payload}`))
    this.changes.length = Math.min(this.changes.length, mark.changes)
  }

  /** The transaction committed: LISTEN changes apply, its notifications go out. */
  commit(): void {
    for (const c of this.changes) this.apply(c.listen, c.channel)
    const out = this.pending
    this.reset()
    if (out.length > 0) this.hub.publish(out)
    this.release()
  }

  /** The transaction rolled back: nothing of it happens. */
  abort(): void {
    this.reset()
    this.release()
  }

  deliver(n: Notification): void {
    if (this.receiver !== null && !this.inBlock) {
      this.receiver(n)
      return
    }
    if (this.inbox.length >= MAX_INBOX) this.inbox.shift()
    this.inbox.push(n)
  }

  /** Sets who is handed this session's notifications (those waiting first). */
  onNotification(receiver: NotificationReceiver | null): void {
    this.receiver = receiver
    this.release()
  }

  /** Notifications waiting for this session (taken: returned once). */
  take(): Notification[] {
    const out = this.inbox
    this.inbox = []
    return out
  }

  close(): void {
    this.apply(false, null)
    this.receiver = null
    this.inbox = []
  }

  // Runs at the end of every statement outside a block: what holds nothing is kept, not
  // made again (an empty Set and two arrays were ~250 bytes a statement).
  private reset(): void {
    if (this.pending.length > 0) this.pending = []
    if (this.folded.size > 0) this.folded = new Set()
    if (this.changes.length > 0) this.changes = []
    this.inBlock = false
  }

  private release(): void {
    if (this.receiver === null || this.inBlock || this.inbox.length === 0) return
    const waiting = this.take()
    for (const n of waiting) this.receiver(n)
  }

  private apply(listen: boolean, channel: string | null): void {
    if (listen && channel !== null) {
      this.channels.add(channel)
      this.hub.listen(this, channel)
      return
    }
    for (const c of channel === null ? [...this.channels] : [channel]) {
      this.channels.delete(c)
      this.hub.unlisten(this, c)
    }
  }
}
