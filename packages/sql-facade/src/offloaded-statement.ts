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
 * A worker keeps its engine between statements (`OffloadEngineHost`): a request naming
 * that engine carries only what it lacks of the shards it reads (diffs against the states
 * the offloader recorded as held, Yjs updates being idempotent, so a state held beyond
 * that record takes them unchanged), applied as a peer's updates are; a fresh request
 * replaces the engine by one opened over its whole shards. Shards the engine holds and
 * the statement does not read stay as they were: only the tables a statement names are
 * read (the eligibility walk, session/offload-eligibility.ts), so a stale one is never seen.
 *
 * Invariants: the engine has no transport and its scheduler never fires, so none of the
 * node's background work runs there (a due scheduled backup, failover heartbeats,
 * rebalancing, id slot claims), and its storage keeps nothing past its opening: nothing it
 * does leaves a request but the reply; an engine a statement wrote to (its lsn moved), or
 * that failed to take a request's states, is closed, and a later request for it fails
 * (the offloader then runs the statement on the event loop); every failure comes back as a
 * reply carrying a SQLSTATE, never as a thrown error.
 */
import { CATALOG_SHARD, previousId, type CutShard, type Scheduler, type Storage, type StoredRecord } from '@concord/core'
import { Database } from './database.js'
import { asSqlError } from './errors/runtime-error.js'
import { SqlError, SqlState } from './errors/sql-error.js'
import { offloadError, OFFLOAD_REQUEST_VERSION, type OffloadReply, type OffloadRequest } from './session/statement-offload.js'

/** The engine's timers: none ever fires (see the header). */
const NO_TIMERS: Scheduler = { setTimeout: () => () => {} }

/** Parameters the request's settings may not carry onto the fresh session (connection timeouts end connections, not statements). */
const NOT_CARRIED = new Set(['idle_session_timeout', 'idle_in_transaction_session_timeout', 'statement_timeout', 'offload_after'])

/** The message of the reply to a request for an engine this host no longer has (the offloader runs the statement on the event loop). */
export const ENGINE_GONE = 'the statement worker no longer holds the engine the statement was sent for'

/** Answers one request on a fresh engine, closed after it. */
export async function runOffloadedStatement(request: OffloadRequest, canceled: () => boolean): Promise<OffloadReply> {
  const host = new OffloadEngineHost()
  try {
    return await host.run(request, canceled)
  } finally {
    await host.close()
  }
}

/** A worker's engine, kept between the requests it answers (see the header). */
export class OffloadEngineHost {
  private db: Database | null = null
  /** The engine's id (`OffloadRequest.engine`); -1: none, or one opened for a request naming none. */
  private id = -1
  /** now() on the engine: the running request's statement time. */
  private nowMs = 0
  /**
   * The sender's generation of each shard the engine was sent any of (whole, a diff, a
   * slice): another generation is another document, which must never be merged into it.
   */
  private readonly generations = new Map<string, number>()

  async run(request: OffloadRequest, canceled: () => boolean): Promise<OffloadReply> {
    try {
      if (request.version !== OFFLOAD_REQUEST_VERSION) throw new SqlError(SqlState.internalError, `offloaded statement request version ${request.version} is not ${OFFLOAD_REQUEST_VERSION}`)
      this.nowMs = request.nowMs
      const db = await this.engineFor(request)
      // Slices of a table sent ahead of a statement: applied, nothing run.
      if (request.applyOnly === true) return { ok: true, result: { command: '', commandTag: '', rowCount: null, fields: [], rows: [], rowArrays: [], notices: [], returnsRows: false } }
      return await this.answer(db, request, canceled)
    } catch (e) {
      return { ok: false, error: offloadError(asSqlError(e) as SqlError) }
    }
  }

  async close(): Promise<void> {
    const db = this.db
    this.db = null
    this.id = -1
    this.generations.clear()
    await db?.close()
  }

