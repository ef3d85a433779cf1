/**
 * Running a long read-only statement off the main thread. The executor is synchronous, so
 * while one statement runs on the event loop every other client of the node waits, and a
 * cancel request (it comes on another connection) cannot even be read. A statement that
 * is eligible (offload-eligibility.ts) runs on the event loop as before until it has
 * lasted `offload_after`; then its budget stops it (`OffloadSignal`), the session takes a
 * snapshot in the same synchronous stretch (the catalog and the shards of the tables it
 * reads, in a transaction block the block's row writes of those tables, and the session
 * state its answer depends on: `OffloadRequest`), and hands it to
 * a `StatementOffloader`, which runs the statement again from the start on a fresh engine
 * over that snapshot (offloaded-statement.ts) and answers with its result or its error.
 * The event loop serves other clients meanwhile; a cancel request reaches the offloader
 * through the AbortSignal. A long UPDATE or DELETE moves only its WHERE: the runner
 * returns the keys of its target rows, and the write runs here over those and the rows
 * changed since (`targetKeys`, session/write-offload.ts). A long INSERT .. SELECT moves
 * only its SELECT: the runner returns the rows to insert, and they are inserted here
 * (`insertRows`, runtime/insert-source.ts).
 *
 * The offloader is what an environment with threads provides: the node server gives a
 * pool of worker threads (node-server/src/offload/); the browser and the simulator give
 * none, and statements run on the event loop as before.
 *
 * A worker may keep its engine between statements (`StatementOffloader.engine`): a
 * request then carries only what that engine lacks (diffs), and a SELECT's large tables
 * are sent to it ahead in slices (`applyOnly` requests; Session.sendToEngine).
 *
 * Invariants: a request holds only structured-clone values (no class instances), the
 * state of tables of at most MAX_OFFLOAD_ROWS rows taken whole (MAX_SLICED_ROWS in slices)
 * and at most MAX_OFFLOAD_SNAPSHOT_BYTES of it, and at most MAX_CARRIED_ROWS row writes of a block, about MAX_CARRIED_BYTES (past
 * any the statement goes on here, bounded by statement_timeout); a reply's error carries the SQLSTATE, message, detail, hint and
 * position the statement failed with there. Decision: docs/decisions/0031-statement-offload.md.
 */
import type { CarriedRows, CutShard, HeldShard, Value } from '@concord/core'
import { SqlError } from '../errors/sql-error.js'
import type { Int8Output, QueryResult } from '../result-format.js'
import type { InsertRows } from '../runtime/insert-source.js'

/** Request format; a runner refuses another. */
export const OFFLOAD_REQUEST_VERSION = 5

/**
 * Most bytes of shard state (Yjs updates) one request carries; past it the snapshot is
 * dropped and the statement goes on here. Taking it pauses the event loop (about 30 ms per
 * MB measured: 7 MB, 100,000 rows, 213 ms), so the bound is also a bound on that pause.
 */
export const MAX_OFFLOAD_SNAPSHOT_BYTES = 32 * 1024 * 1024

/**
 * Most rows of the tables a SELECT reads for it to move when they are more than
 * MAX_OFFLOAD_ROWS: the tables its worker's engine lacks are then sent to it in slices,
 * the event loop free between them (`Session.sendToEngine`), within the engine's
 * `maxBytes` (a statement whose tables outgrow it runs on the event loop).
 */
export const MAX_SLICED_ROWS = 1_000_000

/**
 * Rows of the tables a SELECT reads past which those its worker's engine lacks are sent in
 * slices rather than taken whole at the point (about 100 ms of event loop for 50,000 rows).
 */
export const SLICED_FROM_ROWS = 50_000

/** Yjs structs per slice of a table sent to an engine: a few ms of event loop each. */
export const ENGINE_SLICE_STRUCTS = 8192

/** Most rows of the tables a statement reads for it to move: checked before any state is taken. */
export const MAX_OFFLOAD_ROWS = 200_000

/**
 * Most rows an INSERT .. SELECT's worker returns (runtime/insert-source.ts), and most bytes
 * of their values: past either the statement runs whole here. They are held twice (the
 * reply, then the rows inserted) and inserted on the event loop, which holds it as long
 * as before for them: the bound keeps the rows crossing a thread to a result's size.
 */
export const MAX_OFFLOAD_INSERT_ROWS = 50_000
export const MAX_OFFLOAD_INSERT_BYTES = 32 * 1024 * 1024

/** Most row writes of an open transaction block a request carries; past it the statement goes on here. */
export const MAX_CARRIED_ROWS = 10_000

/** Most bytes (estimated: `carriedBytes`) of a block's row writes a request carries. */
export const MAX_CARRIED_BYTES = 8 * 1024 * 1024

/** Bytes of values in `carried`, about (8 per number, 2 per character); counting stops past `limit`. */
export function carriedBytes(carried: CarriedRows, limit: number): number {
  let n = 0
  const add = (v: unknown) => {
    n += typeof v === 'string' ? 2 * v.length : v instanceof Uint8Array ? v.byteLength : 8
  }
  for (const t of carried.tables) {
    for (const r of t.rows) {
      for (const v of r.keyValues) add(v)
      for (const [c, v] of r.cols) {
        add(c)
        add(v)
      }
      n += 16 * r.incr.length
      if (n > limit) return n
    }
  }
  return n
}

