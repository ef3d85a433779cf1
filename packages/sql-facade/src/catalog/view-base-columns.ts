/**
 * Which column of its one base relation each column of a view is, as privilege checks
 * need it: writing column `a` of a view writes the base column the view shows as `a`, and
 * PostgreSQL checks the view owner's privilege on that base column (auth/access-check.ts).
 * The same reading of the view's query as writing through it (exec/view-write.ts): a plain
 * column reference, bare or qualified by the relation's name or alias, is that column;
 * `*` is every visible column of the relation in order; anything else is no column.
 *
 * Invariants: only views selecting FROM exactly one relation have base columns (others
 * cannot be written through); a view column is mapped by position, as the view stored it.
 */
import type { Node, SelectStmt } from 'libpg-query'
import { columnMeta } from './table-meta.js'
import type { GrantTargetSource } from './grant-target.js'
import { readView, type ViewDef, type ViewSource } from './view-def.js'
import { nameList } from '../parser/name-list.js'

export interface ViewBase {
  /** The one relation the view reads. */
  relation: string
  /** View column name -> the base column it is (absent: an expression). */
  columns: Map<string, string>
}

/** The base relation and columns of a view reading one relation; undefined for any other view. */
export function viewBase(view: ViewDef, source: GrantTargetSource & ViewSource): ViewBase | undefined {
  const sel = view.query as unknown as SelectStmt
  const from = sel.fromClause ?? []
  if (from.length !== 1 || !('RangeVar' in from[0]!) || (sel.op !== undefined && sel.op !== 'SETOP_NONE')) return undefined
  const rv = from[0].RangeVar
  const relation = rv.relname ?? ''
  const table = source.table(relation)
  const visible = table ? table.columns.filter((c) => !columnMeta(c).hidden).map((c) => c.name) : readView(source, relation)?.columns.map((c) => c.name)
  if (visible === undefined) return undefined
  const qualifier = rv.alias?.aliasname ?? relation
  const sources: Array<string | null> = []
  for (const t of sel.targetList ?? []) {
    if (!('ResTarget' in t) || !t.ResTarget.val) continue
    const val: Node = t.ResTarget.val
    const ref = 'ColumnRef' in val ? val.ColumnRef.fields ?? [] : null
    if (ref?.some((f) => 'A_Star' in f)) {
      sources.push(...visible)
      continue
    }
    const names = ref === null ? null : nameList(ref)
    const plain = names !== null && ((names.length === 1 && visible.includes(names[0]!)) || (names.length === 2 && names[0] === qualifier && visible.includes(names[1]!)))
    sources.push(plain ? names[names.length - 1]! : null)
  }
  const columns = new Map<string, string>()
  view.columns.forEach((c, i) => {
    const s = sources[i]
    if (s !== undefined && s !== null) columns.set(c.name, s)
  })
  return { relation, columns }
}
