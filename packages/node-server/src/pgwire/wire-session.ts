/**
 * One client connection's protocol state after authentication: the simple query protocol
 * and the extended one (Parse/Bind/Describe/Execute/Close/Sync/Flush) over a `SqlSession`.
 *
 * Replies accumulate in one buffer and leave only at a synchronisation point (Sync, Query,
 * Flush), so a pipelined batch costs one socket write (DESIGN.md 13).
 *
 * Invariants, as PostgreSQL keeps them:
 * - After an error in the extended protocol, messages are discarded until Sync.
 * - The unnamed portal dies at Sync; named statements and portals live until Close.
 * - A portal described before Execute runs once: Describe executes it and caches the
 *   result, so RowDescription is exact and side effects happen once.
 */
import { BackendWriter, type ErrorFields, type FieldDescription, type TransactionStatus } from './backend-writer.js'
import { commandTag } from './command-tag.js'
import { decodeFrontendMessage, ProtocolError, type FrontendMessage } from './frontend-message.js'
import { decodeBinaryParam, encodeBinary, supportsBinary } from './binary-format.js'
import { OID, textValue, typeOid } from './pg-types.js'
import type { QueryResult, SessionTransactionState, SqlSession } from './sql-session.js'

/** Bounds per connection, so one client cannot grow a server without limit. */
const MAX_STATEMENTS = 10_000
const MAX_PORTALS = 1_000

interface Prepared {
  sql: string
  paramTypes: number[]
}

interface Portal {
  statement: Prepared
  params: unknown[]
  /** Bind's result format codes: none (all text), one for every column, or one per column. */
  resultFormats: number[]
  result?: QueryResult
  /** Rows already sent by Execute with a row limit. */
  sent: number
}

export type WireReply = { bytes?: Uint8Array; close?: boolean }

export class WireSession {
  private readonly statements = new Map<string, Prepared>()
  private readonly portals = new Map<string, Portal>()
  private readonly out = new BackendWriter()
  private skipUntilSync = false
  private inferred: SessionTransactionState = 'idle'

  constructor(private readonly sql: SqlSession) {}

  /** Handles one framed message; returns bytes to write now and whether to hang up. */
  async handle(raw: Uint8Array): Promise<WireReply> {
    let msg: FrontendMessage
    try {
      msg = decodeFrontendMessage(raw)
    } catch (err) {
      this.out.error(errorFields(err, 'FATAL'))
      return { bytes: this.out.take(), close: true }
    }
    if (this.skipUntilSync && msg.type !== 'sync' && msg.type !== 'terminate') return {}
    switch (msg.type) {
      case 'query':
        this.skipUntilSync = false
        await this.simpleQuery(msg.sql)
        this.out.readyForQuery(this.status())
        return { bytes: this.out.take() }
      case 'sync':
        this.skipUntilSync = false
        this.portals.delete('')
        this.out.readyForQuery(this.status())
        return { bytes: this.out.take() }
      case 'flush':
        return this.out.length > 0 ? { bytes: this.out.take() } : {}
      case 'terminate':
        return { bytes: this.out.length > 0 ? this.out.take() : undefined, close: true }
      case 'unsupported':
        this.fail({ code: '0A000', message: `frontend message '${msg.code}' is not supported` })
        return {}
      default:
        try {
          await this.extended(msg)
        } catch (err) {
          this.fail(errorFields(err))
        }
        return {}
    }
  }

  async close(): Promise<void> {
    this.statements.clear()
    this.portals.clear()
    await this.sql.close?.()
  }

  // --- simple query ----------------------------------------------------------------

  private async simpleQuery(sql: string): Promise<void> {
    if (/^[\s;]*$/.test(sql)) {
      this.out.emptyQuery()
      return
    }
    // Why: a simple Query ends any unnamed statement/portal, as in PostgreSQL.
    this.statements.delete('')
    this.portals.delete('')
    let results: QueryResult[]
    try {
      results = toResults(await this.sql.query(sql))
    } catch (err) {
      this.noteError()
      this.out.error(errorFields(err))
      return
    }
    for (const r of results) {
      this.noteCommand(r.command)
      for (const n of r.notices ?? []) this.out.notice(n)
      const fields = describeFields(r)
      if (fields.length > 0 || r.command.toUpperCase().startsWith('SELECT')) this.out.rowDescription(fields)
      this.writeRows(r, fields, 0, r.rows.length)
      this.out.commandComplete(r.commandTag ?? commandTag(r.command, r.rowCount, r.rows.length))
    }
  }