  /** The engine the request runs on, holding its shards' states. */
  private async engineFor(request: OffloadRequest): Promise<Database> {
    const e = request.engine
    if (e === undefined || e.fresh) {
      await this.close()
      this.db = await openEngine(request, () => this.nowMs)
      this.id = e?.id ?? -1
      for (const s of request.shards) this.generations.set(s.shard, s.generation)
      return this.db
    }
    const db = this.db
    if (db === null || this.id !== e.id || db.nodeId !== request.nodeId || db.region !== request.region) throw new SqlError(SqlState.internalError, ENGINE_GONE)
    // The catalog first: the tables' shards are known by it.
    const shards = [...request.shards].sort((a, b) => Number(b.shard === CATALOG_SHARD) - Number(a.shard === CATALOG_SHARD))
    for (const s of shards) {
      const held = this.generations.get(s.shard)
      const shard = s.overlays.length === 0 && (held === undefined || held === s.generation) ? db.replica.shardFor(s.shard) : null
      this.generations.set(s.shard, s.generation)
      if (shard === null || !db.replica.applyRemote(shard, s.data)) {
        await this.close()
        throw new SqlError(SqlState.internalError, `${ENGINE_GONE}: shard ${s.shard} could not be applied`)
      }
    }
    return db
  }

  private async answer(db: Database, request: OffloadRequest, canceled: () => boolean): Promise<OffloadReply> {
    for (const [name, value] of request.serverParameters) if (name === 'max_connections') db.setServerParameter(name, value)
    db.maxRowBytes = request.maxRowBytes
    const lsn = db.replica.lsn
    const session = db.session({ user: request.loginUser, database: request.database, processId: request.processId, connection: true, canceled })
    try {
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
    } finally {
      // Its block (carried writes) ends uncommitted with it.
      await session.close()
      // Nothing moved here writes; an engine that was written to is not used again.
      if (db.replica.lsn !== lsn) await this.close()
    }
  }
}

/** A fresh engine over the request's shards, whole; `clock`: the running statement's time. */
async function openEngine(request: OffloadRequest, clock: () => number): Promise<Database> {
  const storage = new OpeningStorage(request.shards)
  const db = await Database.open({
    nodeId: request.nodeId,
    region: request.region,
    storage,
    scheduler: NO_TIMERS,
    // now() and current_timestamp are the running statement's time on the sending node.
    clock,
    rowSnapshots: false,
    antiEntropyIntervalMs: 0,
    housekeepingIntervalMs: 0,
    compaction: { enabled: false },
    int8: request.int8,
    serialWaitMs: 0,
  })
  storage.opened()
  return db
}

/**
 * An engine's storage: the shards it opens over, as snapshots, until it has opened; then
 * nothing (its state lives in memory, and what later requests send is applied there).
 * Writes are dropped: an engine writes only what it is sent, which the node keeps.
 */
class OpeningStorage implements Storage {
  private records = new Map<string, StoredRecord[]>()
  private readonly meta = new Map<string, Uint8Array>()

  constructor(shards: readonly CutShard[]) {
    for (const s of shards) {
      if (s.kind !== 'full') throw new SqlError(SqlState.internalError, `a fresh engine got a diff of shard ${s.shard}`)
      this.records.set(s.shard, [{ generation: s.generation, kind: 'snapshot', data: s.data }])
      for (const o of s.overlays) this.records.set(previousId(s.shard, o.generation), [{ generation: o.generation, kind: 'snapshot', data: o.data }])
    }
  }

  /** The engine has loaded: the records are its memory's now. */
  opened(): void {
    this.records = new Map()
  }

  append(): void {}
  shards(): string[] {
    return [...this.records.keys()]
  }
  load(shard: string): StoredRecord[] {
    return this.records.get(shard) ?? []
  }
  compact(): void {}
  remove(): void {}
  getMeta(key: string): Uint8Array | undefined {
    return this.meta.get(key)
  }
  setMeta(key: string, value: Uint8Array): void {
    this.meta.set(key, value)
  }
}
