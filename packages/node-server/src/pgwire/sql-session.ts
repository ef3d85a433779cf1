/**
 * What the wire server needs from the SQL layer: one session per client connection,
 * which runs scripts (simple protocol) and takes single statements apart (extended
 * protocol: prepare, describe, execute). The SQL layer answers every statement; the wire
 * only carries requests and results and serializes errors. The node server adapts a
 * `@concord/sql-facade` Session (node/sql-engine.ts); tests plug in fakes.
 */
import type { CopyTransfer } from '@concord/sql-facade'

export interface QueryField {
  name: string
  /** SQL type name ('integer', 'varchar(20)', 'int4[]') or a pg_type OID. */
  type: string | number
  /** pg_type OID; when given it wins over `type`. */
  oid?: number
  /** Type modifier for RowDescription (varchar(20): 24); -1 or absent if none. */
  typmod?: number
  /** Type length for RowDescription; derived from the OID when absent. */
  size?: number
}

export interface QueryResult {
  /** CommandComplete tag as PostgreSQL writes it: 'SELECT 2', 'INSERT 0 1', 'CREATE TABLE'. */
  commandTag: string
  /** Columns of the rows the statement returns; null when it returns none (no RowDescription). */
  fields: QueryField[] | null
  /** Arrays in field order, or objects keyed by field name. */
  rows: Array<unknown[] | Record<string, unknown>>
  /** NOTICE messages to send before the result (e.g. 'there is no transaction in progress'). */
  notices?: string[]
  /**
   * COPY FROM STDIN / TO STDOUT (the last result of a query string): the wire runs the COPY
   * sub-protocol with it; `commandTag` is then sent only after the data (COPY FROM: the tag `end` gives).
   */
  copy?: CopyTransfer
}

/** A statement the session parsed for Parse; the wire hands it back to describe and execute it. */
export interface PreparedQuery {
  /** One pg_type OID per parameter (ParameterDescription). */
  readonly paramTypes: readonly number[]
}

/** A notification for NotificationResponse. */
export interface SessionNotification {
  processId: number
  channel: string
  payload: string
}

/** A NoticeResponse raised while a request runs, ahead of its results (an identifier truncated to 63 bytes, 42622). */
export interface SessionNotice {
  severity: 'NOTICE' | 'WARNING'
  /** SQLSTATE. */
  code: string
  message: string
}

/** Where a session stands, for ReadyForQuery: idle, in a transaction, in a failed one. */
export type SessionTransactionState = 'idle' | 'transaction' | 'failed'

/** Every method rejects with an error carrying `.code` (SQLSTATE), `.detail`, `.hint`, `.position` as it has them. */
export interface SqlSession {
  /** Simple protocol: runs every statement of `sql`; no results for an empty query string. */
  query(sql: string): Promise<QueryResult[]>
  /** `query` answered in the same turn when no statement of it waits; else its promise (throws or rejects as `query` does). */
  queryNow?(sql: string): QueryResult[] | Promise<QueryResult[]>
  /** Parse: one statement (or none), with the client's parameter type OIDs (0: unspecified). */
  prepare(sql: string, paramTypes: number[]): Promise<PreparedQuery>
  /** `prepare` answered in the same turn; null when it would have to wait (the wire then calls `prepare`). */
  prepareNow?(sql: string, paramTypes: number[]): PreparedQuery | null
  /** Describe of a statement: the columns it returns, learnt without running it; null for none. */
  describe(statement: PreparedQuery): Promise<QueryField[] | null>
  /** Execute: runs it with bound parameters (text, or bytes for bytea); null for an empty statement. */
  execute(statement: PreparedQuery, params: unknown[]): Promise<QueryResult | null>
  /** `execute` answered in the same turn when the statement waits for nothing; else its promise (throws or rejects as `execute` does). */
  executeNow?(statement: PreparedQuery, params: unknown[]): QueryResult | null | Promise<QueryResult | null>
  transactionState(): SessionTransactionState
  /** The session's own idle limit now (idle_session_timeout, or idle_in_transaction_session_timeout in a block), ms; 0: none. */
  idleTimeoutMs?(): number
  /** A client's CancelRequest for this connection: the running request fails with 57014 at its next check. */
  cancel?(): void
  /**
   * ParameterStatus values this session reports at startup beyond the fixed ones
   * (in_hot_standby, default_transaction_read_only: libpq's target_session_attrs reads them).
   * The same array while none of them changed (asked before every ReadyForQuery).
   */
  reportedParameters?(): ReadonlyArray<readonly [string, string]>
  /**
   * Where this connection's notifications go (LISTEN): called whenever one is due, also
   * while a request runs; null stops it.
   */
  onNotification?(receiver: ((n: SessionNotification) => void) | null): void
  /** Where notices raised while a request runs go (before its results or error); null stops it. */
  onNotice?(receiver: ((n: SessionNotice) => void) | null): void
  close?(): void | Promise<void>
}

export interface SessionInfo {
  user: string
  database: string
  applicationName: string
  remoteAddress: string
  /** Session parameters the startup packet set (statement_timeout), applied as SET before the first query. */
  settings?: Record<string, string>
  /** The process id BackendKeyData gives the client (pg_backend_pid, NotificationResponse). */
  processId?: number
}

export type SessionFactory = (info: SessionInfo) => SqlSession | Promise<SqlSession>
