/**
 * pg_locks: the row locks this node holds now (SELECT .. FOR UPDATE / SHARE and the rows
 * a transaction's writes lock; runtime/row-locks.ts), one row per holder, as PostgreSQL
 * lists tuple locks: locktype 'tuple', the table's OID, the holder's pid and PostgreSQL's
 * lock mode for the tuple lock (FOR KEY SHARE AccessShareLock, FOR SHARE RowShareLock,
 * FOR NO KEY UPDATE ExclusiveLock, FOR UPDATE AccessExclusiveLock), and the advisory
 * locks (runtime/advisory-locks.ts) as PostgreSQL lists them: locktype 'advisory', the key
 * in classid / objid / objsubid, ExclusiveLock or ShareLock. Concord takes no relation,
 * page or transaction locks, so there are no rows of those types; locks are node-local
 * (another node's sessions' locks are not listed).
 */
import { DATABASE_OID } from '../catalog/catalog-model.js'
import type { RowLockMode, RowLocks } from '../runtime/row-locks.js'
import { parseAdvisoryKey } from '../runtime/advisory-locks.js'
import { view, type SystemView } from '../runtime/system-view.js'
import { T } from '../types/sql-type.js'

const MODE: Record<RowLockMode, string> = { keyShare: 'AccessShareLock', share: 'RowShareLock', noKeyUpdate: 'ExclusiveLock', update: 'AccessExclusiveLock' }

export function pgLocks(locks: RowLocks | undefined): SystemView {
  return view(
    [
      ['locktype', T.text], ['database', T.oid], ['relation', T.oid], ['page', T.int4], ['tuple', T.int2], ['virtualxid', T.text],
      ['transactionid', T.text], ['classid', T.oid], ['objid', T.oid], ['objsubid', T.int2], ['virtualtransaction', T.text],
      ['pid', T.int4], ['mode', T.text], ['granted', T.bool], ['fastpath', T.bool], ['waitstart', T.timestamptz],
    ],
    (ctx) => {
      if (locks === undefined) return []
      const catalog = ctx.exec.catalog()
      const rows = locks.list().flatMap(({ table, owner, mode }) => {
        const relation = catalog.relationOid(table)
        // A lock on a row of a table this statement cannot see (dropped since) is not listed.
        if (relation === undefined) return []
        return [['tuple', DATABASE_OID, relation, null, null, null, null, null, null, null, `${owner.pid}/1`, owner.pid, MODE[mode], true, false, null]]
      })
      for (const { lockKey, owner, mode } of locks.listAdvisory()) {
        const k = parseAdvisoryKey(lockKey)
        rows.push(['advisory', DATABASE_OID, null, null, null, null, null, k.classid, k.objid, k.objsubid, `${owner.pid}/1`, owner.pid, mode === 'share' ? 'ShareLock' : 'ExclusiveLock', true, false, null])
      }
      return rows
    },
  )
}
