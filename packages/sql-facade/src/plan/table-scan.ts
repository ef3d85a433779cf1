/**
 * Reading a base table: decoding core rows into executor rows, and choosing an access
 * path from the WHERE clause: a primary-key point lookup when every key column is bound
 * by equality, else a secondary index range on one column, else a full scan. Every path
 * reads through `TransactionRows`, so it sees the transaction's own writes. The WHERE
 * clause is still applied to whatever the access path returns.
 */
import type { Row, TableInfo, Value } from '@concord/core'
import type { Node } from 'libpg-query'
import { columnReader, decodeColumns, tableColumns, type ColumnReader } from '../catalog/column-read.js'
import type { ExecCtx } from '../runtime/context.js'
import type { IndexRange } from '../catalog/secondary-index.js'
import { coerce } from '../expr/coerce.js'
import { compileExpr } from '../expr/compile.js'
import type { CompileCtx } from '../expr/compile-context.js'
import { nameList } from '../parser/name-list.js'
import type { Compiled } from '../expr/compiled.js'
import { Scope, type ColumnBinding, type Env } from '../relation/scope.js'
import { canCast } from '../types/cast.js'
import { encodeValue } from '../types/storage-codec.js'
import type { SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { Relation } from '../relation/relation.js'

/** Splits a WHERE clause into its top-level AND terms. */
export function conjuncts(node: Node | undefined): Node[] {
  if (!node) return []
  if ('BoolExpr' in node && node.BoolExpr.boolop === 'AND_EXPR') return (node.BoolExpr.args ?? []).flatMap(conjuncts)
  return [node]
}

interface Bound {
  column: string
  op: string
  value: Compiled
}

const FLIP: Record<string, string> = { '=': '=', '<': '>', '>': '<', '<=': '>=', '>=': '<=' }

/**
 * Terms `col op expr` where expr depends only on outer queries (or nothing); `col BETWEEN
 * lo AND hi` counts as `col >= lo` and `col <= hi`. They only choose which rows are read:
 * the whole WHERE is still tested on each.
 */
function bounds(terms: Node[], alias: string, cols: ColumnBinding[], cctx: CompileCtx, outer: Scope | null): Bound[] {
  const out: Bound[] = []
  const own = new Scope(cols)
  const outerOnly = new Scope([], outer)
  /** The bound `colSide op valSide`, or null when colSide is not one of this table's columns or valSide does not fit it. */
  const bound = (colSide: Node, valSide: Node, op: string): Bound | null => {
    if (!('ColumnRef' in colSide)) return null
    const names = nameList(colSide.ColumnRef.fields)
    if (names.length > 2 || (names.length === 2 && names[0] !== alias)) return null
    let r
    try {
      r = own.resolve(names)
    } catch {
      return null
    }
    if (!r) return null
    let value: Compiled
    try {
      value = compileExpr(valSide, { ...cctx, scope: outerOnly, agg: null })
    } catch {
      return null
    }
    const t = r.binding.type
    if (value.type.id !== 'unknown' && value.type.id !== t.id && !canCast(value.type, t, 'implicit')) return null
    if (value.type.id !== t.id && value.type.id !== 'unknown' && !sameFamily(value.type, t)) return null
    return { column: r.binding.name, op, value: coerce(value, t, 'implicit', cctx.exec.nowMicros) }
  }
  for (const term of terms) {
    if (!('A_Expr' in term) || !term.A_Expr.lexpr || !term.A_Expr.rexpr) continue
    const e = term.A_Expr
    if (e.kind === 'AEXPR_BETWEEN') {
      const ends = 'List' in e.rexpr! ? (e.rexpr.List.items ?? []) : []
      if (ends.length !== 2) continue
      for (const b of [bound(e.lexpr!, ends[0]!, '>='), bound(e.lexpr!, ends[1]!, '<=')]) if (b !== null) out.push(b)
      continue
    }
    if (e.kind !== 'AEXPR_OP') continue
    const op = nameList(e.name).pop() ?? ''
    if (!FLIP[op]) continue
    const b = bound(e.lexpr!, e.rexpr!, op) ?? bound(e.rexpr!, e.lexpr!, FLIP[op]!)
    if (b !== null) out.push(b)
  }
  return out
}

/**
 * The index range one column's bounds give under `e` (`=` alone when there is one; a later
 * bound on a side replaces an earlier one: a superset, WHERE tests each row), or null when
 * a bound is NULL (no row can pass).
 */
function rangeOf(sameCol: Bound[], e: Env): IndexRange | null {
  const r: IndexRange = { loInc: true, hiInc: true }
  for (const x of sameCol) {
    const v = x.value.eval(e)
    if (v === null) return null
    if (x.op === '=') {
      r.lo = r.hi = v
      r.loInc = r.hiInc = true
      break
    }
    if (x.op === '>' || x.op === '>=') {
      r.lo = v
      r.loInc = x.op === '>='
    } else {
      r.hi = v
      r.hiInc = x.op === '<='
    }
  }
  return r
}

/** Whether converting `from` to `to` keeps equality/order exact (int4 -> int8 but not numeric -> int). */
function sameFamily(from: SqlType, to: SqlType): boolean {
  const ints = ['int2', 'int4', 'int8']
  if (ints.includes(from.id) && (ints.includes(to.id) || to.id === 'numeric')) return true
  if (from.id === 'date' && (to.id === 'timestamp' || to.id === 'timestamptz')) return false
  return ['varchar', 'text', 'bpchar', 'name'].includes(from.id) && ['varchar', 'text', 'name'].includes(to.id)
}

/**
 * A base table as a relation. With `decode`, scans and point reads fill only the columns
 * named there and leave the others NULL: the caller promises nothing reads them
 * (parser/column-use.ts).
 */
export function baseTableRelation(table: TableInfo, alias: string, exec: ExecCtx, where: Node[], cctx: CompileCtx, outer: Scope | null, decode: ReadonlySet<string> | null = null): Relation {
  const cols = tableColumns(table, alias)
  const read = decode === null ? null : readIndexes(cols, decode)
  const readers = cols.map(columnReader)
  const name = table.name
  const bs = bounds(where, alias, cols, cctx, outer)
  const pk = table.primaryKey
  const pkEq = pk.map((c) => bs.find((b) => b.column === c && b.op === '='))
  const emptyRow: RtValue[] = []
  if (pk.length > 0 && pkEq.every((b) => b !== undefined)) {
    return {
      columns: cols,
      rows: (env) => {
        const e: Env = { row: emptyRow, outer: env }
        const key: Value[] = []
        for (const b of pkEq) {
          const v = b!.value.eval(e)
          if (v === null) return []
          key.push(encodeValue(v))
        }
        const row = exec.rows.get(name, key)
        return row ? [decodeColumns(row, cols, readers, read)] : []
      },
    }
  }
  // A single-column key: its rows in key order through the key's index, within the
  // statement's bounds on it (ORDER BY the key LIMIT n reads n of them, select.ts).
  const keyAt = pk.length === 1 ? cols.findIndex((c) => c.name === pk[0]) : -1
  const keyBounds = bs.filter((x) => x.column === pk[0])
  const ordered: Relation['ordered'] = keyAt < 0 ? undefined : {
    column: keyAt,
    rows: (env, desc) => {
      const r = rangeOf(keyBounds, { row: emptyRow, outer: env })
      if (r === null) return []
      const found = exec.rows.ordered(table, pk[0]!, r, desc)
      if (found === null) return null
      return (function* () {
        for (const row of found) yield decodeColumns(row, cols, readers, read)
      })()
    },
  }
  for (const b of bs) {
    if (!exec.rows.hasIndex(table, b.column)) continue
    const sameCol = bs.filter((x) => x.column === b.column)
    /** The stored rows within the bounds, by the index; null when no index answers now (then every row). */
    const found = (env: Env | null): Row[] | null => {
      const r = rangeOf(sameCol, { row: emptyRow, outer: env })
      return r === null ? [] : exec.rows.range(table, b.column, r)
    }
    return {
      columns: cols,
      rows: (env) => {
        const rows = found(env)
        if (rows === null) return scanAll(exec, name, cols, readers, read)
        return rows.map((row) => decodeColumns(row, cols, readers, read))
      },
      // Decoded as read: a plain SELECT under LIMIT stops early, as over a scan.
      stream: (env) => {
        const rows = found(env)
        if (rows === null) return streamRows(exec, name, cols, readers, read)
        exec.budget.hold(1, rows.length)
        return (function* () {
          for (const row of rows) yield decodeColumns(row, cols, readers, read)
        })()
      },
      ...(ordered ? { ordered } : {}),
    }
  }
  return {
    columns: cols,
    rows: () => scanAll(exec, name, cols, readers, read),
    each: (_outer, visit) => eachRow(exec, name, cols, readers, read, visit),
    stream: () => streamRows(exec, name, cols, readers, read),
    ...(ordered ? { ordered } : {}),
  }
}

/**
 * The rows decoded as a consumer asks for them: a plain SELECT under LIMIT stops early,
 * neither decoding nor projecting the rest (`SELECT nextval('s') FROM t LIMIT 2` draws
 * two values, as in PostgreSQL). Which rows is settled when the stream is made, as in
 * `eachRow`: a row the statement itself adds meanwhile is not read.
 */
function streamRows(exec: ExecCtx, name: string, cols: ColumnBinding[], readers: ColumnReader[], read: number[] | null): Iterable<RtValue[]> {
  const stored = [...exec.rows.scan(name)]
  // One array of references to rows that exist already; the consumer ticks per row it reads.
  exec.budget.hold(1, stored.length)
  return (function* () {
    for (let i = 0; i < stored.length; i++) yield decodeColumns(stored[i]!, cols, readers, read)
  })()
}

/**
 * The stored rows are collected first (references to rows that exist already: which rows
 * is settled before anything is evaluated, as with `scanAll`), then decoded one at a time.
 * The visitor ticks the budget per row.
 */
function eachRow(exec: ExecCtx, name: string, cols: ColumnBinding[], readers: ColumnReader[], read: number[] | null, visit: (row: RtValue[]) => void): void {
  const stored = [...exec.rows.scan(name)]
  exec.budget.spend(stored.length)
  // One array of references to rows that exist already.
  exec.budget.hold(1, stored.length)
  for (let i = 0; i < stored.length; i++) visit(decodeColumns(stored[i]!, cols, readers, read))
}

/** The positions of `cols` named in `names`; null when that is every column. */
function readIndexes(cols: ColumnBinding[], names: ReadonlySet<string>): number[] | null {
  const read: number[] = []
  cols.forEach((c, i) => {
    if (names.has(c.name)) read.push(i)
  })
  return read.length === cols.length ? null : read
}

function scanAll(exec: ExecCtx, name: string, cols: ColumnBinding[], readers: ColumnReader[], read: number[] | null): RtValue[][] {
  const out: RtValue[][] = []
  for (const row of exec.rows.scan(name)) {
    exec.budget.tick()
    exec.budget.hold(1, cols.length)
    out.push(decodeColumns(row, cols, readers, read))
  }
  return out
}
