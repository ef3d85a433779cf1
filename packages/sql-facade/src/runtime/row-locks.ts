/**
 * Node-local row locks, PostgreSQL's four modes (FOR KEY SHARE < FOR SHARE < FOR NO KEY
 * UPDATE < FOR UPDATE), held by a session's transaction until it ends.
 *
 * Statements run synchronously, so a lock is never waited for inside a statement: a
 * write (or SELECT .. FOR UPDATE) that finds a row locked by another session's open
 * transaction throws `RowLockWait`; the session undoes the statement's run, awaits the
 * release here (other sessions keep running), and runs the statement again. The new run
 * reads the row's latest committed version and re-tests its WHERE, which is what
 * PostgreSQL's EvalPlanQual achieves for READ COMMITTED: `b = b + n` sees the other
 * commit, a row that no longer matches is left alone, a deleted row is skipped.
 *
 * Invariants: a key's holders never hold conflicting modes; an owner waits for at most
 * one key at a time, and a wait that would close a circle in the wait-for graph is
 * refused (40P01) before it starts, so exactly one transaction of a deadlock fails.
 * Locks bind sessions of one node only: other nodes' writes merge (docs/compatibility.md).
 *
 * Advisory locks (pg_advisory_*, runtime/advisory-locks.ts) share the table under keys of
 * their own (ADVISORY_PREFIX): transaction-level ones are held like row locks; session-level
 * ones are counted holds that outlive transactions until unlocked or the session ends.
 */
import { encodeRowKey, type Value } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'

export type RowLockMode = 'keyShare' | 'share' | 'noKeyUpdate' | 'update'

/** PostgreSQL's row lock conflict table. */
const CONFLICTS: Record<RowLockMode, readonly RowLockMode[]> = {
  keyShare: ['update'],
  share: ['noKeyUpdate', 'update'],
  noKeyUpdate: ['share', 'noKeyUpdate', 'update'],
  update: ['keyShare', 'share', 'noKeyUpdate', 'update'],
}

const STRENGTH: Record<RowLockMode, number> = { keyShare: 0, share: 1, noKeyUpdate: 2, update: 3 }

/** Lock keys of advisory locks start so (no table name does: it is a control character). */
export const ADVISORY_PREFIX = '\u0001advisory'

/** A session-level hold: how many times each mode was taken and not yet unlocked. */
type SessionHold = Partial<Record<RowLockMode, number>>

/** One change of a session-level hold, kept while a statement runs so a rerun can undo it. */
export interface SessionChange {
  lockKey: string
  mode: RowLockMode
  delta: 1 | -1
}

/** Who holds locks: one per session (its transaction's locks are the session's). */
export interface LockOwner {
  readonly pid: number
  /**
   * RowLocks' record of the owner's session-level changes while a statement runs
   * (`sessionMark` .. `endSessionJournal`), null or absent otherwise. Kept on the owner:
   * a Map by owner cost three lookups a statement, ~2% of a node's time on pgbench.
   */
  sessionJournal?: SessionChange[] | null
}

/** A statement found a row locked by another transaction: undo the run, wait, run again. */
export class RowLockWait extends Error {
  readonly lockKey: string
  readonly blockers: LockOwner[]
  readonly table: string

  constructor(table: string, lockKey: string, blockers: LockOwner[]) {
    // Control flow, caught by the session (never shown to a client): no stack trace. Taking
    // one cost more than the lock table itself when sessions queue on one row (pgbench's
    // branch row, every transaction).
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(`row of "${table}" is locked by another transaction`)
    Error.stackTraceLimit = limit
    this.table = table
    this.lockKey = lockKey
    this.blockers = blockers
  }
}

/** How long a wait may last and how it is interrupted (all read while waiting). */
export interface LockWaitLimits {
  /** lock_timeout in ms; 0: none. */
  lockTimeoutMs: number
  /** The statement's deadline on `now` (statement_timeout); Infinity: none. */
  deadline: number
  now(): number
  canceled(): boolean
}

/** How often a waiting session looks at its cancel flag, in ms. */
const POLL_MS = 20

/** `tryLock`'s answer when nothing is in the way (shared: the common case allocates nothing). */
const NO_BLOCKERS: LockOwner[] = []
Object.freeze(NO_BLOCKERS)

