/**
 * Runs the corpus against Concord's SQL facade, loaded by dynamic import so this module
 * type-checks and loads whether or not the facade exists yet.
 *
 * Each corpus file gets a fresh in-memory database (`openDatabase`). Results come back as
 * `{ command, rowCount, fields: [{ name, type }], rows }` (and `rowArrays`, rows in field
 * order, when the facade provides them); values are PostgreSQL text or native JS values,
 * which the facade's `formatPgText` (or else `pgText`) turns into PostgreSQL's text.
 */
import type { Session, Target } from './executor.js'
import { pgText } from './pg-text.js'
import type { TextResult } from './result-text.js'

interface FacadeField {
  name: string
  type?: unknown
}

interface FacadeResult {
  command?: string
  rowCount?: number | null
  fields?: FacadeField[]
  rows?: unknown[]
  /** Rows as arrays in field order, if the facade provides them (duplicate names survive). */
  rowArrays?: unknown[][]
}

interface FacadeDatabase {
  query(sql: string, params?: unknown[]): Promise<FacadeResult>
  close?(): Promise<void> | void
}

/** The facade's own text output of a result value, if it exports one (what its wire server sends). */
type FormatPgText = (value: never, field: never) => string | null

interface Facade {
  openDatabase(options: { nodeId: string; region: string }): Promise<FacadeDatabase>
  formatPgText?: FormatPgText
}

export const FACADE_MODULE = '@concord/sql-facade'

/** A statement that takes longer than this has hung; the runner records it as failed. */
const STATEMENT_TIMEOUT_MS = 20_000

export class FacadeUnavailableError extends Error {
  constructor(reason: string) {
    super(`${FACADE_MODULE} is not available: ${reason}`)
    this.name = 'FacadeUnavailableError'
  }
}

/** Loads the facade, or throws `FacadeUnavailableError` saying why not. */
export async function loadFacade(): Promise<Facade> {
  let mod: unknown
  try {
    const specifier: string = FACADE_MODULE
    mod = await import(specifier)
  } catch (err) {
    // Only the facade's own absence counts as "not available": an error inside a facade
    // that exists must fail the suite, not skip it.
    const message = (err as { message?: string }).message ?? String(err)
    const aboutFacade = message.includes(FACADE_MODULE) || message.includes('sql-facade/src/index')
    if (aboutFacade && /Cannot find|Failed to load|Failed to resolve|Does the file exist|not found/i.test(message)) {
      throw new FacadeUnavailableError(message)
    }
    throw err
  }
  const openDatabase = (mod as { openDatabase?: unknown }).openDatabase
  if (typeof openDatabase !== 'function') throw new FacadeUnavailableError('it does not export openDatabase()')
  const formatPgText = (mod as { formatPgText?: unknown }).formatPgText
  return {
    openDatabase: openDatabase as Facade['openDatabase'],
    ...(typeof formatPgText === 'function' ? { formatPgText: formatPgText as FormatPgText } : {}),
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Converts a facade result to text. The facade's own `formatPgText` is preferred: it is
 * what Concord's wire server sends, so psql would print exactly that. `pgText` covers
 * facades without one.
 */
export function toTextResult(res: FacadeResult, format?: FormatPgText): TextResult {
  const fields = res.fields ?? []
  const text = (v: unknown, f: FacadeField | undefined): string | null => {
    if (v === null || v === undefined) return null
    if (format !== undefined && f !== undefined) {
      const out = (format as (value: unknown, field: unknown) => unknown)(v, f)
      if (typeof out === 'string' || out === null) return out
    }
    return pgText(v, f?.type)
  }
  const source: unknown[] = Array.isArray(res.rowArrays) ? res.rowArrays : (res.rows ?? [])
  const rows = source.map((row) => {
    if (Array.isArray(row)) return row.map((v, i) => text(v, fields[i]))
    const obj = (row ?? {}) as Record<string, unknown>
    return fields.map((f) => text(obj[f.name], f))
  })
  return {
    ...(res.command !== undefined ? { command: res.command } : {}),
    rowCount: typeof res.rowCount === 'number' ? res.rowCount : null,
    columns: fields.map((f) => f.name),
    rows,
  }
}

export function concordTarget(facade: Facade): Target {
  return {
    name: 'concord',
    async openSession(): Promise<Session> {
      const db = await facade.openDatabase({ nodeId: 'n1', region: 'us-west' })
      return {
        async execute(sql: string): Promise<TextResult> {
          const res = await withTimeout(db.query(sql), STATEMENT_TIMEOUT_MS, sql.slice(0, 80))
          return toTextResult(res, facade.formatPgText)
        },
        async close(): Promise<void> {
          await db.close?.()
        },
      }
    },
    async dispose(): Promise<void> {},
  }
}
