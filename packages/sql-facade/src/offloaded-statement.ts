/**
 * The other side of session/statement-offload.ts: answers one `OffloadRequest` on a fresh
 * engine, as the session that sent it would have. The engine is an in-memory `Database`
 * opened over the request's shard states (written into a `MemoryStorage` as snapshots, so
 * the replica loads them the way a node loads its data directory), with the request's
 * node id, region and statement time; a session with the sender's login role, database,
 * process id and own settings (SET ROLE and SET SESSION AUTHORIZATION included, so
 * privileges are checked as on the sender) runs the statement's text with its parameters,
 * in a transaction block holding the sender's block's row writes when it carries them
 * (their now() is the request's time, the block's start there). For an UPDATE or DELETE
 * (`targetKeys`) the statement only finds its target rows and the reply carries their keys;
 * for an INSERT .. SELECT (`insertRows`) it only computes the rows to insert, and the
 * reply carries them.
 * statement_timeout is what was left of the sender's, and `canceled` (the sender's cancel
 * flag in shared memory) is read by the statement's budget.
 *
 * Invariants: the engine is made for one request and closed after it; it has no transport
 * and its scheduler never fires, so none of the node's background work runs there (a due
 * scheduled backup, failover heartbeats, rebalancing, id slot claims): nothing it does
 * leaves this call; every failure comes back as a reply carrying a SQLSTATE, never as a
 * thrown error.
 */
import { MemoryStorage, previousId, type Scheduler } from '@concord/core'
import { Database } from './database.js'
import { asSqlError } from './errors/runtime-error.js'
import { SqlError, SqlState } from './errors/sql-error.js'
import { offloadError, OFFLOAD_REQUEST_VERSION, type OffloadReply, type OffloadRequest } from './session/statement-offload.js'

/** The engine's timers: none ever fires (see the header). */
const NO_TIMERS: Scheduler = { setTimeout: () => () => {} }

/** Parameters the request's settings may not carry onto the fresh session (connection timeouts end connections, not statements). */
const NOT_CARRIED = new Set(['idle_session_timeout', 'idle_in_transaction_session_timeout', 'statement_timeout', 'offload_after'])

export async function runOffloadedStatement(request: OffloadRequest, canceled: () => boolean): Promise<OffloadReply> {
  let db: Database | null = null
  try {
    if (request.version !== OFFLOAD_REQUEST_VERSION) throw new SqlError(SqlState.internalError, `offloaded statement request version ${request.version} is not ${OFFLOAD_REQUEST_VERSION}`)
    const storage = new MemoryStorage()
    for (const s of request.shards) {
      await storage.compact(s.shard, { generation: s.generation, kind: 'snapshot', data: s.data })
      for (const o of s.overlays) await storage.compact(previousId(s.shard, o.generation), { generation: o.generation, kind: 'snapshot', data: o.data })
    }
    db = await Database.open({
      nodeId: request.nodeId,
      region: request.region,
      storage,
      scheduler: NO_TIMERS,
      // now() and current_timestamp are the statement's time on the sending node.
      clock: () => request.nowMs,
      rowSnapshots: false,
      antiEntropyIntervalMs: 0,
      housekeepingIntervalMs: 0,
      compaction: { enabled: false },
      int8: request.int8,
      serialWaitMs: 0,
    })
    for (const [name, value] of request.serverParameters) if (name === 'max_connections') db.setServerParameter(name, value)
    db.maxRowBytes = request.maxRowBytes
    const session = db.session({ user: request.loginUser, database: request.database, processId: request.processId, connection: true, canceled })
    for (const [name, value] of request.settings) {
      if (NOT_CARRIED.has(name)) continue
      if (name === 'role' || name === 'session_authorization') session.settings.setIdentity(name, value, false)
      else session.settings.set(name, value)
    }
    if (request.timeoutMs > 0) session.settings.set('statement_timeout', `${request.timeoutMs}ms`)
    // The sender's block's writes: its reads see them (its now() is the request's, the block's start).
    if (request.carried !== undefined) session.beginCarrying(request.carried)
    // An UPDATE or DELETE only finds its target rows here (runtime/target-rows.ts): their keys go back.
    const collector = request.targetKeys === undefined ? null : session.collectTargetKeys(request.targetKeys.table, request.targetKeys.limit)
    // An INSERT .. SELECT only computes the rows it would insert here (runtime/insert-source.ts): they go back.
    const insert = request.insertRows === undefined ? null : session.collectInsertRows(request.insertRows.table, request.insertRows.limit, request.insertRows.maxBytes)
    const prepared = await session.prepare(request.sql)
    const result = await session.execute(prepared, request.params)
    // A COPY never gets here (not eligible); a result is plain data from here on.
    delete result.copy
    if (insert !== null) {
      // Rows only from a statement that collected them: an empty list would tell the sender the SELECT gave none.
      if (!insert.done) throw new SqlError(SqlState.internalError, `the statement collected no rows to insert into "${insert.table}"`)
      return { ok: true, result, rows: insert.rows }
    }
    if (collector === null) return { ok: true, result }
    // Keys only from a statement that collected them: an empty list would tell the sender no row matched.
    if (!collector.done) throw new SqlError(SqlState.internalError, `the statement collected no target rows of "${collector.table}"`)
    return { ok: true, result, keys: collector.keys }
  } catch (e) {
    return { ok: false, error: offloadError(asSqlError(e) as SqlError) }
  } finally {
    await db?.close()
  }
}
