/**
 * A relation the executor produces or consumes: its columns, and a function yielding its
 * rows given the environment of the enclosing query (for correlated subqueries).
 */
import type { ColumnBinding, Env } from '../expr/scope.js'
import type { RtValue } from '../types/value.js'

export interface Relation {
  columns: ColumnBinding[]
  rows(outer: Env | null): RtValue[][]
}
