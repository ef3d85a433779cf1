/** pg_advisory_lock and its family (runtime/advisory-locks.ts): by one bigint key or two integer keys. */
import { T, type SqlType } from '../types/sql-type.js'
import type { ScalarImpl, ScalarResolver } from './scalar-impl.js'
import { advisoryKey, advisoryLock, advisoryUnlock, advisoryUnlockAll, type AdvisoryRequest } from '../runtime/advisory-locks.js'

function keyed(result: SqlType, fn: ScalarImpl['fn']): ScalarResolver {
  return (ts) => {
    if (ts.length === 1) return { args: [T.int8], result, volatile: true, fn }
    if (ts.length === 2) return { args: [T.int4, T.int4], result, volatile: true, fn }
    return null
  }
}

function lock(r: AdvisoryRequest): ScalarResolver {
  return keyed(r.wait ? T.void : T.bool, (a, ctx) => {
    const taken = advisoryLock(ctx, advisoryKey(a), r)
    return r.wait ? null : taken
  })
}

export const ADVISORY_LOCK_FUNCTIONS: Record<string, ScalarResolver> = {
  pg_advisory_lock: lock({ shared: false, transaction: false, wait: true }),
  pg_advisory_lock_shared: lock({ shared: true, transaction: false, wait: true }),
  pg_try_advisory_lock: lock({ shared: false, transaction: false, wait: false }),
  pg_try_advisory_lock_shared: lock({ shared: true, transaction: false, wait: false }),
  pg_advisory_xact_lock: lock({ shared: false, transaction: true, wait: true }),
  pg_advisory_xact_lock_shared: lock({ shared: true, transaction: true, wait: true }),
  pg_try_advisory_xact_lock: lock({ shared: false, transaction: true, wait: false }),
  pg_try_advisory_xact_lock_shared: lock({ shared: true, transaction: true, wait: false }),
  pg_advisory_unlock: keyed(T.bool, (a, ctx) => advisoryUnlock(ctx, advisoryKey(a), false)),
  pg_advisory_unlock_shared: keyed(T.bool, (a, ctx) => advisoryUnlock(ctx, advisoryKey(a), true)),
  pg_advisory_unlock_all: (ts) => (ts.length === 0 ? { args: [], result: T.void, volatile: true, fn: (_a, ctx) => {
    advisoryUnlockAll(ctx)
    return null
  } } : null),
}
