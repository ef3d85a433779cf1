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
 * - The SQL session answers every statement, and tells whether it is empty, what it
 *   returns and where the transaction stands; this file only carries messages and
 *   serializes results and errors.
 * - COPY FROM STDIN: after CopyInResponse every CopyData goes to the SQL layer's sink as
 *   it arrives (the next message is read only once the sink took this one), until
 *   CopyDone or CopyFail; Flush and Sync in between are ignored. An error ends the COPY
 *   at once (ErrorResponse, ReadyForQuery), and the CopyData, CopyDone and CopyFail the
 *   client still sends are dropped, as PostgreSQL drops them outside a COPY.
 * - The rows suspended portals keep (Execute with a row limit) are bounded per
 *   connection (portal-rows.ts): 53200 past the bound, the portal dropped.
 * - Notifications (LISTEN): one that comes while a message is handled, or while replies
 *   wait for a synchronisation point, joins the reply buffer (so it leaves with them,
 *   before their ReadyForQuery); one that comes while the connection is idle with
 *   nothing held back is written at once through `push`.
 */
import { asSqlError, SqlError, SqlState } from '@concord/sql-facade'
import { BackendWriter, type ErrorFields, type FieldDescription, type TransactionStatus } from './backend-writer.js'
import { decodeFrontendMessage, ProtocolError, type FrontendMessage } from './frontend-message.js'
import { decodeBinaryParam, encodeBinary, supportsBinary } from './binary-format.js'
import { textValue, typeOid } from './pg-types.js'
import type { CopyIn } from '@concord/sql-facade'
import type { PreparedQuery, QueryField, QueryResult, SqlSession } from './sql-session.js'
import { DEFAULT_MAX_PORTAL_ROW_BYTES, portalRowsExceeded, rowBytes } from './portal-rows.js'

/** Bounds per connection, so one client cannot grow a server without limit. */
const MAX_STATEMENTS = 10_000
const MAX_PORTALS = 1_000
/**
 * Bytes of statement text and bound parameters one connection may keep in prepared
 * statements and portals: 60 statements of 50 MB each drove a node to 4.2 GB. A Parse or
 * Bind past it fails with 53200 and keeps nothing; Close frees its share.
 */
export const MAX_PREPARED_BYTES = 64 * 1024 * 1024

interface Prepared {
  query: PreparedQuery
  /** Bytes of its text (counted against MAX_PREPARED_BYTES). */
  bytes: number
  /** The parameter types Parse declared (0: unspecified): how Bind reads binary values. */
  declared: number[]
}

interface Portal {
  statement: Prepared
  params: unknown[]
  /** Bytes of its bound parameters (counted against MAX_PREPARED_BYTES). */
  bytes: number
  /** Bind's result format codes: none (all text), one for every column, or one per column. */
  resultFormats: number[]
  /** Set once run; null for an empty statement. Its rows are dropped once all are sent. */
  result?: QueryResult | null
  /** Rows already sent by Execute with a row limit. */
  sent: number
  /** Estimated bytes of the rows it keeps while suspended (portal-rows.ts); 0 while it keeps none for later. */
  keptBytes: number
  /** Its result's RowDescription once described (Describe, then Execute, describe it alike). */
  fields?: { of: QueryField[]; described: FieldDescription[] }
}

export interface WireSessionOptions {
  /** Rows the connection's suspended portals may keep (portal-rows.ts); default 256 MiB. */
  maxPortalRowBytes?: number
}

export type WireReply = { bytes?: Uint8Array; close?: boolean }

/** A message answered with nothing to write yet (four of a node-postgres query's five): one object for all. */
const NO_REPLY: WireReply = Object.freeze({})

export class WireSession {
  private readonly statements = new Map<string, Prepared>()
  private readonly portals = new Map<string, Portal>()
  private readonly out = new BackendWriter()
  private skipUntilSync = false
  /** The COPY FROM STDIN in progress, if any. */
  private copyIn: CopyIn | null = null

