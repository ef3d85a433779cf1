/**
 * What the rows a portal keeps for later Executes cost a connection, and the bound on them.
 * Concord runs a statement to the end at its first Execute (or Describe) and keeps the
 * whole result in the portal; Execute with a row limit then sends it in slices, leaving the
 * portal suspended. One connection with many suspended portals would hold many results at
 * once, each up to what `statement_mem` allowed its statement, so the rows suspended
 * portals keep are counted per connection (wire-session.ts):
 *
 * Invariants: a connection's suspended portals keep at most `maxPortalRowBytes` (default
 * 256 MiB) of rows, estimated here, or one portal's rows when a single portal keeps more
 * (its statement was bounded by statement_mem already, so one cursor over a large result
 * still works). A portal whose suspension would pass the bound while other portals keep
 * rows fails with 53200 and is dropped, keeping nothing. A portal gives its rows up once
 * it has sent them all, and when it is closed (Close, Sync for the unnamed one, a new Bind
 * of its name).
 */
import { SqlError, SqlState } from '@concord/sql-facade'

export const DEFAULT_MAX_PORTAL_ROW_BYTES = 256 * 1024 * 1024

/** Bytes a row takes beyond its values (array and object headers), as statement_mem counts it. */
const ROW_OVERHEAD = 48
/** Bytes a value takes beyond its own characters or bytes. */
const VALUE_OVERHEAD = 8

function valueBytes(v: unknown): number {
  if (typeof v === 'string') return VALUE_OVERHEAD + v.length
  if (v instanceof Uint8Array) return VALUE_OVERHEAD + v.byteLength
  return VALUE_OVERHEAD
}

/** An estimate of the memory `rows` (a wire result's rows: arrays or objects of text) hold. */
export function rowBytes(rows: ReadonlyArray<unknown[] | Record<string, unknown>>): number {
  let n = 0
  for (const row of rows) {
    n += ROW_OVERHEAD
    const values = Array.isArray(row) ? row : Object.values(row)
    for (const v of values) n += valueBytes(v)
  }
  return n
}

/** 53200 for a portal that would leave the connection's suspended portals holding `held` bytes of rows. */
export function portalRowsExceeded(held: number, max: number): SqlError {
  return new SqlError(SqlState.outOfMemory, 'out of memory', {
    detail: `Suspended portals of this connection would keep ${held} bytes of rows, more than ${max}.`,
    hint: 'Fetch the rest of the rows of, or close, the portals (cursors) no longer needed.',
  })
}
