/**
 * Peer calls: a request to one peer for the layers above (the SQL layer forwards a write
 * to a node holding its table this way), and that peer's answer. Core carries the bodies
 * and never reads them: CALL names a topic, the receiving replica hands the body to the
 * handler registered for it, and its answer (or failure) goes back in REPLY.
 *
 * Invariants: every pending call ends exactly once (answer, timeout, peer down or stop)
 * and its timer is then cancelled; a reply from another peer than the one called, or for
 * no pending call, is ignored. A handler's answer is sent once it settles, however long
 * that takes: the caller's timeout bounds the wait on its side only.
 */
import { ConcordError } from '../errors/concord-error.js'
import type { Fragments } from './fragments.js'
import { MessageType, ReplyStatus } from './messages.js'
import type { ReplicationContext } from './replication-context.js'
import type { ReplicatedShard } from './replication-host.js'

/** Default wait for a peer's reply (ms of the injected scheduler). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000

/** Answers calls on one topic: the reply body, or a rejection (its message goes back). */
export type CallHandler = (from: string, body: Uint8Array) => Promise<Uint8Array>

interface Pending {
  peer: string
  cancelTimer: () => void
  settle: (outcome: { status: ReplyStatus; body: Uint8Array } | 'timeout' | 'down') => void
}

export class PeerCalls<S extends ReplicatedShard> {
  private readonly ctx: ReplicationContext<S>
  private readonly fragments: Fragments<S>
  private readonly handlers = new Map<string, CallHandler>()
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  constructor(ctx: ReplicationContext<S>, fragments: Fragments<S>) {
    this.ctx = ctx
    this.fragments = fragments
  }

  /** Registers the handler of a topic (replacing any); returns the function that removes it. */
  handle(topic: string, handler: CallHandler): () => void {
    this.handlers.set(topic, handler)
    return () => {
      if (this.handlers.get(topic) === handler) this.handlers.delete(topic)
    }
  }

  /**
   * Calls `peer` on `topic`: resolves with its handler's answer; rejects with
   * `sqlclientUnableToEstablishSqlconnection` when the peer is not connected (nothing was
   * sent), `transactionResolutionUnknown` when it goes down or does not answer within
   * `timeoutMs` (the call may or may not have run there), and `featureNotSupported` with
   * the handler's message when it failed or there is none.
   */
  call(peer: string, topic: string, body: Uint8Array, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<Uint8Array> {
    const unreachable = (why: string) => new ConcordError('sqlclientUnableToEstablishSqlconnection', `node ${peer} ${why}`)
    if (!this.ctx.peers.has(peer) || this.ctx.stopped) return Promise.reject(unreachable('is not connected'))
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      const settle = (outcome: { status: ReplyStatus; body: Uint8Array } | 'timeout' | 'down') => {
        const p = this.pending.get(id)
        if (p === undefined) return
        this.pending.delete(id)
        p.cancelTimer()
        const unknown = (why: string) => new ConcordError('transactionResolutionUnknown', `node ${peer} ${why}: whether it ran there is unknown`)
        if (outcome === 'timeout') reject(unknown(`did not answer within ${timeoutMs} ms`))
        else if (outcome === 'down') reject(unknown('went down before it answered'))
        else if (outcome.status === ReplyStatus.Done) resolve(outcome.body)
        else reject(new ConcordError('featureNotSupported', `node ${peer}: ${new TextDecoder().decode(outcome.body)}`))
      }
      const cancelTimer = this.ctx.host.scheduler.setTimeout(timeoutMs, () => settle('timeout'))
      this.pending.set(id, { peer, cancelTimer, settle })
      this.fragments.send(peer, { type: MessageType.Call, id, topic, body })
    })
  }

  /** A peer's call: handed to the topic's handler, answered when it settles. */
  onCall(from: string, id: number, topic: string, body: Uint8Array): void {
    const reply = (status: ReplyStatus, out: Uint8Array) => {
      if (!this.ctx.stopped) this.fragments.send(from, { type: MessageType.Reply, id, status, body: out })
    }
    const handler = this.handlers.get(topic)
    if (handler === undefined) return reply(ReplyStatus.NoHandler, new TextEncoder().encode(`no handler for "${topic}"`))
    handler(from, body).then(
      (out) => reply(ReplyStatus.Done, out),
      (e: unknown) => reply(ReplyStatus.Failed, new TextEncoder().encode(e instanceof Error ? e.message : String(e))),
    )
  }

  onReply(from: string, id: number, status: ReplyStatus, body: Uint8Array): void {
    const p = this.pending.get(id)
    if (p === undefined || p.peer !== from) return
    p.settle({ status, body })
  }

  /** A peer went away: its pending calls end at once. */
  peerDown(peer: string): void {
    for (const p of [...this.pending.values()]) if (p.peer === peer) p.settle('down')
  }

  stop(): void {
    for (const p of [...this.pending.values()]) p.settle('down')
  }
}
