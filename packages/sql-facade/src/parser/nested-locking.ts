/**
 * Whether a statement has a row-locking clause (`FOR UPDATE`, `FOR NO KEY UPDATE`,
 * `FOR SHARE`, `FOR KEY SHARE`) anywhere but on its top-level SELECT: in a subquery, a
 * common table expression, a UNION arm, or the SELECT of an INSERT. Only the top-level
 * SELECT of one table locks rows (exec/locking-select.ts), so such a statement is refused
 * rather than run without the locks it asks for. Memoized per shared parse tree, as
 * column-mention.ts is.
 */
import type { Node } from 'libpg-query'
import { sharedNode } from './literal-template.js'

const memo = new WeakMap<object, boolean>()

export function hasNestedLockingClause(tree: Node): boolean {
  const key = sharedNode(tree)
  let found = memo.get(key)
  if (found === undefined) {
    // The top-level SELECT's own clause is allowed; everything beneath it is searched.
    const top = 'SelectStmt' in tree ? { ...tree.SelectStmt, lockingClause: undefined } : tree
    memo.set(key, (found = walk(top)))
  }
  return found
}

function walk(node: unknown): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some(walk)
  const o = node as Record<string, unknown>
  // A literal holds no SELECT (a bulk INSERT's VALUES rows are thousands of them).
  if (o['A_Const'] !== undefined) return false
  const select = o['SelectStmt'] as { lockingClause?: unknown[] } | undefined
  if (select?.lockingClause?.length) return true
  for (const k in o) if (walk(o[k])) return true
  return false
}
