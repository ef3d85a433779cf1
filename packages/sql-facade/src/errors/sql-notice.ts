/**
 * A NOTICE or WARNING a statement raises without failing: what PostgreSQL sends as a
 * NoticeResponse, with its SQLSTATE. Most of Concord's notices are still plain messages
 * (sent as NOTICE 00000); a notice whose code a client may branch on is one of these.
 */
export interface SqlNotice {
  severity: 'NOTICE' | 'WARNING'
  /** A SQLSTATE from SqlState. */
  code: string
  message: string
}
