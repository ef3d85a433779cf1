/**
 * PostgreSQL's advisory locks (pg_advisory_lock and its family): locks on numbers that
 * mean what the application says they mean, taken by migration tools (Prisma, Flyway,
 * Rails) so that one of several processes runs the migration.
 *
 * They live in the node's lock table (runtime/row-locks.ts) beside row locks, so they bind
 * the sessions of one node, as row locks do; two nodes do not exclude each other
 * (docs/compatibility.md). A session-level lock (pg_advisory_lock) is counted and held
 * until unlocked as often as taken, pg_advisory_unlock_all, DISCARD ALL or the session's
 * end; a transaction-level one (pg_advisory_xact_lock) until the transaction ends. A call
 * that must wait stops its statement like a locked row does (`RowLockWait`): the session
 * undoes the run, waits (lock_timeout, statement_timeout, cancel and deadlock detection
 * apply) and runs it again.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from './context.js'
import { ADVISORY_PREFIX, RowLockWait, type RowLocker, type RowLockMode } from './row-locks.js'

/** The key as pg_locks shows it: classid, objid (unsigned 32-bit halves) and objsubid (1: one bigint, 2: two integers). */
export interface AdvisoryKey {
  classid: number
  objid: number
  objsubid: 1 | 2
}

/** The key of `pg_advisory_*(bigint)` or `pg_advisory_*(int, int)`. */
export function advisoryKey(args: readonly unknown[]): AdvisoryKey {
  if (args.length === 1) {
    const k = BigInt.asUintN(64, BigInt(args[0] as bigint | number))
    return { classid: Number(k >> 32n), objid: Number(k & 0xffffffffn), objsubid: 1 }
  }
  return { classid: (args[0] as number) >>> 0, objid: (args[1] as number) >>> 0, objsubid: 2 }
}

function lockKeyOf(k: AdvisoryKey): string {
  return `${ADVISORY_PREFIX}\u0000${k.classid}\u0000${k.objid}\u0000${k.objsubid}`
}

/** The key a lock-table key of an advisory lock stands for. */
export function parseAdvisoryKey(lockKey: string): AdvisoryKey {
  const [, classid, objid, objsubid] = lockKey.split('\u0000')
  return { classid: Number(classid), objid: Number(objid), objsubid: objsubid === '2' ? 2 : 1 }
}

function locker(ctx: ExecCtx): RowLocker {
  const l = ctx.rows.sessionLocker
  if (l === null) throw new SqlError(SqlState.featureNotSupported, 'advisory locks are taken by client sessions only')
  return l
}

const modeOf = (shared: boolean): RowLockMode => (shared ? 'share' : 'update')

export interface AdvisoryRequest {
  shared: boolean
  /** Held until the transaction ends (pg_advisory_xact_lock), else by the session. */
  transaction: boolean
  /** Wait for it (pg_advisory_lock), else answer false at once (pg_try_advisory_lock). */
  wait: boolean
}

/** Takes an advisory lock; false when `wait` is off and another session holds it. */
export function advisoryLock(ctx: ExecCtx, key: AdvisoryKey, r: AdvisoryRequest): boolean {
  const l = locker(ctx)
  const lockKey = lockKeyOf(key)
  const mode = modeOf(r.shared)
  const blockers = r.transaction ? l.locks.tryLock(l.owner, lockKey, mode) : l.locks.tryLockSession(l.owner, lockKey, mode)
  if (blockers.length === 0) return true
  if (!r.wait) return false
  throw new RowLockWait('', lockKey, blockers)
}

/** Gives back one session-level advisory lock; false (and a warning) when the session held none. */
export function advisoryUnlock(ctx: ExecCtx, key: AdvisoryKey, shared: boolean): boolean {
  const l = locker(ctx)
  if (l.locks.unlockSession(l.owner, lockKeyOf(key), modeOf(shared))) return true
  ;(ctx.notices ??= []).push(`you don't own a lock of type ${shared ? 'ShareLock' : 'ExclusiveLock'}`)
  return false
}

/** pg_advisory_unlock_all: every session-level advisory lock of the session. */
export function advisoryUnlockAll(ctx: ExecCtx): void {
  const l = locker(ctx)
  l.locks.releaseSession(l.owner)
}