  private readonly sql: SqlSession
  /** A message is being handled: notifications join its reply. */
  private handling = false
  /** Writes bytes to the client outside a reply (idle notifications); none: they wait for the next reply. */
  private push: ((bytes: Uint8Array) => void) | null = null
  /**
   * The reported parameters (`SqlSession.reportedParameters`) as the client last heard them:
   * at startup, then before each ReadyForQuery that follows a change (a promotion or
   * demotion, SET default_transaction_read_only), as PostgreSQL reports them.
   */
  private readonly reported = new Map<string, string>()
  /** The array `reported` was last brought up to date from: the session returns the same one while nothing changed. */
  private reportedFrom: ReadonlyArray<readonly [string, string]> | undefined

  private readonly maxPortalRowBytes: number

  constructor(sql: SqlSession, options: WireSessionOptions = {}) {
    this.sql = sql
    this.maxPortalRowBytes = options.maxPortalRowBytes ?? DEFAULT_MAX_PORTAL_ROW_BYTES
    this.reportedFrom = sql.reportedParameters?.()
    for (const [k, v] of this.reportedFrom ?? []) this.reported.set(k, v)
    sql.onNotification?.((n) => {
      // Idle with nothing held back: out at once. Otherwise behind what is already there.
      const alone = !this.handling && this.push !== null && this.out.length === 0
      this.out.notificationResponse(n.processId, n.channel, n.payload)
      if (alone) this.push!(this.out.take())
    })
    // Raised while a message is handled (parsing it): written ahead of its results, as PostgreSQL does.
    sql.onNotice?.((n) => this.out.notice(n.message, n))
  }

  /** Lets notifications that come while the connection is idle be written at once. */
  setPush(push: ((bytes: Uint8Array) => void) | null): void {
    this.push = push
  }

  /**
   * Handles one framed message; returns bytes to write now and whether to hang up. A
   * message that waits for nothing (Bind, Close, Sync, an Execute of a portal that already
   * ran) is answered synchronously: no promise, no turn of the microtask queue. A point
   * SELECT over node-postgres is five messages, three of them such.
   */
  handle(raw: Uint8Array): WireReply | Promise<WireReply> {
    this.handling = true
    let reply: WireReply | Promise<WireReply>
    try {
      reply = this.handleMessage(raw)
    } catch (err) {
      this.handling = false
      throw err
    }
    if (!(reply instanceof Promise)) {
      this.handling = false
      return reply
    }
    return reply.finally(() => {
      this.handling = false
    })
  }

  private handleMessage(raw: Uint8Array): WireReply | Promise<WireReply> {
    let msg: FrontendMessage
    try {
      msg = decodeFrontendMessage(raw)
    } catch (err) {
      this.out.error(errorFields(err, 'FATAL'))
      return { bytes: this.out.take(), close: true }
    }
    if (this.copyIn !== null) return this.copyMessage(this.copyIn, msg)
    if (this.skipUntilSync && msg.type !== 'sync' && msg.type !== 'terminate') return NO_REPLY
    switch (msg.type) {
      case 'query':
        this.skipUntilSync = false
        return this.query(msg.sql)
      case 'copyData': case 'copyDone': case 'copyFail':
        // Left over from a COPY that failed: PostgreSQL drops them too.
        return NO_REPLY
      case 'sync':
        this.skipUntilSync = false
        this.portals.delete('')
        this.ready()
        return { bytes: this.out.take() }
      case 'flush':
        return this.out.length > 0 ? { bytes: this.out.take() } : {}
      case 'terminate':
        return { bytes: this.out.length > 0 ? this.out.take() : undefined, close: true }
      case 'unsupported':
        this.fail({ code: SqlState.featureNotSupported, message: `frontend message '${msg.code}' is not supported` })
        return NO_REPLY
      default: {
        let ran: void | Promise<void>
        try {
          ran = this.extended(msg)
        } catch (err) {
          this.fail(errorFields(err))
          return NO_REPLY
        }
        if (!(ran instanceof Promise)) return NO_REPLY
        return ran.then(
          () => NO_REPLY,
          (err: unknown) => {
            this.fail(errorFields(err))
            return NO_REPLY
          },
        )
      }
    }
  }

