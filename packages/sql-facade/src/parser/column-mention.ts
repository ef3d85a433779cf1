/**
 * Whether a statement names a column anywhere (`shard_location`, a hidden pseudo-column
 * that base tables expose only to statements naming it). Read from the parse tree, so a
 * string literal or a comment containing the word does not count. Parse trees are cached
 * and shared between executions (parse.ts), so the answer is memoized per tree (per
 * template for trees made from one, literal-template.ts).
 */
import type { Node } from 'libpg-query'
import { stringValue } from './name-list.js'
import { sharedNode } from './literal-template.js'

const memo = new WeakMap<object, Map<string, boolean>>()

export function mentionsColumn(tree: Node, column: string): boolean {
  // A tree made from a shape's template names the template's columns.
  const key = sharedNode(tree)
  let byName = memo.get(key)
  if (!byName) memo.set(key, (byName = new Map()))
  let found = byName.get(column)
  if (found === undefined) byName.set(column, (found = walk(tree, column)))
  return found
}

function walk(node: unknown, column: string): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) {
    // Indexed: a closure for `some` per array was most of what a 1,000-row VALUES walk allocated.
    for (let i = 0; i < node.length; i++) if (walk(node[i], column)) return true
    return false
  }
  const o = node as Record<string, unknown>
  // A literal names nothing (a bulk INSERT's VALUES rows are thousands of them).
  if (o['A_Const'] !== undefined) return false
  const ref = o['ColumnRef'] as { fields?: Node[] } | undefined
  if (ref?.fields && stringValue(ref.fields[ref.fields.length - 1]) === column) return true
  for (const k in o) if (walk(o[k], column)) return true
  return false
}