export class RowLocks {
  /**
   * Lock key -> its holder, or its holders when several hold it in modes that do not
   * conflict. The modes are in `byOwner`. One holder is the owner itself, not a collection:
   * a COPY or INSERT of n rows in a block takes n locks, and a Map per key made ~9% of a
   * 200,000-row COPY's time and much of its collector's.
   */
  private readonly held = new Map<string, LockOwner | Set<LockOwner>>()
  /** Owner -> the keys it holds and its mode on each. */
  private readonly byOwner = new Map<LockOwner, Map<string, RowLockMode>>()
  /** Wait-for edges of the owners waiting now. */
  private readonly waitsFor = new Map<LockOwner, readonly LockOwner[]>()
  private readonly wakers = new Map<string, Set<() => void>>()
  /** Session-level holds (advisory locks): lock key -> holder -> counts by mode. */
  private readonly sessionHeld = new Map<string, Map<LockOwner, SessionHold>>()
  private readonly sessionByOwner = new Map<LockOwner, Set<string>>()

  static keyOf(table: string, key: Value[]): string {
    return `${table}\u0000${encodeRowKey(key)}`
  }

  /** Takes (or strengthens) `owner`'s lock on a row; returns the owners in the way (none: taken). */
  tryLock(owner: LockOwner, lockKey: string, mode: RowLockMode): LockOwner[] {
    // A key nobody holds (each row of a COPY): taken without looking further.
    const free = this.sessionHeld.size === 0 && !this.held.has(lockKey)
    const blockers = free ? NO_BLOCKERS : this.blockersOf(owner, lockKey, mode)
    // A refused request leaves its owner holding nothing (`othersHold` counts the owners listed).
    if (blockers.length > 0) return blockers
    let mine = this.byOwner.get(owner)
    if (mine === undefined) this.byOwner.set(owner, (mine = new Map()))
    if (free) {
      this.held.set(lockKey, owner)
      mine.set(lockKey, mode)
      return NO_BLOCKERS
    }
    const had = mine.get(lockKey)
    if (had === undefined) {
      const holders = this.held.get(lockKey)
      if (holders === undefined) this.held.set(lockKey, owner)
      else if (holders instanceof Set) holders.add(owner)
      else this.held.set(lockKey, new Set([holders, owner]))
    }
    if (had === undefined || STRENGTH[had] < STRENGTH[mode]) mine.set(lockKey, mode)
    return blockers
  }

  /** The holders of a `held` entry, one or several. */
  private static holdersIn(holders: LockOwner | Set<LockOwner> | undefined): Iterable<LockOwner> {
    return holders instanceof Set ? holders : holders === undefined ? [] : [holders]
  }

  /** `owner`'s mode on `lockKey` (it holds it). */
  private modeOf(owner: LockOwner, lockKey: string): RowLockMode {
    return this.byOwner.get(owner)!.get(lockKey)!
  }

  /** The other owners whose locks on `lockKey`, of either level, conflict with `mode`. */
  private blockersOf(owner: LockOwner, lockKey: string, mode: RowLockMode): LockOwner[] {
    const holders = this.held.get(lockKey)
    const sessions = this.sessionHeld.get(lockKey)
    // Most keys asked for are held by nobody else: no array made.
    if ((holders === undefined || holders === owner) && sessions === undefined) return NO_BLOCKERS
    const blockers: LockOwner[] = []
    const conflicting = CONFLICTS[mode]
    for (const o of RowLocks.holdersIn(holders)) {
      if (o !== owner && conflicting.includes(this.modeOf(o, lockKey))) blockers.push(o)
    }
    if (sessions !== undefined) {
      for (const [o, hold] of sessions) {
        if (o !== owner && !blockers.includes(o) && conflicting.some((m) => (hold[m] ?? 0) > 0)) blockers.push(o)
      }
    }
    return blockers
  }

  /**
   * Takes a session-level hold of `lockKey` for `owner` (counted: each take needs its
   * unlock); returns the owners in the way (none: taken).
   */
  tryLockSession(owner: LockOwner, lockKey: string, mode: RowLockMode): LockOwner[] {
    const blockers = this.blockersOf(owner, lockKey, mode)
    if (blockers.length > 0) return blockers
    this.changeSession(owner, lockKey, mode, 1)
    return blockers
  }