  /** A simple Query: answered in the same turn when the session answers in it (`queryNow`). */
  private query(sql: string): WireReply | Promise<WireReply> {
    // Why: a simple Query ends any unnamed statement/portal, as in PostgreSQL.
    this.statements.delete('')
    this.portals.delete('')
    let results: QueryResult[] | Promise<QueryResult[]>
    try {
      results = this.sql.queryNow !== undefined ? this.sql.queryNow(sql) : this.sql.query(sql)
    } catch (err) {
      this.out.error(errorFields(err))
      return this.queryEnded()
    }
    if (!(results instanceof Promise)) {
      this.writeResults(results)
      return this.queryEnded()
    }
    return results.then(
      (r) => {
        this.writeResults(r)
        return this.queryEnded()
      },
      (err: unknown) => {
        this.out.error(errorFields(err))
        return this.queryEnded()
      },
    )
  }

  private queryEnded(): WireReply {
    // A COPY FROM STDIN waits for its data: ReadyForQuery comes after CopyDone.
    if (this.copyIn === null) this.ready()
    return { bytes: this.out.take() }
  }

  /** A message during COPY FROM STDIN: its data answered at once unless it completed a batch, which is inserted first. */
  private copyMessage(sink: CopyIn, msg: FrontendMessage): WireReply | Promise<WireReply> {
    if (msg.type !== 'copyData') return this.copyControl(sink, msg)
    let written: void | Promise<void>
    try {
      written = sink.write(msg.data)
    } catch (err) {
      return this.copyEnded(errorFields(err))
    }
    if (written === undefined) return NO_REPLY
    return written.then(
      () => NO_REPLY,
      (err: unknown) => this.copyEnded(errorFields(err)),
    )
  }

  /** CopyDone, CopyFail and the other messages during COPY FROM STDIN. */
  private async copyControl(sink: CopyIn, msg: FrontendMessage): Promise<WireReply> {
    switch (msg.type) {
      case 'copyDone':
        try {
          const done = await sink.end()
          this.copyIn = null
          this.out.commandComplete(done.commandTag)
          this.ready()
          return { bytes: this.out.take() }
        } catch (err) {
          return this.copyEnded(errorFields(err))
        }
      case 'copyFail':
        return this.copyEnded(errorFields(await sink.fail(msg.message).catch((err: unknown) => err)))
      case 'flush': case 'sync':
        return NO_REPLY
      case 'terminate':
        await sink.fail('the client closed the connection').catch(() => {})
        this.copyIn = null
        return { close: true }
      default:
        await sink.fail(`unexpected message during COPY from stdin`).catch(() => {})
        return this.copyEnded({ code: SqlState.protocolViolation, message: `unexpected message type '${msg.type}' during COPY from stdin` })
    }
  }

  private copyEnded(error: ReturnType<typeof errorFields>): WireReply {
    this.copyIn = null
    this.out.error(error)
    this.ready()
    return { bytes: this.out.take() }
  }

  /** ReadyForQuery, after a ParameterStatus for each reported parameter that changed since the client last heard it. */
  private ready(): void {
    const params = this.sql.reportedParameters?.()
    if (params !== this.reportedFrom) {
      this.reportedFrom = params
      for (const [k, v] of params ?? []) {
        if (this.reported.get(k) === v) continue
        this.reported.set(k, v)
        this.out.parameterStatus(k, v)
      }
    }
    this.out.readyForQuery(this.status())
  }

  async close(): Promise<void> {
    this.statements.clear()
    this.portals.clear()
    await this.sql.close?.()
  }

