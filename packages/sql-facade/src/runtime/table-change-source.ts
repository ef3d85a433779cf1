/**
 * A node's table change feed as the SQL functions see it (table-changes.ts), apart from
 * the feed itself (live/change-feed.ts), so the statement context can carry it without
 * importing either.
 */

/** One change as concord_changes lists it. */
export interface TableChange {
  position: string
  op: 'insert' | 'update' | 'delete'
  /** The row as json text (`{"id":1,"name":"a"}`). */
  row: string
}

export interface TableChangeSource {
  /** The position now; starts following `table` here. */
  position(table: string): string
  /** The changes after `since`, oldest first; 55000 when they are no longer held, 22023 for a malformed position. */
  since(table: string, since: string): TableChange[]
}
