/**
 * The failover monitor of one node: in active_passive mode it keeps heartbeats on, watches
 * the primary through a FailureDetector, and with auto_failover on promotes this node
 * when the primary is silent past failover_timeout and this node is the most caught-up
 * eligible standby it can see (ties: lowest node id), so every node picks the same one.
 * It also reports role changes (promoted, demoted) to its listeners, for the node log.
 *
 * Roles come from the catalog (cluster/node-role.ts, cluster/primary-term.ts); the monitor only writes new
 * terms. A primary demotes itself simply by seeing a newer term.
 *
 * Start fence. A node that restarts as the recorded primary may have missed a failover
 * while it was down: until its catalog has matched a peer's since it started (so it has
 * heard of any newer term), or failover_timeout has passed without reaching any peer, it
 * takes no writes (`writable()` false, reported as a standby).
 *
 * Invariants: the timer runs on the replica's scheduler (virtual time in the simulator)
 * only while the mode is active_passive; a promotion writes one new term, with the
 * highest epoch this node knows plus one.
 */
import type { CatalogChange, Replica } from '@concord/core'
import { durationMillis } from '../settings/parameters.js'
import { CLUSTER_SETTING_KIND, Settings } from '../settings/settings.js'
import { FailureDetector, type DetectionMethod } from './failure-detector.js'
import { haMode, mayBePrimary, roleOf, type HaMode, type NodeRole } from '../cluster/node-role.js'
import { currentTerm, nextTermWrites, PRIMARY_TERM_KIND, type PrimaryTerm, type TermReason } from '../cluster/primary-term.js'

export interface FailoverEvent {
  kind: 'promoted' | 'demoted' | 'primary_suspected' | 'fence_lifted'
  /** The current term after the event. */
  epoch: number
  primary: string | null
  message: string
}

/** Longest pause between checks; shorter when failover_timeout is short. */
const MAX_TICK_MS = 500
/** A chosen candidate that does not promote within this many timeouts is passed over: any eligible standby may. */
const FALLBACK_TIMEOUTS = 3

export class FailoverMonitor {
  /** Times this node became primary (metrics). */
  promotions = 0
  private readonly replica: Replica
  private readonly listeners: Array<(e: FailoverEvent) => void> = []
  private readonly detector = new FailureDetector('heartbeat', 30_000)
  private readonly startedAt: number
  /** The term this node held as primary when it started; null once the start fence is lifted. */
  private fence: PrimaryTerm | null
  private lastTerm: PrimaryTerm | null
  /** When this node first saw the current term (the primary's silence is counted from here at the earliest). */
  private termSeenAt: number
  private suspectedEpoch = 0
  /** The mode and current term, read from the catalog again after a change to them (every write asks). */
  private modeCache: HaMode | null = null
  private termCache: PrimaryTerm | null | undefined = undefined
  private cancelTimer: (() => void) | null = null
  private closed = false

  constructor(replica: Replica) {
    this.replica = replica
    this.startedAt = replica.now()
    this.lastTerm = this.term()
    this.termSeenAt = this.startedAt
    this.fence = this.mode() === 'active_passive' && this.lastTerm?.nodeId === replica.nodeId ? this.lastTerm : null
    this.arm()
  }