  // --- simple query ----------------------------------------------------------------

  /** A simple Query's results, in order; a COPY FROM STDIN's stops them (its data comes next). */
  private writeResults(results: QueryResult[]): void {
    if (results.length === 0) this.out.emptyQuery()
    for (const r of results) {
      for (const n of r.notices ?? []) this.out.notice(n)
      if (r.copy?.direction === 'in') {
        this.out.copyResponse('in', r.copy.columns)
        this.copyIn = r.copy
        return
      }
      if (r.copy?.direction === 'out') {
        this.out.copyResponse('out', r.copy.columns)
        for (const line of r.copy.lines) this.out.copyData(line)
        this.out.copyDone()
        this.out.commandComplete(r.commandTag)
        continue
      }
      const fields = r.fields === null ? null : describeFields(r.fields)
      if (fields) this.out.rowDescription(fields)
      this.writeRows(r, fields ?? [], 0, r.rows.length)
      this.out.commandComplete(r.commandTag)
    }
  }

  // --- extended query ----------------------------------------------------------------

  /** An extended-protocol message: synchronous unless it waits for the session (see `handle`). */
  private extended(msg: Exclude<FrontendMessage, { type: 'query' | 'sync' | 'flush' | 'terminate' | 'unsupported' }>): void | Promise<void> {
    switch (msg.type) {
      case 'parse': {
        if (msg.name !== '' && this.statements.has(msg.name)) throw new SqlError(SqlState.duplicatePreparedStatement, `prepared statement "${msg.name}" already exists`)
        if (this.statements.size >= MAX_STATEMENTS && !this.statements.has(msg.name)) throw new SqlError(SqlState.configurationLimitExceeded, `more than ${MAX_STATEMENTS} prepared statements`)
        const bytes = msg.sql.length
        this.checkHeld(bytes, this.statements.get(msg.name)?.bytes ?? 0)
        const parsed = (query: PreparedQuery): void => {
          this.statements.set(msg.name, { query, declared: msg.paramTypes, bytes })
          this.out.parseComplete()
        }
        const now = this.sql.prepareNow?.(msg.sql, msg.paramTypes) ?? null
        if (now !== null) return parsed(now)
        return this.sql.prepare(msg.sql, msg.paramTypes).then(parsed)
      }
      case 'bind': {
        const statement = this.statements.get(msg.statement)
        if (!statement) throw new SqlError(SqlState.invalidSqlStatementName, `prepared statement "${msg.statement}" does not exist`)
        if (msg.resultFormats.some((f) => f !== 0 && f !== 1)) throw new ProtocolError(`unsupported format code: ${msg.resultFormats.find((f) => f !== 0 && f !== 1)}`)
        if (msg.paramFormats.length > 1 && msg.paramFormats.length !== msg.params.length) throw new ProtocolError('parameter format count does not match parameter count')
        if (msg.portal !== '' && this.portals.has(msg.portal)) throw new SqlError(SqlState.duplicateCursor, `portal "${msg.portal}" already exists`)
        if (this.portals.size >= MAX_PORTALS && !this.portals.has(msg.portal)) throw new SqlError(SqlState.configurationLimitExceeded, `more than ${MAX_PORTALS} portals`)
        let bytes = 0
        for (const p of msg.params) bytes += p?.byteLength ?? 0
        this.checkHeld(bytes, this.portals.get(msg.portal)?.bytes ?? 0)
        const params = msg.params.map((p, i) => decodeParam(p, msg.paramFormats.length === 1 ? msg.paramFormats[0]! : (msg.paramFormats[i] ?? 0), statement.declared[i] ?? 0))
        this.portals.set(msg.portal, { statement, params, resultFormats: msg.resultFormats, sent: 0, bytes, keptBytes: 0 })
        this.out.bindComplete()
        return
      }
      case 'describe': {
        if (msg.kind === 'S') {
          const statement = this.statements.get(msg.name)
          if (!statement) throw new SqlError(SqlState.invalidSqlStatementName, `prepared statement "${msg.name}" does not exist`)
          this.out.parameterDescription([...statement.query.paramTypes])
          return this.sql.describe(statement.query).then((fields) => {
            if (fields) this.out.rowDescription(describeFields(fields))
            else this.out.noData()
          })
        }
        const portal = this.portals.get(msg.name)
        if (!portal) throw new SqlError(SqlState.invalidCursorName, `portal "${msg.name}" does not exist`)
        const r = this.run(portal)
        if (r instanceof Promise) return r.then((ran) => this.describePortal(portal, ran))
        this.describePortal(portal, r)
        return
      }
      case 'execute': {
        const portal = this.portals.get(msg.portal)
        if (!portal) throw new SqlError(SqlState.invalidCursorName, `portal "${msg.portal}" does not exist`)
        const r = this.run(portal)
        if (r instanceof Promise) return r.then((ran) => this.executePortal(msg.portal, msg.maxRows, portal, ran))
        this.executePortal(msg.portal, msg.maxRows, portal, r)
        return
      }
      case 'close':
        if (msg.kind === 'S') this.statements.delete(msg.name)
        else this.portals.delete(msg.name)
        this.out.closeComplete()
        return
    }
  }