  // --- extended query ----------------------------------------------------------------

  private async extended(msg: Exclude<FrontendMessage, { type: 'query' | 'sync' | 'flush' | 'terminate' | 'unsupported' }>): Promise<void> {
    switch (msg.type) {
      case 'parse': {
        if (msg.name !== '' && this.statements.has(msg.name)) throw sqlError('42P05', `prepared statement "${msg.name}" already exists`)
        if (this.statements.size >= MAX_STATEMENTS && !this.statements.has(msg.name)) throw sqlError('53400', `more than ${MAX_STATEMENTS} prepared statements`)
        this.statements.set(msg.name, { sql: msg.sql, paramTypes: msg.paramTypes })
        this.out.parseComplete()
        return
      }
      case 'bind': {
        const statement = this.statements.get(msg.statement)
        if (!statement) throw sqlError('26000', `prepared statement "${msg.statement}" does not exist`)
        if (msg.resultFormats.some((f) => f !== 0 && f !== 1)) throw new ProtocolError(`unsupported format code: ${msg.resultFormats.find((f) => f !== 0 && f !== 1)}`)
        if (msg.paramFormats.length > 1 && msg.paramFormats.length !== msg.params.length) throw new ProtocolError('parameter format count does not match parameter count')
        if (msg.portal !== '' && this.portals.has(msg.portal)) throw sqlError('42P03', `portal "${msg.portal}" already exists`)
        if (this.portals.size >= MAX_PORTALS && !this.portals.has(msg.portal)) throw sqlError('53400', `more than ${MAX_PORTALS} portals`)
        const params = msg.params.map((p, i) => decodeParam(p, msg.paramFormats.length === 1 ? msg.paramFormats[0]! : (msg.paramFormats[i] ?? 0), statement.paramTypes[i] ?? 0))
        this.portals.set(msg.portal, { statement, params, resultFormats: msg.resultFormats, sent: 0 })
        this.out.bindComplete()
        return
      }
      case 'describe': {
        if (msg.kind === 'S') {
          const statement = this.statements.get(msg.name)
          if (!statement) throw sqlError('26000', `prepared statement "${msg.name}" does not exist`)
          const count = Math.max(statement.paramTypes.length, maxParamIndex(statement.sql))
          this.out.parameterDescription(Array.from({ length: count }, (_, i) => statement.paramTypes[i] || OID.text))
          // Row shape without running a write: only read-only statements are run to learn it.
          if (isReadOnly(statement.sql)) {
            const r = single(await this.sql.query(statement.sql, new Array(count).fill(null)))
            const fields = describeFields(r)
            if (fields.length > 0) this.out.rowDescription(fields)
            else this.out.noData()
          } else this.out.noData()
          return
        }
        const portal = this.portals.get(msg.name)
        if (!portal) throw sqlError('34000', `portal "${msg.name}" does not exist`)
        const r = await this.run(portal)
        const fields = describeFields(r, portal.resultFormats)
        if (fields.length > 0 || r.command.toUpperCase().startsWith('SELECT')) this.out.rowDescription(fields)
        else this.out.noData()
        return
      }
      case 'execute': {
        const portal = this.portals.get(msg.portal)
        if (!portal) throw sqlError('34000', `portal "${msg.portal}" does not exist`)
        if (/^[\s;]*$/.test(portal.statement.sql)) {
          this.out.emptyQuery()
          return
        }
        const r = await this.run(portal)
        const fields = describeFields(r, portal.resultFormats)
        const end = msg.maxRows > 0 ? Math.min(r.rows.length, portal.sent + msg.maxRows) : r.rows.length
        this.writeRows(r, fields, portal.sent, end)
        portal.sent = end
        if (end < r.rows.length) this.out.portalSuspended()
        else this.out.commandComplete(r.commandTag ?? commandTag(r.command, r.rowCount, r.rows.length))
        return
      }
      case 'close':
        if (msg.kind === 'S') this.statements.delete(msg.name)
        else this.portals.delete(msg.name)
        this.out.closeComplete()
        return
    }
  }

  private async run(portal: Portal): Promise<QueryResult> {
    if (!portal.result) {
      try {
        portal.result = single(await this.sql.query(portal.statement.sql, portal.params))
      } catch (err) {
        this.noteError()
        throw err
      }
      this.noteCommand(portal.result.command)
      for (const n of portal.result.notices ?? []) this.out.notice(n)
    }
    return portal.result
  }

