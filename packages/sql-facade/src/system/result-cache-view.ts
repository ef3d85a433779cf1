/**
 * `query_result_cache`: the federated results this node keeps (placement/result-cache.ts),
 * one row per kept read, for the tables the current role may read.
 *
 * `node_id` names the holder that answered, as this node sees it now: `'nearest_node'`
 * when it is the nearest connected holder of the table (by the round trip measured on
 * federated reads, core `Replicator.holdersOf`), else its node id (a comma list when the
 * answer came from several holders); `holder_id` is always the id. So
 * `SELECT * FROM query_result_cache WHERE node_id = 'nearest_node' LIMIT 100` lists what
 * this node has cached from its nearest holder. `age` is the time since the holder
 * answered; `hits` the reads answered from the entry since (sessions with
 * `query_result_cache_ttl` above 0).
 */
import { T } from '../types/sql-type.js'
import { Interval } from '../types/interval.js'
import { mayRead } from '../auth/role-views.js'
import { resultCacheOf } from '../placement/result-cache.js'
import { view } from '../runtime/system-view.js'

/** What `node_id` shows for the nearest holder. */
export const NEAREST_NODE = 'nearest_node'

export const queryResultCacheView = view([
  ['node_id', T.text], ['holder_id', T.text], ['relation', T.text], ['fingerprint', T.text], ['query', T.text],
  ['rows', T.int8], ['bytes', T.int8], ['age', T.interval], ['hits', T.int8], ['round_trip_ms', T.float8],
], ({ exec, replica }) => {
  const now = replica.now()
  return resultCacheOf(replica).list().filter((e) => mayRead(exec, e.relation)).map((e) => {
    const info = replica.table(e.relation)
    const nearest = info === undefined ? undefined : replica.replicator.holdersOf(info)[0]
    const rtt = e.holder.includes(',') ? undefined : replica.replicator.roundTripOf(e.holder)
    return [
      e.holder === nearest ? NEAREST_NODE : e.holder, e.holder, e.relation, e.fingerprint, e.request,
      BigInt(e.rows.length), BigInt(e.bytes), new Interval(0, 0, Math.max(0, Math.round((now - e.fetchedAt) * 1000))), BigInt(e.hits), rtt ?? null,
    ]
  })
})