  private describePortal(portal: Portal, r: QueryResult | null): void {
    if (r?.fields) this.out.rowDescription(this.portalFields(portal, r.fields))
    else this.out.noData()
  }

  /** The RowDescription of a portal's result, built once for its Describe and its Executes. */
  private portalFields(portal: Portal, fields: QueryField[]): FieldDescription[] {
    if (portal.fields?.of === fields) return portal.fields.described
    const described = describeFields(fields, portal.resultFormats)
    portal.fields = { of: fields, described }
    return described
  }

  /** Execute's answer: the portal's rows from where the last Execute left off, at most `maxRows` (0: all). */
  private executePortal(name: string, maxRows: number, portal: Portal, r: QueryResult | null): void {
    if (r === null) {
      this.out.emptyQuery()
      return
    }
    const fields = r.fields === null ? [] : this.portalFields(portal, r.fields)
    const end = maxRows > 0 ? Math.min(r.rows.length, portal.sent + maxRows) : r.rows.length
    // Checked before any row goes out: a refused portal sends nothing and keeps nothing.
    if (end < r.rows.length && portal.keptBytes === 0) this.keepRows(name, portal, r)
    this.writeRows(r, fields, portal.sent, end)
    portal.sent = end
    if (end < r.rows.length) {
      this.out.portalSuspended()
    } else {
      this.out.commandComplete(r.commandTag)
      // Every row is sent: the portal keeps none (a later Execute of it sends none, as PostgreSQL's).
      if (r.rows.length > 0) portal.result = { ...r, rows: [] }
      portal.sent = 0
      portal.keptBytes = 0
    }
  }

  /** Throws 53200 if keeping `adding` more bytes (replacing `replacing`) passes MAX_PREPARED_BYTES. */
  private checkHeld(adding: number, replacing: number): void {
    let held = adding - replacing
    for (const s of this.statements.values()) held += s.bytes
    for (const p of this.portals.values()) held += p.bytes
    if (held <= MAX_PREPARED_BYTES) return
    throw new SqlError(SqlState.outOfMemory, 'out of memory', {
      detail: `Prepared statements and portals of this connection would hold ${held} bytes of text and parameters, more than ${MAX_PREPARED_BYTES}.`,
      hint: 'Close (DEALLOCATE) prepared statements and portals no longer needed.',
    })
  }

