/**
 * A relation the executor produces or consumes: its columns, and a function yielding its
 * rows given the environment of the enclosing query (for correlated subqueries).
 */
import type { ColumnBinding, Env } from './scope.js'
import type { RtValue } from '../types/value.js'

export interface Relation {
  columns: ColumnBinding[]
  rows(outer: Env | null): RtValue[][]
}

/** A FROM clause's relation: what SELECT needs beyond the rows. */
export interface FromRelation extends Relation {
  /** Primary-key columns of base tables by alias, for GROUP BY functional dependency. */
  primaryKeys: Map<string, string[]>
  /** Column positions in the order `*` lists them (JOIN .. USING puts the join columns first); all in order when absent. */
  star?: number[]
}
