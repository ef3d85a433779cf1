/**
 * What a federated read of one table asks its holder for, given the statement that reads
 * it: the request text a `ROWS_REQ` carries (core `Replica.readFromHolder`), applied by
 * the holder in exec/row-filter.ts.
 *
 * - Only conditions (pushdown-filter.ts): the bare condition (`"a" = 1 AND ..`).
 * - With a projection or a limit: a statement over the table's columns,
 *   `SELECT "a", "b" WHERE <condition> ORDER BY "a" DESC NULLS LAST LIMIT 10` (no FROM:
 *   the request names its table apart). A holder that does not know this form (it takes
 *   the text as a condition and finds a subquery) sends every row and column: the answer
 *   stays right, only larger.
 *
 * Projection: the columns the statement reads of the table, from the scan column-use
 * analysis (parser/column-use.ts, decision 0020) with the planner's own exceptions (a
 * partitioned table, `shard_location`, `tableoid`, an inheritance parent), plus the
 * primary key (rows read from a holder are looked up by it). The others arrive as NULL,
 * which the statement's scan never decodes.
 *
 * Limit: only when the statement's result is its first rows of the table as filtered:
 * the table is the one FROM item, every WHERE term went to the holder, and there is no
 * grouping, aggregate or other function call, DISTINCT, window, locking or set
 * operation; `LIMIT n OFFSET m` asks for n + m rows. With an ORDER BY of plain columns of
 * the table (not renamed by the select list), each holder sends its own first rows in
 * that order (a top-N per holder, whose union holds the statement's first rows); any
 * other ORDER BY sends no limit. The statement still sorts and limits here.
 */
import type { TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { hasChildren } from '../catalog/table-inheritance.js'
import { columnUseOf } from '../parser/column-use.js'
import { mentionsColumn } from '../parser/column-mention.js'
import { nameList } from '../parser/name-list.js'
import { pushdownTerms, quoteIdent } from './pushdown-filter.js'

/** What the read of one table may use of the catalog. */
export interface PushdownCatalog {
  table(name: string): TableInfo | undefined
  tables(): readonly TableInfo[]
}

/** Most rows a pushed limit asks for (a larger one is not pushed). */
const MAX_PUSHED_LIMIT = 1_000_000

/** Whether `node` contains a node of one of `kinds` anywhere. */
function contains(node: unknown, kinds: readonly string[]): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some((x) => contains(x, kinds))
  return Object.entries(node as Record<string, unknown>).some(([k, v]) => kinds.includes(k) || contains(v, kinds))
}

/** A non-negative integer constant; null for anything else (a parameter, an expression, NULL/ALL). */
function count(node: Node | undefined): number | null {
  if (node === undefined) return 0
  if (!('A_Const' in node) || node.A_Const.ival === undefined) return null
  const n = node.A_Const.ival.ival ?? 0
  return n >= 0 ? n : null
}

/** The request text for a federated read of `info` by `node` with bound `params` ('' for every row and column). */
export function pushdownRequest(node: Node, info: TableInfo, catalog: PushdownCatalog, params: readonly unknown[] = []): string {
  const terms = pushdownTerms(node, info, (name) => catalog.table(name)?.columns.map((c) => c.name), params)
  if (terms.item === null || !('SelectStmt' in node)) return terms.filter
  const s = node.SelectStmt
  const rv = terms.item
  const names = new Set(info.columns.map((c) => c.name))
  let columns: string[] | null = null
  const use = columnUseOf(node)?.(rv) ?? null
  const projectable = use !== null && !info.partitioning && !mentionsColumn(node, 'shard_location') && !mentionsColumn(node, 'tableoid') && !hasChildren(catalog.tables(), info.name)
  if (projectable) {
    const keep = info.columns.map((c) => c.name).filter((c) => use.has(c) || info.primaryKey.includes(c))
    if (keep.length < info.columns.length) columns = keep
  }
  let limit: number | null = null
  let order: string[] = []
  const plain = terms.whole && s.limitCount !== undefined && s.limitOption !== 'LIMIT_OPTION_WITH_TIES' &&
    !s.groupClause?.length && !s.havingClause && !s.distinctClause?.length && !s.windowClause?.length && !s.lockingClause?.length &&
    !s.intoClause && !s.withClause && !contains(s.targetList, ['FuncCall', 'SubLink', 'WindowDef'])
  const n = plain ? count(s.limitCount) : null
  const skip = plain ? count(s.limitOffset) : null
  if (n !== null && skip !== null && n + skip <= MAX_PUSHED_LIMIT) {
    const qualifier = rv.alias?.aliasname ?? info.name
    // Output names of the select list: an ORDER BY name that is one sorts by that output.
    const renamed = new Set((s.targetList ?? []).flatMap((t) => ('ResTarget' in t && t.ResTarget.name !== undefined ? [t.ResTarget.name] : [])))
    const keys: string[] = []
    for (const item of s.sortClause ?? []) {
      if (!('SortBy' in item) || item.SortBy.node === undefined || !('ColumnRef' in item.SortBy.node)) break
      const sb = item.SortBy
      if (sb.sortby_dir === 'SORTBY_USING') break
      const ref = nameList((sb.node as Extract<Node, { ColumnRef: unknown }>).ColumnRef.fields)
      const col = ref.length === 2 && ref[0] === qualifier ? ref[1]! : ref.length === 1 && !renamed.has(ref[0]!) ? ref[0]! : null
      if (col === null || !names.has(col)) break
      const dir = sb.sortby_dir === 'SORTBY_DESC' ? ' DESC' : ''
      const nulls = sb.sortby_nulls === 'SORTBY_NULLS_FIRST' ? ' NULLS FIRST' : sb.sortby_nulls === 'SORTBY_NULLS_LAST' ? ' NULLS LAST' : ''
      keys.push(`${quoteIdent(col)}${dir}${nulls}`)
    }
    if (keys.length === (s.sortClause ?? []).length) {
      limit = n + skip
      order = keys
    }
  }
  if (columns === null && limit === null) return terms.filter
  const list = columns === null ? '*' : columns.map(quoteIdent).join(', ')
  const where = terms.filter === '' ? '' : ` WHERE ${terms.filter}`
  const by = order.length === 0 ? '' : ` ORDER BY ${order.join(', ')}`
  return `SELECT ${list}${where}${by}${limit === null ? '' : ` LIMIT ${limit}`}`
}
