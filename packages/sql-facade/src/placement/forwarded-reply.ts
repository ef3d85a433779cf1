/**
 * The reply to a forwarded write (write-forwarding.ts, peer call `sql/forward`): the parts
 * of its command tag and, for a statement with RETURNING, the rows it returned, as
 * PostgreSQL text, with their columns as RowDescription gives them. The holder builds it
 * from its result; the forwarding node reads it and trusts nothing in it.
 *
 * Grammar (JSON, UTF-8):
 *   reply   = { "ok": result } | { "error": { "code": SQLSTATE, "message": string } }
 *   result  = { "command": string, "rowCount": int | null,
 *               "columns"?: [column, ..],            present when the statement returns rows
 *               "rows"?: [[text | null, ..], ..] }   one value per column
 *   column  = { "name", "type": string, "oid", "typmod", "size": int, "typeId": string, "isArray": bool }
 *
 * Bounds: the returned values come to at most `FORWARD_RETURNING_MAX_CHARS` characters of
 * JSON text. The holder measures them before its statement commits and fails it with 54000
 * past that (nothing is written there), so a reply within the grammar never carries more.
 * The reader refuses a body larger than that can make (`replyMaxBytes`) before parsing it,
 * more than MAX_COLUMNS columns, a row whose width is not the columns', a value that is
 * not text of its column's type (for the types whose values are not kept as text). A
 * reply breaking any of this is 08007 for the client: the write may have run there.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { commandTag, formatPgText, type FieldInfo, type Int8Output, type JsValue, type QueryResult } from '../result-format.js'
import type { StatementResult } from '../runtime/result.js'
import type { TypeId } from '../types/sql-type.js'
import { formatText } from '../types/text-format.js'
import { activeDateTimeStyle } from '../types/datetime-style.js'

/** Characters of JSON text the values a forwarded statement returns may take (about 16 MiB). */
export const FORWARD_RETURNING_MAX_CHARS = 16 * 1024 * 1024
/** PostgreSQL's limit on the entries of a target list. */
const MAX_COLUMNS = 1664
/** A column's name, type name or type id longer than this is not from a holder. */
const MAX_NAME_CHARS = 1024

/** A column of a forwarded statement's returned rows. */
export type ReturnedColumn = Pick<FieldInfo, 'name' | 'type' | 'oid' | 'typmod' | 'size' | 'typeId' | 'isArray'>

/** What a holder ran: the command tag's parts and, with RETURNING, the rows in text. */
export interface ForwardedResult {
  command: string
  rowCount: number | null
  /** null when the statement returns no rows (no RETURNING). */
  columns: ReturnedColumn[] | null
  rows: Array<Array<string | null>>
}

export type ForwardReply = { ok: ForwardedResult } | { error: { code: string; message: string } }

/** The largest reply body a holder keeping `maxChars` can send: every character 3 bytes of UTF-8, plus the columns. */
export function replyMaxBytes(maxChars: number): number {
  return 3 * maxChars + 1024 * 1024
}

/**
 * Fails a forwarded statement (54000) whose returned rows would take more than `maxChars`
 * characters in the reply; called on the holder before the statement commits.
 */
export function checkReturnedSize(r: StatementResult, maxChars: number): void {
  if (r.rows.length === 0 || r.columns.length === 0) return
  const style = activeDateTimeStyle()
  let chars = 2
  for (const row of r.rows) {
    chars += 3
    for (let i = 0; i < row.length; i++) {
      const text = formatText(row[i]!, r.columns[i]!.type, style)
      chars += text === null ? 5 : JSON.stringify(text).length + 1
    }
    if (chars > maxChars) {
      throw new SqlError(SqlState.programLimitExceeded, `the rows a forwarded write returns (RETURNING) exceed ${maxChars} characters of text; nothing was written`, {
        hint: 'Return fewer or narrower rows, or run the statement on a node of the region that holds the rows.',
      })
    }
  }
}

/** The holder's reply for its result: every value as PostgreSQL text. */
export function forwardedResult(r: QueryResult): ForwardedResult {
  if (!r.returnsRows) return { command: r.command, rowCount: r.rowCount, columns: null, rows: [] }
  const columns = r.fields.map((f) => ({ name: f.name, type: f.type, oid: f.oid, typmod: f.typmod, size: f.size, typeId: f.typeId, isArray: f.isArray }))
  const rows = r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, r.fields[i]!)))
  return { command: r.command, rowCount: r.rowCount, columns, rows }
}

function malformed(peer: string, why: string): SqlError {
  return new SqlError(SqlState.transactionResolutionUnknown, `node ${peer} sent a malformed reply to the forwarded write (${why}): whether it ran there is unknown`)
}

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
const isName = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_NAME_CHARS

function column(c: unknown, peer: string): ReturnedColumn {
  const o = (c ?? {}) as Record<string, unknown>
  if (typeof c !== 'object' || !isName(o['name']) || !isName(o['type']) || !isName(o['typeId']) || !/^[a-z0-9_]+$/.test(o['typeId'] as string) ||
    !isInt(o['oid'], 0, 0xffffffff) || !isInt(o['typmod'], -(2 ** 31), 2 ** 31 - 1) || !isInt(o['size'], -2, 2 ** 31 - 1) || typeof o['isArray'] !== 'boolean') {
    throw malformed(peer, 'a column is not as described')
  }
  return { name: o['name'], type: o['type'], oid: o['oid'], typmod: o['typmod'], size: o['size'], typeId: o['typeId'] as TypeId, isArray: o['isArray'] }
}

