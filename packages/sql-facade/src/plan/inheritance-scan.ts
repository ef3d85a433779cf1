/**
 * Reading an inheritance parent without ONLY: the parent's own rows followed by each
 * descendant's (catalog/table-inheritance.ts), every descendant row projected onto the
 * parent's columns by name, as PostgreSQL's append of the inheritance set does.
 *
 * A descendant lacking one of the parent's columns reads NULL there. That never happens
 * when the hierarchy was changed on one node (ALTER TABLE parent ADD COLUMN reaches every
 * child in the same transaction), but can for a while after two masters changed it
 * concurrently (a child created on one node while the parent gained a column on another):
 * the merged catalog is read as it is, never refused.
 */
import type { Relation } from '../relation/relation.js'
import type { StatementBudget } from '../runtime/statement-budget.js'
import type { RtValue } from '../types/value.js'

/** `parent`'s rows, then each member's, all laid out as `parent.columns`. */
export function inheritanceUnion(parent: Relation, members: readonly Relation[], budget: StatementBudget): Relation {
  const maps = members.map((m) => parent.columns.map((c) => m.columns.findIndex((x) => x.name === c.name)))
  return {
    columns: parent.columns,
    rows: (outer) => {
      const out: RtValue[][] = parent.rows(outer).slice()
      members.forEach((m, k) => {
        const at = maps[k]!
        for (const r of m.rows(outer)) {
          budget.tick()
          out.push(at.map((i) => (i < 0 ? null : r[i] ?? null)))
        }
      })
      return out
    },
  }
}
