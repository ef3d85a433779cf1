/**
 * WHERE terms used early in a comma-separated FROM list (`FROM a, b, c WHERE ..`): a term
 * that reads only one item filters that item's rows before they are joined, and a
 * `x.col = y.col` term pairing the items joined so far with the next one makes that join
 * a hash join. Catalog queries are written this way (psql's `\d` joins pg_class twice
 * with pg_index), and without this their cross products grow with the square of the
 * schema.
 *
 * Invariants: only an addition. The whole WHERE clause is still applied to every joined
 * row (plan/select.ts), so a term used here changes which rows are looked at, never the
 * result. Only terms without function calls or subqueries are pushed into an item: they
 * are cheap, have no side effects and evaluate alike at either place.
 */
import type { Node } from 'libpg-query'
import { compilePredicate } from '../expr/compile.js'
import { Scope, type ColumnBinding, type Env } from '../relation/scope.js'
import { nameList } from '../parser/name-list.js'
import { makeCompileCtx, type PlanCtx } from './plan-context.js'
import type { FromRelation } from '../relation/relation.js'
import type { RtValue } from '../types/value.js'

/** Node kinds a pushed-down filter may contain. */
const SIMPLE = new Set(['A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'ColumnRef', 'A_Const', 'TypeCast', 'CollateClause', 'ParamRef', 'List'])

function simple(node: unknown): boolean {
  if (!node || typeof node !== 'object') return true
  if (Array.isArray(node)) return node.every(simple)
  const [kind] = Object.keys(node)
  if (!kind || !SIMPLE.has(kind)) return false
  const body = (node as Record<string, unknown>)[kind]
  if (kind === 'TypeCast') return simple((body as { arg?: unknown }).arg)
  if (kind === 'ColumnRef' || kind === 'A_Const' || kind === 'ParamRef') return true
  return Object.entries(body as Record<string, unknown>).every(([k, v]) => k === 'name' || !v || typeof v !== 'object' || simple(v))
}

function columnRefs(node: unknown, out: string[][] = []): string[][] {
  if (!node || typeof node !== 'object') return out
  if (Array.isArray(node)) {
    for (const x of node) columnRefs(x, out)
    return out
  }
  const o = node as Record<string, unknown>
  const ref = o['ColumnRef'] as { fields?: Node[] } | undefined
  if (ref) out.push(nameList(ref.fields))
  else for (const v of Object.values(o)) columnRefs(v, out)
  return out
}

function resolvesIn(columns: ColumnBinding[], names: string[]): number | null {
  try {
    return new Scope(columns).resolve(names)?.index ?? null
  } catch {
    return null
  }
}

/** `rel` without the rows that WHERE terms reading only its columns reject. */
export function filterByTerms(rel: FromRelation, terms: Node[], p: PlanCtx, parent: Scope | null): FromRelation {
  const preds: Array<(env: Env) => boolean> = []
  for (const t of terms) {
    const refs = columnRefs(t)
    if (refs.length === 0 || !simple(t) || !refs.some((r) => resolvesIn(rel.columns, r) !== null)) continue
    try {
      preds.push(compilePredicate(t, makeCompileCtx(p, new Scope(rel.columns, parent)), 'WHERE'))
    } catch {
      // It reads another item's columns (or is ill-typed alone): the WHERE clause judges it.
    }
  }
  if (preds.length === 0) return rel
  const stream = rel.stream
  const each = rel.each
  // A term can cost much per row (LIKE over long text): the budget is ticked per row tested.
  const budget = p.exec.budget
  const keep = (row: RtValue[], outer: Env | null): boolean => {
    budget.tick()
    return preds.every((f) => f({ row, outer }))
  }
  return {
    ...rel,
    rows: (outer) => rel.rows(outer).filter((row) => keep(row, outer)),
    stream: stream && function* (outer) {
      for (const row of stream(outer)) if (keep(row, outer)) yield row
    },
    each: each && ((outer, visit) => each(outer, (row) => {
      if (keep(row, outer)) visit(row)
    })),
  }
}

/** Column positions `[left, right]` of `l.col = r.col` terms joining `left` with `right`. */
export function equiJoinKeys(left: FromRelation, right: FromRelation, terms: Node[]): Array<[number, number]> {
  const keys: Array<[number, number]> = []
  for (const t of terms) {
    if (!('A_Expr' in t) || t.A_Expr.kind !== 'AEXPR_OP' || nameList(t.A_Expr.name).pop() !== '=') continue
    const a = t.A_Expr.lexpr
    const b = t.A_Expr.rexpr
    if (!a || !b || !('ColumnRef' in a) || !('ColumnRef' in b)) continue
    const an = nameList(a.ColumnRef.fields)
    const bn = nameList(b.ColumnRef.fields)
    const al = resolvesIn(left.columns, an), ar = resolvesIn(right.columns, an)
    const bl = resolvesIn(left.columns, bn), br = resolvesIn(right.columns, bn)
    let key: [number, number] | null = null
    if (al !== null && ar === null && br !== null && bl === null) key = [al, br]
    else if (ar !== null && al === null && bl !== null && br === null) key = [bl, ar]
    if (key && left.columns[key[0]]!.type.id === right.columns[key[1]]!.type.id && !left.columns[key[0]]!.type.array) keys.push(key)
  }
  return keys
}