  onEvent(fn: (e: FailoverEvent) => void): () => void {
    this.listeners.push(fn)
    return () => {
      const i = this.listeners.indexOf(fn)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  private settings(): Settings {
    return new Settings(this.replica)
  }

  mode(): HaMode {
    return (this.modeCache ??= haMode(this.settings().show('high_availability_mode')))
  }

  /** The current primary term in this node's catalog. */
  term(): PrimaryTerm | null {
    if (this.termCache === undefined) this.termCache = currentTerm(this.replica.listCatalog(PRIMARY_TERM_KIND))
    return this.termCache
  }

  /** This node's role as the catalog decides it, a fenced primary reporting as standby. */
  role(): NodeRole {
    const role = roleOf(this.mode(), this.term(), this.replica.nodeId)
    return role === 'primary' && this.fenced() ? 'standby' : role
  }

  /** Whether this node takes writes now. */
  writable(): boolean {
    return this.role() !== 'standby'
  }

  /** Whether a node may become primary (its region has the PRIMARY role, or declares none). */
  eligible(nodeId: string): boolean {
    const node = this.replica.getCatalog('node', nodeId)
    const region = typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as { region?: unknown }).region : undefined
    return mayBePrimary(typeof region === 'string' ? this.replica.getCatalog('region', region) : undefined)
  }

  private fenced(): boolean {
    const f = this.fence
    if (f === null) return false
    const t = this.term()
    let lift: string | null = null
    if (t === null || t.epoch !== f.epoch || t.nodeId !== f.nodeId) lift = null
    else if (this.catalogSyncedSinceStart()) lift = 'its catalog matched a peer\'s'
    else if (this.replica.now() - this.startedAt >= this.timeoutMs()) lift = 'no peer answered within failover_timeout'
    else return true
    this.fence = null
    if (lift !== null) this.emit('fence_lifted', `restarted as primary (epoch ${f.epoch}): takes writes again, ${lift}`)
    return false
  }

  private catalogSyncedSinceStart(): boolean {
    for (const p of this.replica.replicator.peerStatus()) {
      const at = this.replica.peerMatchedAt(this.replica.catalogShard.id, p.nodeId)
      if (at !== null && at >= this.startedAt) return true
    }
    return false
  }

  private timeoutMs(): number {
    return Math.max(1, durationMillis(this.settings().show('failover_timeout') ?? '30s'))
  }

  /** Catalog changes: the mode (starts or stops the timer) and terms (promoted, demoted). */
  onCatalog(changes: CatalogChange[]): void {
    let termChanged = false
    for (const c of changes) {
      if (c.kind === CLUSTER_SETTING_KIND && c.name === 'high_availability_mode') {
        this.modeCache = null
        this.arm()
      }
      if (c.kind === PRIMARY_TERM_KIND) {
        this.termCache = undefined
        termChanged = true
      }
    }
    if (termChanged) this.noteTerm()
  }

  private noteTerm(): void {
    const t = this.term()
    const prev = this.lastTerm
    if (t === null || (prev !== null && t.epoch === prev.epoch && t.nodeId === prev.nodeId)) return
    this.lastTerm = t
    this.termSeenAt = this.replica.now()
    const self = this.replica.nodeId
    if (t.nodeId === self && prev?.nodeId !== self) {
      this.promotions++
      this.emit('promoted', `promoted to primary at epoch ${t.epoch} (${t.reason})`)
    } else if (t.nodeId !== self && prev?.nodeId === self) {
      this.emit('demoted', `demoted to standby: ${t.nodeId} is primary at epoch ${t.epoch} (${t.reason})`)
    }
  }

  private emit(kind: FailoverEvent['kind'], message: string): void {
    const t = this.term()
    const e: FailoverEvent = { kind, epoch: t?.epoch ?? 0, primary: t?.nodeId ?? null, message }
    for (const fn of this.listeners) fn(e)
  }

  /** Starts the timer in active_passive mode (heartbeats on), stops it otherwise. */
  private arm(): void {
    const on = !this.closed && this.mode() === 'active_passive'
    this.replica.replicator.heartbeats = on
    if (on && this.cancelTimer === null) this.schedule()
    if (!on && this.cancelTimer !== null) {
      this.cancelTimer()
      this.cancelTimer = null
    }
  }

  private schedule(): void {
    const ms = Math.max(10, Math.min(MAX_TICK_MS, Math.floor(this.timeoutMs() / 6)))
    this.cancelTimer = this.replica.scheduler.setTimeout(ms, () => {
      this.cancelTimer = null
      if (this.closed || this.replica.isClosed || this.mode() !== 'active_passive') return
      try {
        this.tick()
      } catch {
        // Storage refusing the promotion's write: the next tick tries again.
      }
      this.schedule()
    })
  }

  /** One check: feed the detector, and promote this node if the primary is gone and it is the one to take over. */
  tick(): void {
    // Read afresh each tick too, whatever way the catalog changed.
    this.modeCache = null
    this.termCache = undefined
    const settings = this.settings()
    const now = this.replica.now()
    this.detector.method = (settings.show('failure_detection_method') ?? 'heartbeat') as DetectionMethod
    this.detector.timeoutMs = this.timeoutMs()
    const peers = this.replica.replicator.peerStatus()
    for (const p of peers) if (p.lastSeen !== null) this.detector.heard(p.nodeId, p.lastSeen)
    this.noteTerm()
    this.fenced()
    const self = this.replica.nodeId
    const term = this.term()
    if (term?.nodeId === self || settings.show('auto_failover') !== 'on' || !this.eligible(self)) return
    const since = Math.max(this.startedAt, this.termSeenAt)
    if (term !== null && !this.detector.suspects(term.nodeId, now, since)) return
    if (term === null && now - this.startedAt < this.detector.timeoutMs) return
    const epoch = term?.epoch ?? 0
    if (this.suspectedEpoch !== epoch) {
      this.suspectedEpoch = epoch
      this.emit('primary_suspected', term === null ? 'no primary recorded' : `primary ${term.nodeId} (epoch ${term.epoch}) silent past failover_timeout`)
    }
    const origin = term?.nodeId ?? null
    const held = (id: string): number => (origin === null ? 0 : id === self ? this.replica.replicator.received(origin) : this.replica.replicator.heldBy(id, origin))
    // Standbys this node can see now (heard from within the timeout), itself included.
    const candidates = [self, ...peers.filter((p) => p.connected && p.nodeId !== origin && !this.detector.suspects(p.nodeId, now, now - this.detector.timeoutMs) && this.eligible(p.nodeId)).map((p) => p.nodeId)]
    candidates.sort((a, b) => held(b) - held(a) || (a < b ? -1 : a > b ? 1 : 0))
    const overdue = now - Math.max(since, this.detector.lastHeard(origin ?? '') ?? 0) >= FALLBACK_TIMEOUTS * this.detector.timeoutMs
    if (candidates[0] === self || overdue) this.promote('failover')
  }

  /** Records this node as primary with the next epoch (auto-failover; pg_promote() writes in its own transaction). */
  promote(reason: TermReason): PrimaryTerm {
    const { term, writes } = nextTermWrites(this.replica.listCatalog(PRIMARY_TERM_KIND), this.replica.nodeId, reason, this.replica.now())
    this.replica.transact((tx) => {
      for (const w of writes) tx.setCatalog(w.kind, w.name, w.value)
    })
    this.fence = null
    this.termCache = undefined
    this.noteTerm()
    return term
  }

  close(): void {
    this.closed = true
    this.cancelTimer?.()
    this.cancelTimer = null
  }
}
