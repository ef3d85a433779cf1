/**
 * Whether a remote update carries a value larger than this replica accepts. The SQL layer
 * refuses such rows when they are written (sql-facade runtime/row-size.ts), so only a
 * peer with a larger limit, an older version or a hostile one sends them; a 100 MB row
 * stalled replication between two nodes for good. The receiver refuses the update (as
 * it refuses a malformed one) instead of applying and re-sending it.
 *
 * One value is one Yjs item's content: a row entry (its column values, as the codec
 * wrote them) or one insertion into a text column. Only an update longer than the limit
 * is decoded, so ordinary updates cost a length comparison.
 *
 * Invariants: an update no longer than `limit` bytes is never refused here; the answer
 * depends only on the update's bytes. Throws on a malformed update (the caller's apply
 * would have thrown too).
 */
import * as Y from 'yjs'

/** The default limit: the SQL layer's default row limit (16 MiB). */
export const DEFAULT_MAX_REMOTE_VALUE_BYTES = 16 * 1024 * 1024

/** Bytes of the largest item content in `update` when it is larger than `limit`; else 0. */
export function oversizedValue(update: Uint8Array, limit: number): number {
  if (update.length <= limit) return 0
  let largest = 0
  for (const s of Y.decodeUpdate(update).structs) {
    if (!(s instanceof Y.Item)) continue
    const n = contentBytes(s.content)
    if (n > largest) largest = n
  }
  return largest > limit ? largest : 0
}

function contentBytes(c: Y.Item['content']): number {
  if (c instanceof Y.ContentString) return c.str.length
  if (c instanceof Y.ContentBinary) return c.content.byteLength
  if (c instanceof Y.ContentAny || c instanceof Y.ContentJSON) {
    let n = 0
    for (const v of c.arr as unknown[]) n += typeof v === 'string' ? v.length : v instanceof Uint8Array ? v.byteLength : 8
    return n
  }
  return 0
}
