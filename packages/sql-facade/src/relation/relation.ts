/**
 * A relation the executor produces or consumes: its columns, and a function yielding its
 * rows given the environment of the enclosing query (for correlated subqueries).
 */
import type { ColumnBinding, Env } from './scope.js'
import type { RtValue } from '../types/value.js'

export interface Relation {
  columns: ColumnBinding[]
  rows(outer: Env | null): RtValue[][]
  /**
   * The same rows in the same order, produced lazily, where producing all of them may
   * not end (a recursive CTE) or costs more than a consumer may need (a table's scan):
   * a consumer that needs only the first rows stops early.
   */
  stream?(outer: Env | null): Iterable<RtValue[]>
  /**
   * The same rows, handed to `visit` one at a time and not kept, so a consumer that keeps
   * few of them (an aggregation) lets them die young instead of holding every row of a
   * scan at once. Which rows is settled before the first visit, as `rows` would settle it.
   */
  each?(outer: Env | null, visit: (row: RtValue[]) => void): void
  /**
   * The same rows (those the relation's own bounds let through) in the order of one of
   * its columns, `column`, ascending or descending, lazily; its values are never null and
   * never repeat (a table's single-column primary key). `rows` returns null when the order
   * cannot be read now (no index to walk, or the transaction wrote the table): read `rows`.
   */
  ordered?: { column: number; rows(outer: Env | null, desc: boolean): Iterable<RtValue[]> | null }
}

/** A FROM clause's relation: what SELECT needs beyond the rows. */
export interface FromRelation extends Relation {
  /** Primary-key columns of base tables by alias, for GROUP BY functional dependency. */
  primaryKeys: Map<string, string[]>
  /** Column positions in the order `*` lists them (JOIN .. USING puts the join columns first); all in order when absent. */
  star?: number[]
}
