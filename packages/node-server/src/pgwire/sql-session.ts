/**
 * What the wire server needs from the SQL layer: one session per client connection.
 * `openDatabase` from @concord/sql-facade returns something with this shape; tests plug
 * in fakes.
 */

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
  /** Statement tag: 'SELECT', 'INSERT', 'CREATE TABLE', ... or a full tag like 'INSERT 0 1'. */
  command: string
  /** Full CommandComplete tag ('INSERT 0 3'); derived from command and rowCount when absent. */
  commandTag?: string
  rowCount: number | null
  fields: QueryField[]
  /** Arrays in field order, or objects keyed by field name. */
  rows: Array<unknown[] | Record<string, unknown>>
  /** NOTICE messages to send before the result (e.g. 'there is no transaction in progress'). */
  notices?: string[]
}

/** Where a session stands, for ReadyForQuery: idle, in a transaction, in a failed one. */
export type SessionTransactionState = 'idle' | 'transaction' | 'failed'

export interface SqlSession {
  /** Runs SQL (possibly several statements) with `$n` parameters as text or bytes. Errors carry `.code` (SQLSTATE). */
  query(sql: string, params?: unknown[]): Promise<QueryResult | QueryResult[]>
  /** If absent, the wire server infers it from BEGIN/COMMIT/ROLLBACK tags and errors. */
  transactionState?(): SessionTransactionState
  close?(): void | Promise<void>
}

export interface SessionInfo {
  user: string
  database: string
  applicationName: string
  remoteAddress: string
}

export type SessionFactory = (info: SessionInfo) => SqlSession | Promise<SqlSession>