  /** Counts the rows a portal being suspended keeps; 53200 (and the portal dropped) past the connection's bound. */
  private keepRows(name: string, portal: Portal, r: QueryResult): void {
    let others = 0
    for (const p of this.portals.values()) if (p !== portal) others += p.keptBytes
    const bytes = rowBytes(r.rows)
    if (others > 0 && others + bytes > this.maxPortalRowBytes) {
      this.portals.delete(name)
      throw portalRowsExceeded(others + bytes, this.maxPortalRowBytes)
    }
    portal.keptBytes = bytes
  }

  /** The portal's result: at once when it already ran (Describe runs it, Execute then sends it). */
  private run(portal: Portal): QueryResult | null | Promise<QueryResult | null> {
    if (portal.result !== undefined) return portal.result
    const ran = this.sql.executeNow !== undefined ? this.sql.executeNow(portal.statement.query, portal.params) : this.sql.execute(portal.statement.query, portal.params)
    if (ran instanceof Promise) return ran.then((result) => this.ran(portal, result))
    return this.ran(portal, ran)
  }

  private ran(portal: Portal, result: QueryResult | null): QueryResult | null {
    portal.result = result
    for (const n of result?.notices ?? []) this.out.notice(n)
    return result
  }

  private fail(fields: ErrorFields): void {
    this.out.error(fields)
    this.skipUntilSync = true
  }

  private writeRows(r: QueryResult, fields: FieldDescription[], from: number, to: number): void {
    const names = (r.fields ?? []).map((f) => f.name)
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
    const state = this.sql.transactionState()
    return state === 'transaction' ? 'T' : state === 'failed' ? 'E' : 'I'
  }
}

/** RowDescription of a result's fields; `formats` are Bind's result format codes (empty: text). */
function describeFields(fields: QueryField[], formats: number[] = []): FieldDescription[] {
  if (formats.length > 1 && formats.length !== fields.length) {
    throw new ProtocolError(`bind message has ${formats.length} result formats but query has ${fields.length} columns`)
  }
  return fields.map((f, i) => {
    const d: FieldDescription = { name: f.name, oid: f.oid ?? typeOid(f.type) }
    if (f.typmod !== undefined) d.typmod = f.typmod
    if (f.size !== undefined) d.size = f.size
    if ((formats.length === 1 ? formats[0] : formats[i]) === 1) {
      if (!supportsBinary(d.oid)) throw new SqlError(SqlState.featureNotSupported, `binary output of type OID ${d.oid} (column "${f.name}") is not supported; request text format`)
      d.format = 1
    }
    return d
  })
}

/** Text parameters' decoder (a decoder made per parameter was most of a Bind's garbage). */
const paramDecoder = new TextDecoder()

function decodeParam(value: Uint8Array | null, format: number, oid: number): unknown {
  if (value === null) return null
  if (format === 0) return paramDecoder.decode(value)
  if (format !== 1) throw new ProtocolError(`unknown parameter format ${format}`)
  // Binary values become the text PostgreSQL would print for them; bytea (and types
  // without a binary form here) stay raw bytes.
  return decodeBinaryParam(value, oid)
}

interface SqlErrorLike {
  message?: unknown
  code?: unknown
  detail?: unknown
  hint?: unknown
  position?: unknown
  schema?: unknown
  table?: unknown
  column?: unknown
  constraint?: unknown
}

export function errorFields(err: unknown, severity: ErrorFields['severity'] = 'ERROR'): ErrorFields {
  // Any error reaching here with a SQLSTATE goes out with it, core's with its condition's
  // code; one without is a bug somewhere (XX000).
  const e = asSqlError(err) as SqlErrorLike
  const code = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : SqlState.internalError
  const fields: ErrorFields = { severity, code, message: typeof e.message === 'string' ? e.message : String(err) }
  if (typeof e.detail === 'string') fields.detail = e.detail
  if (typeof e.hint === 'string') fields.hint = e.hint
  if (typeof e.position === 'string' || typeof e.position === 'number') fields.position = String(e.position)
  for (const k of ['schema', 'table', 'column', 'constraint'] as const) if (typeof e[k] === 'string') fields[k] = e[k]
  return fields
}
