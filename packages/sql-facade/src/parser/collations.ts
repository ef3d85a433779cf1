/**
 * Collations a statement names: `expr COLLATE "x"`, a column's `COLLATE "x"`, an index or
 * partition key element's collation. Concord compares and orders text in one way only, by
 * code point (PostgreSQL's "C" collation), so a collation that orders otherwise ("en_US",
 * "de-x-icu", "und-x-icu") is refused with 0A000 rather than accepted and ignored (it was
 * ignored until 2026-12-03: `ORDER BY name COLLATE "en_US"` sorted in code point order).
 *
 * Accepted: the names that mean code point order in a UTF8 database ("C", "POSIX",
 * "ucs_basic", "C.utf8", "C.UTF-8") and "default" (the database's collation, which is C),
 * optionally qualified by pg_catalog. Memoized per shared parse tree, as column-mention.ts is.
 */
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { sharedNode } from './literal-template.js'

const COLLATE_WORD = /collat/i
const CODE_POINT_ORDER = new Set(['C', 'POSIX', 'ucs_basic', 'C.utf8', 'C.UTF-8', 'default'])

/** The first collation name in `tree` Concord cannot honour, or null. */
const memo = new WeakMap<object, string | null>()

/** Throws 0A000 if `tree` (parsed from `text`) names a collation other than code point order. */
export function checkCollations(tree: Node, text: string): void {
  // Every way of naming a collation spells COLLATE or COLLATION.
  if (!COLLATE_WORD.test(text)) return
  const key = sharedNode(tree)
  let found = memo.get(key)
  if (found === undefined) memo.set(key, (found = walk(tree)))
  if (found !== null) {
    throw new SqlError(SqlState.featureNotSupported, `collation "${found}" is not supported`, {
      hint: 'Concord compares text in the "C" collation (code point order): leave out COLLATE, or use COLLATE "C".',
    })
  }
}

/** A collation name (a list of String nodes, schema-qualified or not) if it is not code point order. */
function unsupported(names: unknown): string | null {
  if (!Array.isArray(names) || names.length === 0) return null
  const parts = names.map((n) => (n as { String?: { sval?: string } }).String?.sval ?? '')
  const name = parts[parts.length - 1]!
  const schema = parts.length > 1 ? parts[parts.length - 2] : 'pg_catalog'
  return schema === 'pg_catalog' && CODE_POINT_ORDER.has(name) ? null : parts.join('.')
}

function walk(node: unknown): string | null {
  if (!node || typeof node !== 'object') return null
  if (Array.isArray(node)) {
    for (const n of node) {
      const found = walk(n)
      if (found !== null) return found
    }
    return null
  }
  const o = node as Record<string, unknown>
  const clause = o['CollateClause'] as { collname?: unknown } | undefined
  if (clause !== undefined) {
    const found = unsupported(clause.collname)
    if (found !== null) return found
  }
  for (const kind of ['ColumnDef', 'IndexElem', 'PartitionElem']) {
    const el = o[kind] as { collClause?: { collname?: unknown }; collation?: unknown } | undefined
    if (el === undefined) continue
    const found = unsupported(el.collClause?.collname) ?? unsupported(el.collation)
    if (found !== null) return found
  }
  for (const v of Object.values(o)) {
    const found = walk(v)
    if (found !== null) return found
  }
  return null
}
