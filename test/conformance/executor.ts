/**
 * The abstract executor the conformance runner drives. A target (Concord, PostgreSQL)
 * opens one fresh, empty database per corpus file and returns an `Executor` for it.
 *
 * An executor runs one SQL statement and either resolves with the result as text
 * (`TextResult`, values as PostgreSQL prints them) or rejects with an error carrying
 * `code` = SQLSTATE. Anything thrown without a SQLSTATE is reported as such.
 */
import type { TargetName } from './case-file.js'
import type { TextResult } from './result-text.js'

export type Executor = (sql: string) => Promise<TextResult>

export interface Session {
  execute: Executor
  close(): Promise<void>
}

export interface Target {
  name: TargetName
  /** A fresh, empty database for one corpus file; `label` names it in logs. */
  openSession(label: string): Promise<Session>
  dispose(): Promise<void>
}

/** What a failed statement reported. */
export interface SqlFailure {
  sqlstate: string | undefined
  message: string
}

export function failureOf(err: unknown): SqlFailure {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; sqlstate?: unknown; message?: unknown }
    const code = typeof e.code === 'string' ? e.code : typeof e.sqlstate === 'string' ? e.sqlstate : undefined
    const sqlstate = code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
    const message = typeof e.message === 'string' ? e.message : String(err)
    return { sqlstate, message: sqlstate === undefined && code !== undefined ? `${code}: ${message}` : message }
  }
  return { sqlstate: undefined, message: String(err) }
}
