/**
 * Limits on the PostgreSQL port's connections (docs/security.md, "Client connections"):
 * - max_connections: a connection whose startup packet arrives while that many sessions
 *   are admitted is refused with 53300, as PostgreSQL does (after the startup packet,
 *   before authentication).
 * - authentication timeout: a connection that has not authenticated within it is closed
 *   (PostgreSQL's authentication_timeout, 60 s by default), whatever it sent or did not.
 * - connections still starting are bounded too (max_connections of them): when one more
 *   arrives, the one starting longest is closed, so a flood of connections that never
 *   send a startup packet cannot lock real clients out for the length of the timeout.
 * - idle session timeout (off unless set): an authenticated connection waiting that long
 *   for its next message is closed with 57P05 (25P03 inside a transaction block, where
 *   PostgreSQL's idle_in_transaction_session_timeout would fire). A message trickled a
 *   byte at a time does not count as activity: only whole messages restart the clock.
 *
 * Invariants: every socket passed to `opened` is forgotten (and its timers cleared) by
 * `closed`; at most max_connections sockets are starting and at most max_connections
 * admitted, so the port holds at most twice max_connections sockets.
 */
import type { Socket } from 'node:net'

export interface ConnectionLimitOptions {
  maxConnections: number
  authenticationTimeoutMs: number
  /** 0: no idle timeout. */
  idleSessionTimeoutMs: number
}

export interface ConnectionLimitActions {
  /** Close a connection that is still starting (evicted, or out of time to authenticate). */
  drop(socket: Socket, reason: string): void
  /** Close an authenticated connection idle past the timeout (it sends the FATAL). */
  idleTimeout(socket: Socket, inTransaction: boolean): void
}

type Timer = ReturnType<typeof setTimeout>

export const DEFAULT_MAX_CONNECTIONS = 100
export const DEFAULT_AUTHENTICATION_TIMEOUT_MS = 60_000

export class ConnectionLimits {
  /** Connections not yet authenticated, oldest first, with their authentication clocks. */
  private readonly starting = new Map<Socket, Timer>()
  private readonly admitted = new Set<Socket>()
  private readonly idleClocks = new Map<Socket, Timer>()

  private readonly options: ConnectionLimitOptions
  private readonly actions: ConnectionLimitActions

  constructor(options: ConnectionLimitOptions, actions: ConnectionLimitActions) {
    if (!Number.isInteger(options.maxConnections) || options.maxConnections < 1) throw new RangeError('max_connections must be at least 1')
    this.options = options
    this.actions = actions
  }

  /** A new connection: its authentication clock starts; the longest-starting one goes if too many are starting. */
  opened(socket: Socket): void {
    if (this.starting.size >= this.options.maxConnections) {
      const oldest = this.starting.keys().next().value
      if (oldest !== undefined) {
        this.forgetStarting(oldest)
        this.actions.drop(oldest, `still starting when ${this.options.maxConnections} others were (max_connections)`)
      }
    }
    const ms = this.options.authenticationTimeoutMs
    this.starting.set(socket, setTimeout(() => {
      if (!this.starting.has(socket)) return
      this.forgetStarting(socket)
      this.actions.drop(socket, `not authenticated within ${ms / 1000} s (authentication timeout)`)
    }, ms))
  }

  /** Its startup packet arrived: admits it as a session, or false when max_connections are admitted (send 53300). */
  admit(socket: Socket): boolean {
    if (this.admitted.has(socket)) return true
    if (this.admitted.size >= this.options.maxConnections) return false
    this.admitted.add(socket)
    return true
  }

  authenticated(socket: Socket): void {
    this.forgetStarting(socket)
  }

  /** A whole message arrived: the connection is not idle. */
  busy(socket: Socket): void {
    const t = this.idleClocks.get(socket)
    if (t !== undefined) clearTimeout(t)
    this.idleClocks.delete(socket)
  }

  /**
   * Its reply is sent and it waits for the client: the idle clock starts (if there is one):
   * the node's --idle-session-timeout or the session's own limit (`sessionMs`, its
   * idle_session_timeout or idle_in_transaction_session_timeout), whichever is shorter.
   */
  idle(socket: Socket, inTransaction: boolean, sessionMs = 0): void {
    this.busy(socket)
    const limits = [this.options.idleSessionTimeoutMs, sessionMs].filter((x) => x > 0)
    if (limits.length === 0 || !this.admitted.has(socket)) return
    const ms = Math.min(...limits)
    this.idleClocks.set(socket, setTimeout(() => {
      this.idleClocks.delete(socket)
      this.actions.idleTimeout(socket, inTransaction)
    }, ms))
  }

  closed(socket: Socket): void {
    this.forgetStarting(socket)
    this.busy(socket)
    this.admitted.delete(socket)
  }

  get counts(): { starting: number; admitted: number } {
    return { starting: this.starting.size, admitted: this.admitted.size }
  }

  private forgetStarting(socket: Socket): void {
    const t = this.starting.get(socket)
    if (t !== undefined) clearTimeout(t)
    this.starting.delete(socket)
  }
}
