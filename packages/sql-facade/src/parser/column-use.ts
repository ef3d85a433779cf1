/**
 * Which columns a SELECT reads from each table it names, so a scan decodes only those
 * (plan/table-scan.ts) instead of every column of every row: `SELECT grp, count(*) FROM
 * t GROUP BY grp` need not decode a wide `body` column 100,000 times.
 *
 * The answer is deliberately coarse and errs towards decoding more: the columns a scan of
 * a FROM item `t` decodes are every name that appears anywhere in the statement as a
 * `String` node (column references, qualified or not, in any subquery, correlated or
 * not; USING lists; and, harmlessly, function, type and operator names). A column the
 * statement reads is always among them: outside that list, a column can only be read by
 *
 * - `*` or `t.*` (a select list, `count(t.*)`, `row_to_json(t.*)`, `(c).*`): the whole
 *   statement reads whole rows; the one exception is a bare `*` in the select list of an
 *   `EXISTS (SELECT * ..)` without DISTINCT, whose rows are only counted;
 * - a whole-row reference (`SELECT t FROM t`, `f(t)`, `(t).col`, `count(t)`): a
 *   one-field column reference spelling the item's alias or table name makes that item
 *   read whole rows;
 * - column aliases (`FROM t AS x(a, b)`): the references use the new names, so that item
 *   reads whole rows; on a join (`(a JOIN b) AS x(c, d)`), or a join alias read as a whole
 *   row (`SELECT x FROM (a JOIN b) AS x`), every item of the statement does (they read
 *   NULL before);
 * - NATURAL JOIN (the joined columns are not named): whole rows;
 * - a statement that writes (INSERT, UPDATE, DELETE, MERGE in a WITH), or locks rows
 *   (FOR UPDATE), or creates a table (SELECT INTO): whole rows; UPDATE writes whole rows
 *   back and is never analysed;
 * - a view's or a SQL function's own query: it is a different parse tree, whose FROM
 *   items are not in this statement's answer, so they read whole rows. The answer is a
 *   map from this statement's own `RangeVar` nodes; a scan of any other node decodes
 *   everything;
 * - partition routing, `shard_location`, `tableoid` and inheritance read columns the
 *   statement need not name: the planner (plan/from.ts) decodes whole rows for those.
 *
 * Parse trees are cached and shared (parse.ts, literal-template.ts: a tree made from a
 * template shares every subtree without a literal, its `RangeVar`s included), so the
 * answer is memoized per shared tree, as column-mention.ts is.
 */
import type { Node, RangeVar } from 'libpg-query'
import { sharedNode } from './literal-template.js'

/** The columns a scan of one of the statement's FROM items must decode; null for every column. */
export type ColumnUse = (item: RangeVar) => ReadonlySet<string> | null

const memo = new WeakMap<object, ColumnUse | null>()

/** The column use of a top-level SELECT, or null when it must read whole rows everywhere. */
export function columnUseOf(tree: Node): ColumnUse | null {
  const key = sharedNode(tree)
  let found = memo.get(key)
  if (found === undefined) memo.set(key, (found = analyse(key)))
  return found
}

interface Found {
  names: Set<string>
  /** One-field column references: possibly whole-row references to a FROM item. */
  single: Set<string>
  items: RangeVar[]
  /** Aliases of parenthesized joins: `(a JOIN b) AS x (c1, c2)`. */
  joinAliases: Array<{ aliasname?: string; colnames?: Node[] }>
  unsafe: boolean
}

const WRITES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'])

function analyse(tree: Node): ColumnUse | null {
  if (!('SelectStmt' in tree)) return null
  const f: Found = { names: new Set(), single: new Set(), items: [], joinAliases: [], unsafe: false }
  walk(tree, f)
  if (f.unsafe) return null
  if (f.joinAliases.some((a) => (a.colnames?.length ?? 0) > 0 || (a.aliasname !== undefined && f.single.has(a.aliasname)))) return null
  const byItem = new Map<RangeVar, ReadonlySet<string>>()
  for (const rv of f.items) {
    if (rv.alias?.colnames?.length) continue
    const alias = rv.alias?.aliasname ?? rv.relname ?? ''
    if (f.single.has(alias) || (rv.relname !== undefined && f.single.has(rv.relname))) continue
    byItem.set(rv, f.names)
  }
  return (item) => byItem.get(item) ?? null
}

function walk(node: unknown, f: Found): void {
  if (f.unsafe || !node || typeof node !== 'object') return
  if (Array.isArray(node)) {
    for (const x of node) walk(x, f)
    return
  }
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (f.unsafe) return
    if (k === 'A_Star' || WRITES.has(k)) {
      f.unsafe = true
      return
    }
    if (k === 'String') {
      const s = (v as { sval?: string }).sval
      if (s !== undefined) f.names.add(s)
      continue
    }
    if (k === 'RangeVar') {
      f.items.push(v as RangeVar)
      walk(v, f)
      continue
    }
    if (k === 'ColumnRef') {
      const fields = (v as { fields?: Node[] }).fields ?? []
      const first = fields[0]
      if (fields.length === 1 && first && 'String' in first && first.String.sval !== undefined) f.single.add(first.String.sval)
      walk(fields, f)
      continue
    }
    if (k === 'JoinExpr' && (v as { isNatural?: boolean }).isNatural) {
      f.unsafe = true
      return
    }
    if (k === 'JoinExpr') {
      const alias = (v as { alias?: { aliasname?: string; colnames?: Node[] } }).alias
      if (alias !== undefined) f.joinAliases.push(alias)
    }
    if ((k === 'lockingClause' || k === 'intoClause') && v && (!Array.isArray(v) || v.length > 0)) {
      f.unsafe = true
      return
    }
    if (k === 'SubLink') {
      walk(existsWithoutStar(v as Record<string, unknown>), f)
      continue
    }
    walk(v, f)
  }
}

/** `EXISTS (SELECT * ..)` without DISTINCT: its rows are only counted, so its bare `*` targets are left out. */
function existsWithoutStar(link: Record<string, unknown>): Record<string, unknown> {
  if (link['subLinkType'] !== 'EXISTS_SUBLINK') return link
  const sub = link['subselect'] as { SelectStmt?: { targetList?: Node[]; distinctClause?: unknown } } | undefined
  const sel = sub?.SelectStmt
  if (!sel?.targetList || sel.distinctClause !== undefined) return link
  const targetList = sel.targetList.filter((t) => !isBareStar(t))
  return { ...link, subselect: { SelectStmt: { ...sel, targetList } } }
}

function isBareStar(t: Node): boolean {
  if (!('ResTarget' in t)) return false
  const val = t.ResTarget.val
  if (!val || !('ColumnRef' in val)) return false
  const fields = val.ColumnRef.fields ?? []
  return fields.length === 1 && 'A_Star' in fields[0]!
}