  /** Gives back one session-level hold of `lockKey` in `mode`; false when `owner` had none. */
  unlockSession(owner: LockOwner, lockKey: string, mode: RowLockMode): boolean {
    if ((this.sessionHeld.get(lockKey)?.get(owner)?.[mode] ?? 0) === 0) return false
    this.changeSession(owner, lockKey, mode, -1)
    return true
  }

  /** Gives back every session-level hold of `owner` (pg_advisory_unlock_all, the session's end). */
  releaseSession(owner: LockOwner): void {
    for (const lockKey of [...(this.sessionByOwner.get(owner) ?? [])]) {
      const hold = this.sessionHeld.get(lockKey)?.get(owner) ?? {}
      for (const mode of Object.keys(hold) as RowLockMode[]) {
        for (let n = hold[mode] ?? 0; n > 0; n--) this.changeSession(owner, lockKey, mode, -1)
      }
    }
  }

  private changeSession(owner: LockOwner, lockKey: string, mode: RowLockMode, delta: 1 | -1, journal = true): void {
    let holders = this.sessionHeld.get(lockKey)
    if (holders === undefined) this.sessionHeld.set(lockKey, (holders = new Map()))
    let hold = holders.get(owner)
    if (hold === undefined) holders.set(owner, (hold = {}))
    const n = (hold[mode] ?? 0) + delta
    if (n > 0) hold[mode] = n
    else delete hold[mode]
    let mine = this.sessionByOwner.get(owner)
    if (mine === undefined) this.sessionByOwner.set(owner, (mine = new Set()))
    mine.add(lockKey)
    if (Object.keys(hold).length === 0) {
      holders.delete(owner)
      if (holders.size === 0) this.sessionHeld.delete(lockKey)
      mine.delete(lockKey)
      if (mine.size === 0) this.sessionByOwner.delete(owner)
    }
    if (journal) owner.sessionJournal?.push({ lockKey, mode, delta })
    if (delta < 0) this.wake(lockKey)
  }

  /**
   * Starts recording `owner`'s session-level changes: a statement stopped by a lock
   * (`RowLockWait`) and run again must not take its holds twice. Returns the mark for
   * `undoSessionSince`; `endSessionJournal` stops recording.
   */
  sessionMark(owner: LockOwner): number {
    return (owner.sessionJournal ??= []).length
  }

  /** Undoes `owner`'s session-level changes made since `mark`, newest first. */
  undoSessionSince(owner: LockOwner, mark: number): void {
    const changes = owner.sessionJournal
    if (changes === undefined || changes === null) return
    for (const c of changes.splice(mark).reverse()) this.changeSession(owner, c.lockKey, c.mode, c.delta === 1 ? -1 : 1, false)
  }

  endSessionJournal(owner: LockOwner): void {
    owner.sessionJournal = null
  }

  /** Every row lock held now: the row's table, its holder and the mode (pg_locks). */
  list(): Array<{ table: string; owner: LockOwner; mode: RowLockMode }> {
    const out: Array<{ table: string; owner: LockOwner; mode: RowLockMode }> = []
    for (const [k, holders] of this.held) {
      if (k.startsWith(ADVISORY_PREFIX)) continue
      const table = k.slice(0, k.indexOf('\u0000'))
      for (const owner of RowLocks.holdersIn(holders)) out.push({ table, owner, mode: this.modeOf(owner, k) })
    }
    return out
  }

  /** Every advisory lock held now, of either level: its key, holder and mode (pg_locks). */
  listAdvisory(): Array<{ lockKey: string; owner: LockOwner; mode: RowLockMode }> {
    const out: Array<{ lockKey: string; owner: LockOwner; mode: RowLockMode }> = []
    for (const [lockKey, holders] of this.held) {
      if (!lockKey.startsWith(ADVISORY_PREFIX)) continue
      for (const owner of RowLocks.holdersIn(holders)) out.push({ lockKey, owner, mode: this.modeOf(owner, lockKey) })
    }
    for (const [lockKey, holders] of this.sessionHeld) {
      for (const [owner, hold] of holders) for (const mode of Object.keys(hold) as RowLockMode[]) out.push({ lockKey, owner, mode })
    }
    return out
  }

  /** Whether `owner` holds any transaction-level lock (a transaction that locked nothing ends without work here). */
  holds(owner: LockOwner): boolean {
    return (this.byOwner.get(owner)?.size ?? 0) > 0
  }

