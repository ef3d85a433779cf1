/**
 * concord_failover_history: the primary terms the replicated catalog holds (the newest
 * MAX_KEPT_TERMS), newest first: which node became primary at which epoch, why
 * ('mode': SET high_availability_mode, 'promote': pg_promote(), 'failover': auto-failover)
 * and when. The same rows on every node once their catalogs agree.
 */
import { view } from '../runtime/system-view.js'
import { T } from '../types/sql-type.js'
import { PRIMARY_TERM_KIND, terms } from '../cluster/primary-term.js'

export const failoverHistoryView = view(
  [['epoch', T.int8], ['node_id', T.text], ['reason', T.text], ['recorded_at', T.timestamptz], ['current', T.bool]],
  ({ replica }) => terms(replica.listCatalog(PRIMARY_TERM_KIND)).map((t, i) => [BigInt(t.epoch), t.nodeId, t.reason, t.at * 1000, i === 0]),
)