  private fail(fields: ErrorFields): void {
    this.out.error(fields)
    this.skipUntilSync = true
  }

  private writeRows(r: QueryResult, fields: FieldDescription[], from: number, to: number): void {
    const names = r.fields.map((f) => f.name)
    const binary = fields.some((f) => f.format === 1)
    for (let i = from; i < to; i++) {
      const row = r.rows[i]!
      const values: Array<string | Uint8Array | null> = new Array(fields.length)
      if (Array.isArray(row)) for (let c = 0; c < fields.length; c++) values[c] = textValue(row[c], fields[c]!.oid)
      else for (let c = 0; c < fields.length; c++) values[c] = textValue((row as Record<string, unknown>)[names[c]!], fields[c]!.oid)
      if (binary) {
        for (let c = 0; c < fields.length; c++) {
          const v = values[c]
          if (fields[c]!.format === 1 && typeof v === 'string') values[c] = encodeBinary(v, fields[c]!.oid)
        }
      }
      this.out.dataRow(values)
    }
  }

  // --- transaction status ----------------------------------------------------------------

  private status(): TransactionStatus {
    const state = this.sql.transactionState?.() ?? this.inferred
    return state === 'transaction' ? 'T' : state === 'failed' ? 'E' : 'I'
  }

  private noteCommand(command: string): void {
    const c = command.trim().toUpperCase()
    if (c === 'BEGIN' || c === 'START TRANSACTION') this.inferred = 'transaction'
    else if (c === 'COMMIT' || c === 'ROLLBACK' || c === 'END' || c === 'ABORT') this.inferred = 'idle'
  }

  private noteError(): void {
    if (this.inferred === 'transaction') this.inferred = 'failed'
  }
}

function toResults(r: QueryResult | QueryResult[]): QueryResult[] {
  return Array.isArray(r) ? r : [r]
}

function single(r: QueryResult | QueryResult[]): QueryResult {
  const all = toResults(r)
  if (all.length !== 1) throw sqlError('42601', 'cannot insert multiple commands into a prepared statement')
  return all[0]!
}

/** RowDescription of a result; `formats` are Bind's result format codes (empty: text). */
function describeFields(r: QueryResult, formats: number[] = []): FieldDescription[] {
  const fields = r.fields ?? []
  if (formats.length > 1 && formats.length !== fields.length) {
    throw new ProtocolError(`bind message has ${formats.length} result formats but query has ${fields.length} columns`)
  }
  return fields.map((f, i) => {
    const d: FieldDescription = { name: f.name, oid: f.oid ?? typeOid(f.type) }
    if (f.typmod !== undefined) d.typmod = f.typmod
    if (f.size !== undefined) d.size = f.size
    if ((formats.length === 1 ? formats[0] : formats[i]) === 1) {
      if (!supportsBinary(d.oid)) throw sqlError('0A000', `binary output of type OID ${d.oid} (column "${f.name}") is not supported; request text format`)
      d.format = 1
    }
    return d
  })
}

function decodeParam(value: Uint8Array | null, format: number, oid: number): unknown {
  if (value === null) return null
  if (format === 0) return new TextDecoder().decode(value)
  if (format !== 1) throw new ProtocolError(`unknown parameter format ${format}`)
  // Binary values become the text PostgreSQL would print for them; bytea (and types
  // without a binary form here) stay raw bytes.
  return decodeBinaryParam(value, oid)
}

function maxParamIndex(sql: string): number {
  let max = 0
  for (const m of sql.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]))
  return Math.min(max, 65535)
}

function isReadOnly(sql: string): boolean {
  return /^\s*(select|values|show|table|explain)\b/i.test(sql) && !/\b(into|for\s+update|nextval)\b/i.test(sql)
}

interface SqlErrorLike {
  message?: unknown
  code?: unknown
  detail?: unknown
  hint?: unknown
  position?: unknown
}

export function errorFields(err: unknown, severity: ErrorFields['severity'] = 'ERROR'): ErrorFields {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SqlErrorLike
  const code = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : 'XX000'
  const fields: ErrorFields = { severity, code, message: typeof e.message === 'string' ? e.message : String(err) }
  if (typeof e.detail === 'string') fields.detail = e.detail
  if (typeof e.hint === 'string') fields.hint = e.hint
  if (typeof e.position === 'string' || typeof e.position === 'number') fields.position = String(e.position)
  return fields
}

function sqlError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code })
}
