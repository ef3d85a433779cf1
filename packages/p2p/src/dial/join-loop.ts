/**
 * The join/redial loop: keeps a connection to each target address. A target is dialed
 * when the loop is attached to a started node (or when added later), and redialed with
 * exponential backoff and jitter (backoff.ts) after a failed dial or when the connection
 * to its peer is lost, until `stop`. Node and browser transports differ only in what they
 * pass in: the Node side joins `--join` addresses; a page also turns addresses learned by
 * peer exchange into targets, skips peers already up and pauses while offline.
 *
 * A target's peer id comes from the address's `/p2p/<id>` part, or from the first
 * connection a dial opens; a lost connection to that peer id redials the target.
 *
 * Invariants: at most one dial and one timer per target; nothing is dialed or scheduled
 * while the environment says it is offline, before `attach` or after `stop`.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Scheduler } from '@concord/core'
import { backoffDelay, type BackoffOptions } from './backoff.js'

/** What a target's loop is doing: nothing, a dial in flight, or waiting out a backoff delay. */
export type DialState = 'idle' | 'dialing' | 'waiting'

export interface JoinTarget {
  readonly addr: Multiaddr
  /** The address as given (trimmed): how the app names the target. */
  readonly text: string
  /** The peer behind the address, once known. */
  readonly peerId: string | undefined
  readonly attempt: number
  readonly state: DialState
}

/** The part of a libp2p node the loop dials with. */
export interface JoinDialer {
  dial(addr: Multiaddr, options: { signal: AbortSignal }): Promise<{ readonly remotePeer: { toString(): string }; readonly status: string }>
}

export interface JoinLoopOptions {
  /** Timeout of one dial. */
  dialTimeoutMs: number
  backoff: BackoffOptions
  scheduler: Scheduler
}

export interface JoinLoopHooks {
  /** Whether the environment may dial now (a page the user took offline: false). Default: yes. */
  online?(): boolean
  /** Whether a target needs no dial now (its peer is already up). Default: no. */
  satisfied?(target: JoinTarget): boolean
  /** A dial failed; the loop schedules the redial itself. */
  failed(target: JoinTarget, err: unknown): void
  /** A target's state changed (for observers). */
  changed?(): void
}

interface Target {
  readonly addr: Multiaddr
  readonly text: string
  peerId: string | undefined
  attempt: number
  state: DialState
  cancelTimer?: () => void
}

export class JoinLoop {
  private readonly list: Target[] = []
  private dialer?: JoinDialer
  private stopped = false

  private readonly options: JoinLoopOptions
  private readonly hooks: JoinLoopHooks

  constructor(
    options: JoinLoopOptions,
    hooks: JoinLoopHooks,
  ) {
    this.options = options
    this.hooks = hooks
  }

  get targets(): readonly JoinTarget[] {
    return this.list
  }

  /** Starts dialing with a started node: every target so far, and each one added later. */
  attach(dialer: JoinDialer): void {
    this.dialer = dialer
    this.dialAll()
  }

  /** Adds a target (not dialed yet: see `dial`). Throws if `addr` is not a multiaddr. */
  add(addr: string | Multiaddr): JoinTarget {
    const text = typeof addr === 'string' ? addr.trim() : addr.toString()
    const target: Target = {
      addr: typeof addr === 'string' ? multiaddr(text) : addr,
      text,
      peerId: peerIdOf(text),
      attempt: 0,
      state: 'idle',
    }
    this.list.push(target)
    return target
  }

  /** Dials every target now (those waiting out a delay too). */
  dialAll(): void {
    for (const t of this.list) void this.dial(t)
  }

  /** Dials a target now unless it is being dialed, needs no dial, or dialing is off. */
  async dial(target: JoinTarget): Promise<void> {
    const t = this.own(target)
    const dialer = this.dialer
    if (!dialer || !this.active() || t.state === 'dialing') return
    if (this.hooks.satisfied?.(t) === true) return
    t.cancelTimer?.()
    t.cancelTimer = undefined
    t.state = 'dialing'
    this.hooks.changed?.()
    try {
      const conn = await dialer.dial(t.addr, { signal: AbortSignal.timeout(this.options.dialTimeoutMs) })
      t.peerId = conn.remotePeer.toString()
      t.attempt = 0
      t.state = 'idle'
      if (conn.status !== 'open') this.scheduleRedial(t)
    } catch (err) {
      t.state = 'idle'
      if (!this.active()) return
      this.hooks.failed(t, err)
      this.scheduleRedial(t)
    }
    this.hooks.changed?.()
  }

  /** The connection to `peerId` closed: redial the idle targets of that peer. */
  disconnected(peerId: string): void {
    for (const t of this.list) if (t.peerId === peerId && t.state === 'idle') this.scheduleRedial(t)
  }

  /** Stops dialing for now (offline): cancels every timer and forgets the attempts. */
  pause(): void {
    for (const t of this.list) {
      t.cancelTimer?.()
      t.cancelTimer = undefined
      t.state = 'idle'
      t.attempt = 0
    }
  }

  stop(): void {
    this.stopped = true
    for (const t of this.list) t.cancelTimer?.()
  }

  private active(): boolean {
    return !this.stopped && this.hooks.online?.() !== false
  }

  private scheduleRedial(t: Target): void {
    if (!this.active()) return
    t.cancelTimer?.()
    const delay = backoffDelay(t.attempt++, this.options.backoff)
    t.state = 'waiting'
    t.cancelTimer = this.options.scheduler.setTimeout(delay, () => {
      t.cancelTimer = undefined
      t.state = 'idle'
      void this.dial(t)
    })
  }

  private own(target: JoinTarget): Target {
    if (!this.list.includes(target as Target)) throw new Error(`not a target of this loop: ${target.text}`)
    return target as Target
  }
}

/** The peer id of a multiaddr's `/p2p/<id>` part, if any. */
export function peerIdOf(addr: string): string | undefined {
  const parts = addr.split('/')
  const i = parts.lastIndexOf('p2p')
  return i >= 0 ? parts[i + 1] || undefined : undefined
}
