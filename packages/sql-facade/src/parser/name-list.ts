/**
 * Names in the parse tree: libpg-query spells a qualified name (`pg_catalog.int4`,
 * `t.col`, a function or operator name) as a list of `String` nodes. Anything else in
 * such a list (`*`) reads as the empty string.
 */
import type { Node } from 'libpg-query'

/** The text of one `String` node; '' for any other node. */
export function stringValue(n: Node | undefined): string {
  if (n && 'String' in n) return n.String.sval ?? ''
  return ''
}

/** The parts of a qualified name, in order. */
export function nameList(nodes: Node[] | undefined): string[] {
  return (nodes ?? []).map(stringValue)
}