/** Everything a fresh engine needs to answer one statement as the session would have. */
export interface OffloadRequest {
  version: number
  nodeId: string
  region: string
  /** The statement's wall-clock time (ms): now(), current_timestamp. */
  nowMs: number
  /** The role that logged in; the session's SET ROLE / SESSION AUTHORIZATION are in `settings`. */
  loginUser: string
  database: string
  processId: number
  /** The session's own parameter values (SET), role and session_authorization included. */
  settings: Array<[string, string]>
  /** Read-only parameters the node server decides (max_connections). */
  serverParameters: Array<[string, string]>
  int8: Int8Output
  maxRowBytes: number
  /** The statement's own text (one statement) and its bound parameters (text, bytes or NULL). */
  sql: string
  params: Array<string | Uint8Array | null>
  /** What is left of statement_timeout (ms); 0: none. */
  timeoutMs: number
  /**
   * The catalog's shard and the shards of the tables the statement reads: whole for a
   * fresh engine; for one kept between statements (`engine`), what it lacks of them.
   */
  shards: CutShard[]
  /**
   * The engine kept between statements the request runs on (`StatementOffloader.engine`):
   * `fresh`, a new one is opened over `shards` (all whole); otherwise `shards` are applied
   * onto engine `id`, which holds at least the states the offloader recorded for it when they were taken.
   * `states`: what the engine holds of them once applied. Absent: a fresh engine, kept by
   * no one.
   */
  engine?: { id: number; fresh: boolean; states: Array<[string, HeldShard]>; bytes: number }
  /** Only `shards` are applied onto the engine (a slice of a table sent ahead of a statement); no statement runs. */
  applyOnly?: boolean
  /**
   * In a transaction block that wrote rows of the tables the statement reads: those writes
   * (the statement runs in a block holding them, whose now() is `nowMs`).
   */
  carried?: CarriedRows
  /**
   * An UPDATE or DELETE (session/write-offload.ts): the runner only finds the rows of
   * `table` it targets and answers with their primary keys (at most `limit`), writing nothing.
   */
  targetKeys?: { table: string; limit: number }
  /**
   * An INSERT .. SELECT: the runner only computes the rows it would insert into `table`
   * (runtime/insert-source.ts) and answers with them (at most `limit` rows and `maxBytes`
   * bytes of values), inserting nothing.
   */
  insertRows?: { table: string; limit: number; maxBytes: number }
}

/** A SqlError as it crosses a thread: the fields a client sees. */
export interface OffloadError {
  code: string
  message: string
  detail?: string
  hint?: string
  position?: number
}

/** `keys`: for a request's `targetKeys`, the primary keys of the target rows; `rows`: for its `insertRows`, the rows to insert. */
export type OffloadReply = { ok: true; result: QueryResult; keys?: Value[][]; rows?: InsertRows } | { ok: false; error: OffloadError }

/**
 * Runs a request elsewhere. Resolves with the reply, or null when it cannot take the
 * request now (no worker could be started, its queue is full): the statement then runs
 * on the event loop as it would without an offloader. `signal` aborts on the client's
 * cancel request; the reply is then 57014.
 */
export interface StatementOffloader {
  run(request: OffloadRequest, signal: AbortSignal): Promise<OffloadReply | null>
  /**
   * The engine kept between statements that the next request may be based on: what it
   * will hold once the requests already given to it have run. A request naming it
   * (`OffloadRequest.engine`) carries only what it lacks; `run` answers null when that
   * engine is gone by then (its worker ended). Absent or null: every request is fresh.
   */
  engine?(): OffloadEngine | null
}

/** An engine kept between statements, as the offloader records it (offloaded-statement.ts `OffloadEngineHost`). */
export interface OffloadEngine {
  /** Names it; a fresh request replaces it by a new id. */
  readonly id: number
  /** Per shard, at least the state it holds. Empty: it holds nothing (the next request is fresh). */
  readonly held: ReadonlyMap<string, HeldShard>
  /** Bytes of state sent to it since it was fresh. */
  readonly bytes: number
  /**
   * Most bytes of state it is sent before it starts afresh with only what the next
   * statement reads: what its worker's heap holds with room for the statement's own work.
   */
  readonly maxBytes: number
}

/** An error as a reply carries it (a SqlError, or anything `asSqlError` passed on with a SQLSTATE). */
export function offloadError(e: Pick<SqlError, 'code' | 'message' | 'detail' | 'hint' | 'position'>): OffloadError {
  return {
    code: e.code,
    message: e.message,
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.position !== undefined ? { position: e.position } : {}),
  }
}

/** The SqlError a reply's error stands for. */
export function sqlErrorOf(e: OffloadError): SqlError {
  return new SqlError(e.code, e.message, {
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
    ...(e.hint !== undefined ? { hint: e.hint } : {}),
    ...(e.position !== undefined ? { position: e.position } : {}),
  })
}
