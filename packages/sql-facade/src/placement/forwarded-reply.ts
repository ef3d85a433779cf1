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
 * The result shapes on either side are built in forwarded-result.ts.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { SqlType, TypeId } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { formatText } from '../types/text-format.js'
import { activeDateTimeStyle } from '../types/datetime-style.js'

/** Characters of JSON text the values a forwarded statement returns may take (about 16 MiB). */
export const FORWARD_RETURNING_MAX_CHARS = 16 * 1024 * 1024
/** PostgreSQL's limit on the entries of a target list. */
const MAX_COLUMNS = 1664
/** A column's name, type name or type id longer than this is not from a holder. */
const MAX_NAME_CHARS = 1024

/** A column of a forwarded statement's returned rows, as result-format.ts's FieldInfo has it. */
export interface ReturnedColumn {
  name: string
  type: string
  oid: number
  typmod: number
  size: number
  typeId: TypeId
  isArray: boolean
}

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
export function checkReturnedSize(r: { columns: ReadonlyArray<{ type: SqlType }>; rows: readonly RtValue[][] }, maxChars: number): void {
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

/** The refusal of a reply that breaks the grammar (see the module header). */
export function malformed(peer: string, why: string): SqlError {
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
