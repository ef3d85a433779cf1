/**
 * What executing one statement produces, before conversion to the public result shape.
 */
import type { ColumnBinding } from '../relation/scope.js'
import type { RtValue } from '../types/value.js'

export interface StatementResult {
  /** Command name as PostgreSQL's command tag starts: SELECT, INSERT, CREATE TABLE ... */
  command: string
  /** Rows affected or returned; null for utility statements. */
  rowCount: number | null
  columns: ColumnBinding[]
  rows: RtValue[][]
  /** Notices PostgreSQL would send (e.g. "relation already exists, skipping"). */
  notices?: string[]
  /** False for a command tagged SELECT that sends no rows (CREATE TABLE AS, SELECT INTO). */
  returnsRows?: false
  /**
   * A statement that paused before its end (a DO block's loop, `ExecCtx.pausableDo`): the
   * rest of its run. Each `resume()` goes on until the next pause (null) or the end (the
   * statement's result, this one's fields only a placeholder until then).
   */
  paused?: PausedRun
}

export interface PausedRun {
  resume(): StatementResult | null
}

export function utility(command: string, notices?: string[]): StatementResult {
  return { command, rowCount: null, columns: [], rows: [], ...(notices ? { notices } : {}) }
}