  /**
   * Whether an owner other than `owner` holds a lock. While none does, a statement of
   * `owner` cannot meet a locked row (statements run synchronously), so it needs no mark
   * to undo its run by.
   */
  othersHold(owner: LockOwner): boolean {
    return this.byOwner.size > (this.byOwner.has(owner) ? 1 : 0) || this.sessionByOwner.size > (this.sessionByOwner.has(owner) ? 1 : 0)
  }

  /** Releases every lock of `owner` (its transaction ended) and wakes their waiters. */
  release(owner: LockOwner): void {
    const mine = this.byOwner.get(owner)
    if (mine === undefined) return
    this.byOwner.delete(owner)
    const waiting = this.wakers.size > 0
    for (const k of mine.keys()) {
      const holders = this.held.get(k)
      if (holders === owner) this.held.delete(k)
      else if (holders instanceof Set) {
        holders.delete(owner)
        if (holders.size === 1) this.held.set(k, holders.values().next().value!)
      }
      if (waiting) this.wake(k)
    }
  }

  private wake(lockKey: string): void {
    const wake = this.wakers.get(lockKey)
    if (wake !== undefined) for (const w of [...wake]) w()
  }

  /**
   * Waits until a blocker of `w` releases the row (then the caller runs its statement
   * again). Fails with 40P01 if the wait would close a circle of waits, 55P03 after
   * lock_timeout, 57014 on statement_timeout or cancel.
   */
  async wait(owner: LockOwner, w: RowLockWait, limits: LockWaitLimits): Promise<void> {
    const circle = this.circleThrough(owner, w.blockers)
    if (circle !== null) {
      const what = w.lockKey.startsWith(ADVISORY_PREFIX) ? 'an advisory lock held' : `a row of "${w.table}" locked`
      throw new SqlError(SqlState.deadlockDetected, 'deadlock detected', {
        detail: `Process ${owner.pid} waits for ${what} by process ${circle.pid}, which waits, directly or not, for process ${owner.pid}.`,
        hint: 'See server log for query details.',
      })
    }
    const lockDeadline = limits.lockTimeoutMs > 0 ? limits.now() + limits.lockTimeoutMs : Infinity
    this.waitsFor.set(owner, w.blockers)
    let wakers = this.wakers.get(w.lockKey)
    if (wakers === undefined) this.wakers.set(w.lockKey, (wakers = new Set()))
    const set = wakers
    let waker: () => void = () => {}
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        waker = resolve
        set.add(waker)
        const check = () => {
          const now = limits.now()
          if (limits.canceled()) return reject(new SqlError(SqlState.queryCanceled, 'canceling statement due to user request'))
          if (now >= limits.deadline) return reject(new SqlError(SqlState.queryCanceled, 'canceling statement due to statement timeout'))
          if (now >= lockDeadline) return reject(new SqlError(SqlState.lockNotAvailable, 'canceling statement due to lock timeout'))
          timer = setTimeout(check, Math.max(1, Math.min(POLL_MS, lockDeadline - now, limits.deadline - now)))
        }
        check()
      })
    } finally {
      if (timer !== undefined) clearTimeout(timer)
      set.delete(waker)
      if (set.size === 0) this.wakers.delete(w.lockKey)
      this.waitsFor.delete(owner)
    }
  }

  /** A blocker from which the waits lead back to `owner`, if any. */
  private circleThrough(owner: LockOwner, blockers: readonly LockOwner[]): LockOwner | null {
    for (const first of blockers) {
      const seen = new Set<LockOwner>()
      const stack = [first]
      while (stack.length > 0) {
        const o = stack.pop()!
        if (o === owner) return first
        if (seen.has(o)) continue
        seen.add(o)
        for (const next of this.waitsFor.get(o) ?? []) stack.push(next)
      }
    }
    return null
  }
}

/** A transaction's way to lock rows: the node's lock table and the session that owns the locks. */
export interface RowLocker {
  readonly locks: RowLocks
  readonly owner: LockOwner
  /**
   * True while a lock taken now could neither conflict nor be seen: a statement that is its
   * own transaction (its locks are released when it ends, and it runs synchronously, so no
   * other session runs before then) while no other session holds a lock. Its rows are then
   * not recorded: a bulk UPDATE or DELETE spent 8% of its time adding and removing them.
   */
  unshared?(): boolean
}
