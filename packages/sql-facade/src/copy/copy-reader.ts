/**
 * Reads COPY FROM data, text or CSV, as it arrives: bytes in (any chunking, UTF-8
 * sequences and lines split anywhere), rows of field strings (null for NULL) out.
 *
 * Invariants: memory is bounded by one unfinished line (at most MAX_LINE_CHARS, else
 * 54000) plus the rows of the chunk just pushed; a line `\.` ends the data (what follows
 * is ignored, as in PostgreSQL); text format undoes backslash escapes after matching the
 * NULL string against the raw field; CSV fields may hold delimiters, quotes (doubled or
 * escaped) and newlines inside quotes, and only an unquoted field equal to the NULL string
 * is NULL.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { CopyOptions } from './copy-options.js'

/** One line (or CSV record) longer than this is refused: COPY data is rows, not blobs. */
export const MAX_LINE_CHARS = 64 * 1024 * 1024

export type CopyRow = Array<string | null>

export class CopyReader {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })
  private pending = ''
  private headerSkipped: boolean
  private ended = false
  /** Line number of the next line, for error messages. */
  line = 1

  private readonly options: CopyOptions

  constructor(options: CopyOptions) {
    this.options = options
    this.headerSkipped = !options.header
  }

  /** Rows complete in the data so far. */
  push(chunk: Uint8Array): CopyRow[] {
    if (this.ended) return []
    let text: string
    try {
      text = this.decoder.decode(chunk, { stream: true })
    } catch {
      throw new SqlError(SqlState.characterNotInRepertoire, `invalid byte sequence for encoding "UTF8" in COPY data, line ${this.line}`)
    }
    this.pending += text
    return this.take(false)
  }

  /** The rows left once the data ended (a last line without a newline included). */
  finish(): CopyRow[] {
    if (this.ended) return []
    try {
      this.pending += this.decoder.decode()
    } catch {
      throw new SqlError(SqlState.characterNotInRepertoire, `invalid byte sequence for encoding "UTF8" in COPY data, line ${this.line}`)
    }
    return this.take(true)
  }

  private take(final: boolean): CopyRow[] {
    const rows: CopyRow[] = []
    let start = 0
    const s = this.pending
    for (;;) {
      const end = this.options.format === 'csv' ? csvRecordEnd(s, start, this.options) : s.indexOf('\n', start)
      if (end < 0) break
      this.lineDone(s.slice(start, end), rows)
      start = end + 1
      if (this.ended) {
        this.pending = ''
        return rows
      }
    }
    this.pending = s.slice(start)
    if (final && this.pending.length > 0) {
      this.lineDone(this.pending, rows)
      this.pending = ''
    }
    if (this.pending.length > MAX_LINE_CHARS) throw new SqlError(SqlState.programLimitExceeded, `COPY line ${this.line} is longer than ${MAX_LINE_CHARS} characters`)
    return rows
  }

  private lineDone(raw: string, rows: CopyRow[]): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    this.line += 1
    if (line === '\\.') {
      this.ended = true
      return
    }
    if (!this.headerSkipped) {
      this.headerSkipped = true
      return
    }
    rows.push(this.options.format === 'csv' ? csvFields(line, this.options, this.line - 1) : textFields(line, this.options, this.line - 1))
  }
}

/** Index of the newline that ends the CSV record starting at `from` (newlines inside quotes do not), or -1. */
function csvRecordEnd(s: string, from: number, o: CopyOptions): number {
  let quoted = false
  for (let i = from; i < s.length; i++) {
    const c = s[i]!
    if (quoted) {
      if (c === o.escape && o.escape !== o.quote && s[i + 1] === o.quote) i++
      else if (c === o.quote) quoted = false
    } else if (c === o.quote) quoted = true
    else if (c === '\n') return i
  }
  return -1
}

function csvFields(line: string, o: CopyOptions, lineNo: number): CopyRow {
  const out: CopyRow = []
  let i = 0
  for (;;) {
    let value = ''
    let quotedAny = false
    while (i < line.length && line[i] !== o.delimiter) {
      const c = line[i]!
      if (c === o.quote) {
        quotedAny = true
        i++
        for (;;) {
          if (i >= line.length) throw new SqlError(SqlState.badCopyFileFormat, `unterminated CSV quoted field, line ${lineNo}`)
          const q = line[i]!
          if (q === o.escape && line[i + 1] === o.quote) {
            value += o.quote
            i += 2
          } else if (q === o.quote) {
            i++
            break
          } else {
            value += q
            i++
          }
        }
      } else {
        value += c
        i++
      }
    }
    out.push(!quotedAny && value === o.null ? null : value)
    if (i >= line.length) return out
    i++ // the delimiter
  }
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

function textFields(line: string, o: CopyOptions, lineNo: number): CopyRow {
  // Split on delimiters not escaped by a backslash; an empty line is one empty field.
  const out: CopyRow = []
  let start = 0
  for (let i = 0; i <= line.length; i++) {
    if (line[i] === '\\') {
      i++
      continue
    }
    if (i === line.length || line[i] === o.delimiter) {
      const raw = line.slice(start, i)
      out.push(raw === o.null ? null : unescapeText(raw, lineNo))
      start = i + 1
    }
  }
  return out
}

function unescapeText(raw: string, lineNo: number): string {
  if (!raw.includes('\\')) return raw
  let out = ''
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!
    if (c !== '\\') {
      out += c
      continue
    }
    const n = raw[++i]
    if (n === undefined) throw new SqlError(SqlState.badCopyFileFormat, `end-of-copy marker corrupt, line ${lineNo}`)
    if (n in ESCAPES) out += ESCAPES[n]
    else if (n >= '0' && n <= '7') {
      let digits = n
      while (digits.length < 3 && raw[i + 1] !== undefined && raw[i + 1]! >= '0' && raw[i + 1]! <= '7') digits += raw[++i]
      out += String.fromCharCode(parseInt(digits, 8) & 0xff)
    } else if (n === 'x' && /[0-9a-fA-F]/.test(raw[i + 1] ?? '')) {
      let digits = raw[++i]!
      if (/[0-9a-fA-F]/.test(raw[i + 1] ?? '')) digits += raw[++i]
      out += String.fromCharCode(parseInt(digits, 16))
    } else out += n
  }
  return out
}
