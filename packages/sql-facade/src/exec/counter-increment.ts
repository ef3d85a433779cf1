/**
 * Recognizing a counter increment in an assignment: `SET c = c + n`, `c = n + c` and
 * `c = c - n` (the column possibly qualified by its table or alias). Such an assignment
 * to a counter column is written as a core increment of `n`, so increments made on several
 * nodes at once all add up; any other assignment sets the counter's total.
 */
import type { Node } from 'libpg-query'
import { nameList } from '../parser/name-list.js'

export interface Increment {
  /** The expression added (`n`). */
  delta: Node
  /** `c - n`: the increment is `-n`. */
  negate: boolean
}

function refersTo(n: Node, column: string, qualifiers: string[]): boolean {
  if (!('ColumnRef' in n)) return false
  const names = nameList(n.ColumnRef.fields)
  if (names.length === 1) return names[0] === column
  return names.length === 2 && names[1] === column && qualifiers.includes(names[0]!)
}

/** The increment `value` applies to `column`, or null when it is not of the form c ± n. */
export function incrementOf(value: Node, column: string, qualifiers: string[]): Increment | null {
  if (!('A_Expr' in value) || value.A_Expr.kind !== 'AEXPR_OP') return null
  const { lexpr, rexpr } = value.A_Expr
  if (!lexpr || !rexpr) return null
  const op = nameList(value.A_Expr.name).pop()
  if (op === '+' && refersTo(lexpr, column, qualifiers)) return { delta: rexpr, negate: false }
  if (op === '+' && refersTo(rexpr, column, qualifiers)) return { delta: lexpr, negate: false }
  if (op === '-' && refersTo(lexpr, column, qualifiers)) return { delta: rexpr, negate: true }
  return null
}