/** Reads a holder's reply (see the module header); throws 08007 for one that breaks the grammar. */
export function decodeForwardReply(body: Uint8Array, peer: string, maxChars = FORWARD_RETURNING_MAX_CHARS): ForwardReply {
  if (body.byteLength > replyMaxBytes(maxChars)) throw malformed(peer, `${body.byteLength} bytes, more than ${replyMaxBytes(maxChars)}`)
  let reply: unknown
  try {
    reply = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
  } catch {
    throw malformed(peer, 'not JSON')
  }
  const o = (reply ?? {}) as Record<string, unknown>
  const error = o['error'] as Record<string, unknown> | undefined
  if (typeof reply === 'object' && error !== undefined) {
    if (typeof error !== 'object' || error === null || typeof error['message'] !== 'string') throw malformed(peer, 'an error without a message')
    const code = typeof error['code'] === 'string' && /^[0-9A-Z]{5}$/.test(error['code']) ? error['code'] : SqlState.internalError
    return { error: { code, message: error['message'] } }
  }
  const ok = o['ok'] as Record<string, unknown> | undefined
  if (typeof reply !== 'object' || typeof ok !== 'object' || ok === null) throw malformed(peer, 'neither a result nor an error')
  const command = ok['command']
  const rowCount = ok['rowCount']
  if (typeof command !== 'string' || !/^[A-Z][A-Z ]{0,31}$/.test(command)) throw malformed(peer, 'no command')
  if (rowCount !== null && !isInt(rowCount, 0, Number.MAX_SAFE_INTEGER)) throw malformed(peer, 'a bad row count')
  if (ok['columns'] === undefined || ok['columns'] === null) {
    if (ok['rows'] !== undefined && (!Array.isArray(ok['rows']) || ok['rows'].length > 0)) throw malformed(peer, 'rows without columns')
    return { ok: { command, rowCount, columns: null, rows: [] } }
  }
  if (!Array.isArray(ok['columns']) || ok['columns'].length > MAX_COLUMNS) throw malformed(peer, 'too many columns')
  const columns = ok['columns'].map((c) => column(c, peer))
  const rows = ok['rows'] ?? []
  if (!Array.isArray(rows)) throw malformed(peer, 'rows are not a list')
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== columns.length || !row.every((v) => v === null || typeof v === 'string')) {
      throw malformed(peer, `a row is not ${columns.length} text values`)
    }
  }
  if (rowCount !== null && rowCount !== rows.length) throw malformed(peer, `${rows.length} rows for a count of ${rowCount}`)
  return { ok: { command, rowCount, columns, rows: rows as Array<Array<string | null>> } }
}

/** A value of a returned column as `rows` hold it locally (result-format.ts `toJs`); undefined when it is not text of that type. */
function jsValue(text: string, c: ReturnedColumn, int8: Int8Output): JsValue | undefined {
  if (c.isArray) return text
  switch (c.typeId) {
    case 'bool': return text === 't' ? true : text === 'f' ? false : undefined
    case 'int2': case 'int4': case 'oid': return /^-?\d{1,10}$/.test(text) ? Number(text) : undefined
    case 'float4': case 'float8':
      return /^(-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?|NaN|-?Infinity)$/i.test(text) ? Number(text) : undefined
    case 'int8':
      if (!/^-?\d{1,19}$/.test(text)) return undefined
      return int8 === 'bigint' ? BigInt(text) : text
    case 'bytea': {
      if (!/^\\x([0-9a-f]{2})*$/.test(text)) return undefined
      const out = new Uint8Array((text.length - 2) / 2)
      for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 + 2 * i, 4 + 2 * i), 16)
      return out
    }
    default: return text
  }
}

/**
 * A holder's result as this node's client sees it, the same as a local statement's: the
 * columns' RowDescription and values in the local JS forms. Floats print in this session's
 * extra_float_digits; other values keep the holder's text, which a forwarding session reads
 * only in the default DateStyle and IntervalStyle (write-forwarding.ts).
 */
export function forwardedQueryResult(r: ForwardedResult, int8: Int8Output, peer: string): QueryResult {
  const tag = { command: r.command, commandTag: commandTag(r.command, r.rowCount), rowCount: r.rowCount, notices: [] }
  if (r.columns === null) return { ...tag, fields: [], rows: [], rowArrays: [], returnsRows: false }
  const extra = activeDateTimeStyle().extraFloatDigits
  const fields: FieldInfo[] = r.columns.map((c) => ({ ...c, ...((c.typeId === 'float4' || c.typeId === 'float8') && !c.isArray && extra <= 0 ? { extraFloatDigits: extra } : {}) }))
  const rowArrays = r.rows.map((row) =>
    row.map((text, i) => {
      if (text === null) return null
      const v = jsValue(text, r.columns![i]!, int8)
      if (v === undefined) throw malformed(peer, `a value of column "${r.columns![i]!.name}" is not ${r.columns![i]!.type}`)
      return v
    }),
  )
  const rows = rowArrays.map((arr) => {
    const o: Record<string, JsValue> = {}
    fields.forEach((f, i) => (o[f.name] = arr[i]!))
    return o
  })
  return { ...tag, fields, rows, rowArrays, returnsRows: true }
}
