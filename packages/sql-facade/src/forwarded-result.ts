/**
 * A forwarded write's result (placement/forwarded-reply.ts) to and from the public result
 * shape: the holder turns its result into the reply, every value as PostgreSQL text; the
 * forwarding node turns the reply back into the result a local statement would give.
 */
import { malformed, type ForwardedResult, type ReturnedColumn } from './placement/forwarded-reply.js'
import { commandTag, formatPgText, type FieldInfo, type Int8Output, type JsValue, type QueryResult } from './result-format.js'
import { activeDateTimeStyle } from './types/datetime-style.js'
import { setOwn } from './parser/own-entry.js'

/** The holder's reply for its result: every value as PostgreSQL text. */
export function forwardedResult(r: QueryResult): ForwardedResult {
  if (!r.returnsRows) return { command: r.command, rowCount: r.rowCount, columns: null, rows: [] }
  const columns = r.fields.map((f) => ({ name: f.name, type: f.type, oid: f.oid, typmod: f.typmod, size: f.size, typeId: f.typeId, isArray: f.isArray }))
  const rows = r.rowArrays.map((row) => row.map((v, i) => formatPgText(v, r.fields[i]!)))
  return { command: r.command, rowCount: r.rowCount, columns, rows }
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
    fields.forEach((f, i) => setOwn(o, f.name, arr[i]!))
    return o
  })
  return { ...tag, fields, rows, rowArrays, returnsRows: true }
}
