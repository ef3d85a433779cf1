/**
 * How large one stored row may be. A row replicates as one unit (a Yjs update of its
 * shard), and a 100 MB row stalled replication between two nodes for good (fragments
 * dropped, links flapping), so a write that would make a row larger than the limit is
 * refused up front with 54000, as PostgreSQL refuses a row that does not fit a page.
 * Every write of table rows goes through TransactionRows, so the wire protocol, embedded
 * `db.query`, COPY and browser replicas all meet the same limit.
 *
 * The size is the stored values' bytes: text as UTF-8, bytea as its bytes, every other
 * value 8. Invariants: a write is measured before it reaches core; an UPDATE that sets a
 * value of LARGE_VALUE bytes or more is measured with the rest of its row (smaller values
 * alone cannot take a row of at most 1,600 columns far past the limit: at most 1,600 KiB).
 */
import { DEFAULT_MAX_REMOTE_VALUE_BYTES, type Row, type Value } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'

/**
 * The default, 16 MiB: such rows replicate in seconds on a loaded machine (docs/security.md);
 * the same number core refuses in a remote update (a value past it never came from here).
 */
export const DEFAULT_MAX_ROW_BYTES = DEFAULT_MAX_REMOTE_VALUE_BYTES

/** A value at least this large makes an UPDATE measure its whole row. */
const LARGE_VALUE = 1024

/** Bytes of a string in UTF-8, without encoding it. */
function utf8Bytes(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    // Two bytes up to U+07FF, three beyond; a surrogate pair (4 bytes) is two code units of 2.
    n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2
  }
  return n
}

/** Stored bytes of one value (cheap for short strings: at most 3 bytes per UTF-16 unit). */
function valueBytes(v: Value | undefined, limit: number): number {
  if (typeof v === 'string') return v.length * 3 <= limit ? v.length : utf8Bytes(v)
  if (v instanceof Uint8Array) return v.byteLength
  return 8
}

function isLarge(v: Value | undefined): boolean {
  return (typeof v === 'string' || v instanceof Uint8Array) && (typeof v === 'string' ? v.length : v.byteLength) >= LARGE_VALUE
}

/** Throws 54000 when `row` (every column, or `changes` over `current`) is past `limit` bytes. */
export function checkRowSize(table: string, row: Row, limit: number, current?: () => Row | undefined): void {
  let size = 0
  let large = false
  for (const c in row) {
    const v = row[c]
    size += valueBytes(v, limit)
    if (!large && isLarge(v)) large = true
  }
  if (current !== undefined) {
    if (!large) return
    const before = current()
    if (before !== undefined) for (const c in before) if (!(c in row)) size += valueBytes(before[c], limit)
  }
  if (size > limit) {
    throw new SqlError(SqlState.programLimitExceeded, `row is too big: size ${size}, maximum size ${limit}`, {
      detail: `A row of table "${table}" may hold at most ${limit} bytes of values (it replicates as one unit).`,
      hint: 'Store large objects outside the database and keep a reference, or split the value over several rows.',
    })
  }
}
