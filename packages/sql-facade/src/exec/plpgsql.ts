/**
 * PL/pgSQL: LANGUAGE plpgsql functions, trigger functions and DO blocks. PostgreSQL's own
 * PL/pgSQL parser (libpg-query's parsePlPgSQL) turns the body into datums (variables)
 * and a statement tree, which this interpreter runs. Every expression and SQL statement
 * of the body runs through the SQL executor in the calling statement's transaction; the
 * variables it names reach it as typed parameters (a ColumnRef naming a variable becomes
 * a ParamRef), as PostgreSQL's PL/pgSQL passes them (docs/decisions/0023-plpgsql-and-triggers.md).
 *
 * Supported: DECLARE with defaults (CONSTANT, NOT NULL), := / = assignment (to a
 * variable, a record field, NEW.col), IF/ELSIF/ELSE, CASE (simple and searched), LOOP,
 * WHILE, FOR over an integer range (REVERSE, BY), FOR over a query or EXECUTE, EXIT /
 * CONTINUE (labels, WHEN), RETURN, RAISE (levels, % parameters, USING options,
 * conditions, re-raise), PERFORM, SQL statements with INTO [STRICT], EXECUTE .. INTO ..
 * USING, FOUND, GET DIAGNOSTICS ROW_COUNT, nested blocks with EXCEPTION WHEN handlers
 * (the block's writes are undone, SQLSTATE / SQLERRM set), NULL. Anything else fails
 * with 0A000 naming the construct when the function is called (see docs/compatibility.md).
 *
 * Declarations are function-wide: a variable a nested block declares is initialised when
 * the function starts, not each time the block is entered.
 */
import type { Node } from 'libpg-query'
import { ConcordError, type OpenTransaction } from '@concord/core'
import { SqlError, SqlState, sqlStateOf } from '../errors/sql-error.js'
import type { ExecCtx, TriggerCall, UserFunction } from '../runtime/context.js'
import { coerce } from '../expr/coerce.js'
import { parseScript } from '../parser/parse.js'
import { assignmentParts, compilePlpgsql, CONSTRUCT, exprText, plpgsqlSource, unwrap, type PlFunction, type PlNode } from './plpgsql-compile.js'
import { planSelect } from '../plan/select.js'
import { rootPlanCtx } from './plan-root.js'
import { runInTransaction } from './statement.js'
import { T, typeFromTypeName, type SqlType } from '../types/sql-type.js'
import { RowValue } from '../types/scalar-value.js'
import type { RtValue } from '../types/value.js'
import { rowItems } from '../types/row-type.js'
import { formatText } from '../types/text-format.js'
import { activeDateTimeStyle } from '../types/datetime-style.js'
import { userTypes } from '../catalog/user-type.js'
import type { StatementResult } from '../runtime/result.js'
import { tableColumns } from '../catalog/column-read.js'
import type { ColumnBinding } from '../relation/scope.js'
import type { RunPauses } from '../runtime/run-pauses.js'
import { BodyPlans, planCatalog, sameCatalog, sameTypes, simpleExpression, type BoundText, type ExprPlan } from './plpgsql-plans.js'
import { isAggregate } from '../functions/aggregate.js'
import { isSetFunction } from '../functions/set-returning.js'

interface Slot {
  type: SqlType | null
  value: RtValue
}

/** A run of the interpreter: yields where it may pause (`Frame.pauses`), returns its outcome. */
type Steps<T> = Generator<void, T, void>

/** Runs `steps` to the end without pausing: a call made inside an SQL statement. */
function finish<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next()
    if (r.done) return r.value
  }
}

type Signal = undefined | { k: 'end' } | { k: 'return'; v: RtValue; t: SqlType | null } | { k: 'exit' | 'continue'; label: string | undefined }

const EMPTY_ENV = { row: [] as RtValue[], outer: null }

function castTo(v: RtValue, from: SqlType, to: SqlType, now: number, what?: string): RtValue {
  if (v === null) return null
  return coerce({ type: from, eval: () => v }, to, 'assignment', now, what).eval(EMPTY_ENV)
}

/** The SQLSTATE of an error a handler may catch, or null for errors that are not SQL errors. */
function sqlStateOfError(e: unknown): string | null {
  if (e instanceof SqlError) return e.code
  if (e instanceof ConcordError) return sqlStateOf(e.condition)
  return null
}

function snakeToCamel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}

/** The SQLSTATE a condition name (division_by_zero) or code ('22012') stands for. */
function conditionCode(name: string): string | null {
  if (/^[0-9A-Z]{5}$/.test(name)) return name
  const code = (SqlState as Record<string, string>)[snakeToCamel(name.toLowerCase())]
  if (code !== undefined) return code
  const extra: Record<string, string> = { raise_exception: 'P0001', no_data_found: 'P0002', too_many_rows: 'P0003', assert_failure: 'P0004', case_not_found: '20000', plpgsql_error: 'P0000' }
  return extra[name.toLowerCase()] ?? null
}

const MAX_DEPTH = 32

class Frame {
  readonly vals: Slot[]
  rowCount = 0
  caught: unknown = null

  readonly ctx: ExecCtx
  readonly fn: PlFunction
  readonly def: UserFunction
  readonly result: SqlType
  readonly trigger: TriggerCall | undefined
  /** When this run pauses (a statement's top-level call, run by a session that serves others meanwhile); null: never. */
  pauses: RunPauses | null = null

  constructor(ctx: ExecCtx, fn: PlFunction, def: UserFunction, result: SqlType, trigger: TriggerCall | undefined) {
    this.ctx = ctx
    this.fn = fn
    this.def = def
    this.result = result
    this.trigger = trigger
    this.vals = fn.datums.map(() => ({ type: null, value: null }))
  }

  // ---- types and variables ----

  typeOf(typname: string): SqlType | null {
    if (typname === 'record') return null
    const pct = /^(.*)%(rowtype|type)$/i.exec(typname)
    if (pct) {
      const [, ref, kind] = pct
      const parts = ref!.split('.').map((s) => s.replace(/"/g, '').toLowerCase())
      if (kind!.toLowerCase() === 'rowtype') {
        const t = this.ctx.tx.table(parts[parts.length - 1]!)
        if (!t) throw new SqlError(SqlState.undefinedTable, `relation "${parts[parts.length - 1]}" does not exist`)
        return { id: 'record', name: t.name, fields: tableFields(this.ctx, t.name) }
      }
      if (parts.length === 1) {
        const i = this.fn.names.get(parts[0]!)
        if (i !== undefined) return this.declaredType(i)
      }
      if (parts.length === 2) {
        const f = tableFields(this.ctx, parts[0]!).find((c) => c.name === parts[1])
        if (f) return f.type
      }
      throw new SqlError(SqlState.featureNotSupported, `PL/pgSQL type ${typname} could not be resolved`)
    }
    const stmts = parseScript(`SELECT NULL::${typname}`)
    const node = stmts[0]?.kind === 'pg' ? (stmts[0].node as PlNode) : null
    const target = node?.SelectStmt?.targetList?.[0]?.ResTarget?.val
    if (!target?.TypeCast) throw new SqlError(SqlState.syntaxError, `type "${typname}" could not be parsed`)
    const t = typeFromTypeName(target.TypeCast.typeName, userTypes(this.ctx.tx))
    if (t.id === 'record' && !t.fields) return null
    return t
  }

  declaredType(i: number): SqlType | null {
    const d = this.fn.datums[i]!
    return d.typname !== undefined ? this.typeOf(d.typname) : null
  }

  /** The value of datum `i` as a parameter: its type and value (records as row values). */
  read(i: number): Slot {
    const d = this.fn.datums[i]!
    if (d.kind === 'row') {
      const parts = d.fields!.map((f) => this.read(f.varno))
      return { type: { id: 'record', fields: d.fields!.map((f, k) => ({ name: f.name, type: parts[k]!.type ?? T.text })) }, value: new RowValue(parts.map((p) => p.value as never)) }
    }
    const s = this.vals[i]!
    if (d.kind === 'rec' && s.type === null) {
      throw new SqlError(SqlState.objectNotInPrerequisiteState, `record "${d.name}" is not assigned yet`, { detail: 'The tuple structure of a not-yet-assigned record is indeterminate.' })
    }
    return { type: s.type ?? T.unknown, value: s.value }
  }

  readField(i: number, field: string): Slot {
    const rec = this.read(i)
    const fields = rec.type!.fields ?? []
    const k = fields.findIndex((f) => f.name === field)
    if (k < 0) throw new SqlError(SqlState.undefinedColumn, `record "${this.fn.datums[i]!.name}" has no field "${field}"`)
    const items = rec.value === null ? [] : rowItems(rec.value as RowValue)
    return { type: fields[k]!.type, value: items[k] ?? null }
  }

  /** Assigns a value of type `from` to datum `i` (coerced to its declared type). */
  assign(i: number, value: RtValue, from: SqlType): void {
    const d = this.fn.datums[i]!
    const now = this.ctx.nowMicros
    if (d.kind === 'var' && !this.vals[i]!.type?.fields) {
      if (d.isconst && this.initialised.has(i)) throw new SqlError(SqlState.syntaxError, `variable "${d.name}" is declared CONSTANT`)
      const t = this.vals[i]!.type ?? this.declaredType(i) ?? from
      const v = castTo(value, from, t, now)
      if (v === null && d.notnull) throw new SqlError(SqlState.nullValueNotAllowed, `null value cannot be assigned to variable "${d.name}" declared NOT NULL`)
      this.vals[i] = { type: t, value: v }
      return
    }
    if (d.kind === 'rec' || d.kind === 'var') {
      // A RECORD variable takes the structure of each row assigned to it, as in PostgreSQL.
      const untyped = d.kind === 'rec' && (d.typname === undefined || d.typname === 'record')
      const declared = untyped ? null : this.vals[i]!.type ?? (d.typname !== undefined ? this.typeOf(d.typname) : null)
      if (declared?.fields && from.fields && value !== null) {
        this.vals[i] = { type: declared, value: this.castRow(value as RowValue, from, declared) }
        return
      }
      if (from.id !== 'record' && value !== null) throw new SqlError(SqlState.datatypeMismatch, 'cannot assign non-composite value to a record variable')
      this.vals[i] = { type: declared ?? (from.fields ? from : { id: 'record', fields: [] }), value }
      return
    }
    if (d.kind === 'row') {
      const items = value === null ? [] : rowItems(value as RowValue)
      d.fields!.forEach((f, k) => this.assign(f.varno, items[k] ?? null, from.fields?.[k]?.type ?? T.unknown))
      return
    }
    throw new SqlError(SqlState.featureNotSupported, 'PL/pgSQL assignment to this target is not supported')
  }

  /** A record variable, or one of a composite type (a row at a time is assigned to it). */
  composite(i: number): boolean {
    const d = this.fn.datums[i]!
    return d.kind === 'rec' || (d.kind === 'var' && !!this.vals[i]!.type?.fields)
  }

  castRow(v: RowValue, from: SqlType, to: SqlType): RowValue {
    const items = rowItems(v)
    return new RowValue(to.fields!.map((f, k) => castTo(items[k] ?? null, from.fields?.[k]?.type ?? T.unknown, f.type, this.ctx.nowMicros) as never))
  }

  assignField(i: number, field: string, value: RtValue, from: SqlType): void {
    const rec = this.read(i)
    const fields = rec.type!.fields ?? []
    const k = fields.findIndex((f) => f.name === field)
    if (k < 0) throw new SqlError(SqlState.undefinedColumn, `record "${this.fn.datums[i]!.name}" has no field "${field}"`)
    const items = rec.value === null ? fields.map(() => null) : rowItems(rec.value as RowValue).slice()
    items[k] = castTo(value, from, fields[k]!.type, this.ctx.nowMicros)
    this.vals[i] = { type: rec.type, value: new RowValue(items as never[]) }
  }

  readonly initialised = new Set<number>()

  // ---- running SQL ----

  /** A context for one SQL statement of the body: the variables it names as typed parameters. */
  inner(params: RtValue[], types: SqlType[]): ExecCtx {
    const { planCache: _c, planSlots: _s, ...rest } = this.ctx
    void _c
    void _s
    return { ...rest, params, paramTypes: types, depth: this.ctx.depth + 1, ...(this.transition ? { transitionTables: this.transition } : {}) }
  }

  /** A trigger's transition tables as relations (REFERENCING OLD/NEW TABLE). */
  get transition(): ReadonlyMap<string, { columns: ColumnBinding[]; rows: () => RtValue[][] }> | null {
    const t = this.trigger
    if (!t?.transition?.length) return null
    return new Map(t.transition.map((x) => [x.name, { columns: t.fields.map((f) => ({ name: f.name, table: x.name, type: f.type })), rows: () => x.rows }]))
  }

  /** The value(s) a variable reference (a ColumnRef naming a variable, a ParamRef) stands for; null: not a variable. */
  refSlots(n: PlNode): Slot | Slot[] | null {
    if (n.ParamRef) {
      const k = (n.ParamRef.number ?? 0) - 1
      const i = this.fn.params[k]
      return i === undefined ? null : this.read(i)
    }
    const fields: PlNode[] = n.ColumnRef.fields ?? []
    const s0 = fields[0]?.String?.sval as string | undefined
    if (s0 === undefined) return null
    const i = this.fn.names.get(s0)
    if (i === undefined) return null
    if (fields.length === 1) return this.read(i)
    const d = this.fn.datums[i]!
    if (fields.length === 2 && (d.kind === 'row' || this.composite(i))) {
      if (fields[1].A_Star) {
        const rec = this.read(i)
        const items = rec.value === null ? [] : rowItems(rec.value as RowValue)
        return (rec.type!.fields ?? []).map((f, k) => ({ type: f.type, value: items[k] ?? null }))
      }
      const f = fields[1]?.String?.sval as string | undefined
      if (f !== undefined) return this.readField(i, f)
    }
    return null
  }

  /**
   * Replaces variable references in a (cloned) parse tree by parameters; returns their
   * values and types, and the references replaced (in parameter order).
   */
  bind(tree: PlNode): { params: RtValue[]; types: SqlType[]; refs: PlNode[]; complete: boolean } {
    const params: RtValue[] = []
    const types: SqlType[] = []
    const refs: PlNode[] = []
    // False when a reference naming a variable was left as it is (a field of a variable
    // not yet of a composite type): bound again next time, it may be a variable's then.
    let complete = true
    const unbound = (n: PlNode): void => {
      const first = n.ColumnRef?.fields?.[0]?.String?.sval as string | undefined
      if (first !== undefined && this.fn.names.has(first)) complete = false
    }
    const param = (s: Slot): PlNode => {
      params.push(s.value)
      types.push(s.type ?? T.unknown)
      return { ParamRef: { number: params.length } }
    }
    const walk = (n: PlNode): PlNode => {
      if (Array.isArray(n)) {
        const out: PlNode[] = []
        for (const item of n) {
          if (item && (item.ColumnRef || item.ParamRef)) {
            const r = this.refSlots(item)
            if (r) refs.push(item)
            else unbound(item)
            if (Array.isArray(r)) out.push(...r.map(param))
            else out.push(r ? param(r) : item)
          } else out.push(walk(item))
        }
        return out
      }
      if (n === null || typeof n !== 'object') return n
      for (const [k, v] of Object.entries(n)) {
        if (v && typeof v === 'object' && !Array.isArray(v) && ((v as PlNode).ColumnRef || (v as PlNode).ParamRef)) {
          const r = this.refSlots(v)
          if (Array.isArray(r)) throw new SqlError(SqlState.featureNotSupported, 'record.* is supported only in a list (VALUES, a row constructor, a select list)')
          if (r) {
            refs.push(v)
            n[k] = param(r)
          } else unbound(v)
        } else if (v && typeof v === 'object') n[k] = walk(v)
      }
      return n
    }
    walk(tree)
    return { params, types, refs, complete }
  }

  /** This call's bound trees and expression plans (plpgsql-plans.ts). */
  readonly plans = new BodyPlans()

  /**
   * `stmt` (parsed from `text`) with this call's variables as parameters, and their values
   * now: the tree bound at an earlier run when the variables have the same types, else
   * bound afresh (and kept).
   */
  bound(text: string, parse: () => PlNode): { b: BoundText; params: RtValue[] } {
    const b = this.plans.get(text)
    if (b !== undefined) {
      const params: RtValue[] = []
      const types: SqlType[] = []
      let same = true
      for (const ref of b.refs) {
        const r = this.refSlots(ref)
        if (r === null) {
          same = false
          break
        }
        for (const x of Array.isArray(r) ? r : [r]) {
          params.push(x.value)
          types.push(x.type ?? T.unknown)
        }
      }
      if (same && sameTypes(types, b.types)) return { b, params }
    }
    const tree = structuredClone(parse()) as PlNode
    const { params, types, refs, complete } = this.bind(tree)
    const fresh: BoundText = { tree, refs, types, plan: undefined }
    if (complete) this.plans.set(text, fresh)
    return { b: fresh, params }
  }

  /** Evaluates an expression (`SELECT <expr>`) to one value. */
  evalExpr(text: string, what = 'query'): Slot {
    const mark = this.ctx.budget.heldBytes()
    try {
      return this.evalOnce(text, what)
    } finally {
      this.ctx.budget.releaseTo(mark)
    }
  }

  private evalOnce(text: string, what: string): Slot {
    const { b, params } = this.bound(`SELECT ${text}`, () => {
      const stmts = parseScript(`SELECT ${text}`)
      if (stmts.length !== 1 || stmts[0]!.kind !== 'pg' || !('SelectStmt' in stmts[0]!.node)) throw new SqlError(SqlState.syntaxError, `syntax error in PL/pgSQL expression "${text}"`)
      return stmts[0]!.node
    })
    const rows = this.exprRows(b, params)
    if (rows.columns !== 1) throw new SqlError(SqlState.syntaxError, `${what} "${text}" returned ${rows.columns} columns`)
    if (rows.rows.length > 1) throw new SqlError(SqlState.cardinalityViolation, `${what} "${text}" returned more than one row`)
    return { type: rows.type, value: rows.rows[0]?.[0] ?? null }
  }

  /** A bound `SELECT <expr>`'s rows: by its kept plan when it has a valid one, else planned now (and kept, if simple). */
  private exprRows(b: BoundText, params: RtValue[]): { columns: number; type: SqlType; rows: RtValue[][] } {
    const kept = b.plan
    if (kept && !kept.running && sameCatalog(kept.catalog, this.ctx)) {
      kept.live.params = params
      kept.running = true
      try {
        return { columns: kept.rel.columns.length, type: kept.rel.columns[0]?.type ?? T.unknown, rows: kept.rel.rows(null) }
      } finally {
        kept.running = false
      }
    }
    const ctx = this.inner(params, [...b.types])
    const catalog = kept === null ? null : planCatalog(this.ctx)
    if (catalog === null || kept?.running === true || !simpleExpression(b.tree, (name) => this.setOrAggregate(name))) {
      if (kept === undefined) b.plan = null
      const rel = planSelect(b.tree.SelectStmt, rootPlanCtx(ctx), null)
      return { columns: rel.columns.length, type: rel.columns[0]?.type ?? T.unknown, rows: rel.rows(null) }
    }
    const live = { ...ctx, params, paramTypes: [...b.types], planSlots: { constants: new Map(), values: [], callsPerRun: true as const } }
    const rel = planSelect(b.tree.SelectStmt, rootPlanCtx(live), null)
    const plan: ExprPlan = { rel, live, catalog, running: true }
    b.plan = plan
    try {
      return { columns: rel.columns.length, type: rel.columns[0]?.type ?? T.unknown, rows: rel.rows(null) }
    } finally {
      plan.running = false
    }
  }

  /** Whether `name` is an aggregate or a set-returning function (a user one included): its expression keeps no plan. */
  private setOrAggregate(name: string): boolean {
    const user = this.ctx.functions(name)
    if (user !== undefined) return user.setof === true
    return isAggregate(name) || isSetFunction(name)
  }

  evalBool(text: string): boolean {
    const s = this.evalExpr(text)
    if (s.type && s.type.id !== 'bool' && s.type.id !== 'unknown') return castTo(s.value, s.type, T.bool, this.ctx.nowMicros) === true
    return s.value === true || s.value === 't' || s.value === 'true'
  }

  runResult(r: StatementResult): StatementResult {
    if (r.notices?.length) (this.ctx.notices ??= []).push(...r.notices)
    return r
  }

  /**
   * A statement whose result is read (INTO, FOUND, ROW_COUNT) and dropped before the body
   * goes on: what it materialized no longer counts toward statement_mem once it returns.
   */
  transient(run: () => StatementResult): StatementResult {
    const mark = this.ctx.budget.heldBytes()
    try {
      return run()
    } finally {
      this.ctx.budget.releaseTo(mark)
    }
  }

  /** Runs one SQL statement of the body (its variables bound). */
  runSql(text: string): StatementResult {
    const stmts = parseScript(text)
    if (stmts.length !== 1) throw new SqlError(SqlState.syntaxError, `PL/pgSQL statement "${text}" is not one SQL statement`)
    const s = stmts[0]!
    if (s.kind !== 'pg') return this.runResult(runInTransaction(s, this.inner([], [])))
    // The executor never changes the tree it is given (parsed trees are shared by the parse cache).
    const { b, params } = this.bound(text, () => s.node)
    return this.runResult(runInTransaction({ kind: 'pg', node: b.tree, text }, this.inner(params, [...b.types])))
  }

  /** EXECUTE: a statement built at run time, with USING values as $1 .. */
  runDynamic(queryExpr: PlNode, using: PlNode[] | undefined): StatementResult {
    const q = this.evalExpr(exprText(queryExpr))
    if (q.value === null) throw new SqlError(SqlState.nullValueNotAllowed, 'query string argument of EXECUTE is null')
    const text = String(q.type && q.type.id !== 'text' ? formatText(q.value, q.type) : q.value)
    const vals = (using ?? []).map((e) => this.evalExpr(exprText(e)))
    const stmts = parseScript(text)
    if (stmts.length !== 1) throw new SqlError(SqlState.syntaxError, `EXECUTE of "${text}": not one SQL statement`)
    return this.runResult(runInTransaction(stmts[0]!, this.inner(vals.map((v) => v.value), vals.map((v) => v.type ?? T.unknown))))
  }

  /** Stores a statement's first row into an INTO target (a record, or a list of variables). */
  into(target: PlNode, r: StatementResult, strict: boolean, text: string): void {
    if (strict && r.rows.length === 0) throw new SqlError(SqlState.noDataFound, 'query returned no rows')
    if (strict && r.rows.length > 1) throw new SqlError(SqlState.tooManyRows, 'query returned more than one row', { hint: 'Make sure the query returns a single row, or use LIMIT 1.' })
    void text
    const row = r.rows[0] ?? null
    const [k, v] = unwrap(target)
    const cols = r.columns
    if (k === 'PLpgSQL_rec') {
      const i = this.fn.names.get(v.refname)!
      const type: SqlType = { id: 'record', fields: cols.map((c) => ({ name: c.name, type: c.type })) }
      this.assign(i, row === null ? null : new RowValue(row as never[]), type)
      if (row === null) this.vals[i] = { type: this.vals[i]!.type ?? type, value: null }
      return
    }
    const fields: Array<{ varno?: number }> = v.fields ?? []
    // One composite variable takes the whole row.
    if (fields.length === 1 && this.composite(fields[0]!.varno ?? 0) && !(cols.length === 1 && cols[0]!.type.fields)) {
      const i = fields[0]!.varno ?? 0
      this.assign(i, row === null ? null : new RowValue(row as never[]), { id: 'record', fields: cols.map((c) => ({ name: c.name, type: c.type })) })
      return
    }
    fields.forEach((f, n) => this.assign(f.varno ?? 0, row?.[n] ?? null, cols[n]?.type ?? T.unknown))
  }

  setFound(v: boolean): void {
    const i = this.fn.names.get('found')
    if (i !== undefined) this.vals[i] = { type: T.bool, value: v }
  }

  // ---- statements ----

  *runList(list: PlNode[] | undefined): Steps<Signal> {
    for (const s of list ?? []) {
      const sig = yield* this.run(s)
      if (sig) return sig
    }
    return undefined
  }

  /** A loop body's outcome: go on, stop this loop, or a signal for an enclosing statement. */
  *loopStep(label: string | undefined, body: PlNode[] | undefined): Steps<'next' | 'break' | Signal> {
    this.ctx.budget.tick()
    if (this.pauses === null) this.ctx.budget.loopTick()
    else if (this.pauses.due()) {
      yield
      this.plans.forgetPlans()
    }
    const sig = yield* this.runList(body)
    if (!sig) return 'next'
    if (sig.k === 'exit' && (sig.label === undefined || sig.label === label)) return 'break'
    if (sig.k === 'continue' && (sig.label === undefined || sig.label === label)) return 'next'
    return sig
  }

  *run(node: PlNode): Steps<Signal> {
    const [k, s] = unwrap(node)
    switch (k) {
      case 'PLpgSQL_stmt_block': return yield* this.block(s)
      case 'PLpgSQL_stmt_assign': return this.assignStmt(s)
      case 'PLpgSQL_stmt_if': {
        if (this.evalBool(exprText(s.cond))) return yield* this.runList(s.then_body)
        for (const e of s.elsif_list ?? []) {
          const b = e.PLpgSQL_if_elsif
          if (this.evalBool(exprText(b.cond))) return yield* this.runList(b.stmts)
        }
        return yield* this.runList(s.else_body)
      }
      case 'PLpgSQL_stmt_case': {
        if (s.t_expr) {
          const v = this.evalExpr(exprText(s.t_expr))
          const i = s.t_varno ?? 0
          this.vals[i] = { type: v.type, value: v.value }
        }
        for (const w of s.case_when_list ?? []) {
          const b = w.PLpgSQL_case_when
          if (this.evalBool(exprText(b.expr))) return yield* this.runList(b.stmts)
        }
        if (s.have_else) return yield* this.runList(s.else_stmts)
        throw new SqlError(SqlState.caseNotFound, 'case not found', { hint: 'CASE statement is missing ELSE part.' })
      }
      case 'PLpgSQL_stmt_loop': {
        for (;;) {
          const r = yield* this.loopStep(s.label, s.body)
          if (r === 'break') return undefined
          if (r !== 'next') return r
        }
      }
      case 'PLpgSQL_stmt_while': {
        while (this.evalBool(exprText(s.cond))) {
          const r = yield* this.loopStep(s.label, s.body)
          if (r === 'break') return undefined
          if (r !== 'next') return r
        }
        return undefined
      }
      case 'PLpgSQL_stmt_fori': return yield* this.forInt(s)
      case 'PLpgSQL_stmt_fors':
      case 'PLpgSQL_stmt_dynfors': {
        // The rows are held while the loop runs, and dropped after it.
        const mark = this.ctx.budget.heldBytes()
        try {
          return yield* this.forRows(s, k === 'PLpgSQL_stmt_fors' ? this.runSql(exprText(s.query)) : this.runDynamic(s.query, s.params))
        } finally {
          this.ctx.budget.releaseTo(mark)
        }
      }
      case 'PLpgSQL_stmt_exit': {
        if (s.cond && !this.evalBool(exprText(s.cond))) return undefined
        return { k: s.is_exit ? 'exit' : 'continue', label: s.label }
      }
      case 'PLpgSQL_stmt_return': {
        // The parser ends the body with a RETURN of its own (no line): reaching it returns nothing.
        if (!s.expr && s.lineno === undefined && typeof s.retvarno !== 'number' && this.fn.outParamVarno === null) return { k: 'end' }
        if (s.expr) {
          const v = this.evalExpr(exprText(s.expr))
          return { k: 'return', v: v.value, t: v.type }
        }
        // RETURN of a plain variable is compiled to its datum number.
        const varno = typeof s.retvarno === 'number' ? s.retvarno : this.fn.outParamVarno
        if (varno !== null) {
          const v = this.read(varno)
          return { k: 'return', v: v.value, t: v.type }
        }
        return { k: 'return', v: null, t: null }
      }
      case 'PLpgSQL_stmt_return_next': {
        if (this.results === null) throw new SqlError(SqlState.syntaxError, 'cannot use RETURN NEXT in a non-SETOF function')
        const varno = typeof s.retvarno === 'number' ? s.retvarno : this.fn.outParamVarno
        const v = s.expr ? this.evalExpr(exprText(s.expr)) : varno !== null ? this.read(varno) : { type: null, value: null }
        this.results.push(this.resultValue(v.value, v.type))
        return undefined
      }
      case 'PLpgSQL_stmt_return_query': {
        if (this.results === null) throw new SqlError(SqlState.syntaxError, 'cannot use RETURN QUERY in a non-SETOF function')
        const r = s.query ? this.runSql(exprText(s.query)) : this.runDynamic(s.dynquery, s.params)
        const type: SqlType = { id: 'record', fields: r.columns.map((c) => ({ name: c.name, type: c.type })) }
        for (const row of r.rows) {
          this.ctx.budget.tick()
          this.results.push(this.result.fields ? this.resultValue(new RowValue(row as never[]), type) : this.resultValue(row[0] ?? null, r.columns[0]?.type ?? null))
        }
        this.rowCount = r.rows.length
        this.setFound(r.rows.length > 0)
        return undefined
      }
      case 'PLpgSQL_stmt_raise': return this.raise(s)
      case 'PLpgSQL_stmt_perform': {
        const r = this.transient(() => this.runSql(exprText(s.expr)))
        this.rowCount = r.rowCount ?? r.rows.length
        this.setFound(this.rowCount > 0)
        return undefined
      }
      case 'PLpgSQL_stmt_execsql': {
        const text = exprText(s.sqlstmt)
        const r = this.transient(() => this.runSql(text))
        this.rowCount = r.rowCount ?? r.rows.length
        if (s.into) this.into(s.target, r, !!s.strict, text)
        this.setFound(this.rowCount > 0)
        return undefined
      }
      case 'PLpgSQL_stmt_dynexecute': {
        const r = this.transient(() => this.runDynamic(s.query, s.params))
        this.rowCount = r.rowCount ?? r.rows.length
        if (s.into) this.into(s.target, r, !!s.strict, '')
        return undefined
      }
      case 'PLpgSQL_stmt_getdiag': {
        for (const item of s.diag_items ?? []) {
          const d = item.PLpgSQL_diag_item
          this.assign(d.target ?? 0, BigInt(this.rowCount), T.int8)
        }
        return undefined
      }
      default:
        throw new SqlError(SqlState.featureNotSupported, `PL/pgSQL ${CONSTRUCT[k] ?? k} is not supported`)
    }
  }

  *block(s: PlNode): Steps<Signal> {
    const handlers: PlNode[] | undefined = s.exceptions?.PLpgSQL_exception_block?.exc_list
    if (!handlers?.length) return yield* this.blockBody(s)
    // The block's writes are undone when a handler catches its error, as a subtransaction is in PostgreSQL.
    const tx = this.ctx.tx as Partial<OpenTransaction>
    if (typeof tx.savepoint !== 'function' || typeof tx.rollbackTo !== 'function') {
      throw new SqlError(SqlState.featureNotSupported, 'PL/pgSQL EXCEPTION blocks are not supported in this transaction')
    }
    const mark = tx.savepoint()
    try {
      return yield* this.blockBody(s)
    } catch (e) {
      const code = sqlStateOfError(e)
      if (code === null) throw e
      const h = handlers.map((x) => x.PLpgSQL_exception).find((x) => (x.conditions ?? []).some((c: PlNode) => {
        const name = String(c.PLpgSQL_condition?.condname ?? '')
        if (name === 'others') return code !== SqlState.queryCanceled
        const want = conditionCode(name)
        return want !== null && (want === code || (want.endsWith('000') && want.slice(0, 2) === code.slice(0, 2)))
      }))
      if (!h) throw e
      tx.rollbackTo(mark)
      this.ctx.rows.invalidate()
      const st = this.fn.names.get('sqlstate')
      const em = this.fn.names.get('sqlerrm')
      if (st !== undefined) this.vals[st] = { type: T.text, value: code }
      if (em !== undefined) this.vals[em] = { type: T.text, value: (e as Error).message }
      const outer = this.caught
      this.caught = e
      try {
        return yield* this.runList(h.action)
      } finally {
        this.caught = outer
      }
    }
  }

  *blockBody(s: PlNode): Steps<Signal> {
    const sig = yield* this.runList(s.body)
    if (sig && sig.k === 'exit' && s.label !== undefined && sig.label === s.label) return undefined
    return sig
  }

  assignStmt(s: PlNode): Signal {
    const { target, names, expr } = assignmentOf(s)
    const v = this.evalExpr(expr)
    const i = this.fn.names.get(names[0]!)
    if (i === undefined) throw new SqlError(SqlState.syntaxError, `"${names[0]}" is not a known variable`)
    if (names.length === 1) this.assign(i, v.value, v.type ?? T.unknown)
    else if (names.length === 2) this.assignField(i, names[1]!, v.value, v.type ?? T.unknown)
    else throw new SqlError(SqlState.featureNotSupported, `PL/pgSQL assignment to "${target}" is not supported`)
    return undefined
  }

  *forInt(s: PlNode): Steps<Signal> {
    const lo = this.evalExpr(exprText(s.lower))
    const hi = this.evalExpr(exprText(s.upper))
    const by = s.step ? this.evalExpr(exprText(s.step)) : { type: T.int4, value: 1 }
    const num = (x: Slot, what: string): number => {
      if (x.value === null) throw new SqlError(SqlState.nullValueNotAllowed, `${what} bound of FOR loop cannot be null`)
      return Number(castTo(x.value, x.type ?? T.unknown, T.int4, this.ctx.nowMicros))
    }
    const a = num(lo, 'lower')
    const b = num(hi, 'upper')
    const step = num(by, 'BY value')
    if (step <= 0) throw new SqlError(SqlState.invalidParameterValue, 'BY value of FOR loop must be greater than zero')
    const i = this.fn.names.get(s.var.PLpgSQL_var.refname)!
    let found = false
    for (let x = a; s.reverse ? x >= b : x <= b; x = s.reverse ? x - step : x + step) {
      found = true
      this.vals[i] = { type: T.int4, value: x }
      const r = yield* this.loopStep(s.label, s.body)
      if (r === 'break') break
      if (r !== 'next') {
        this.setFound(true)
        return r
      }
    }
    this.setFound(found)
    return undefined
  }

  *forRows(s: PlNode, r: StatementResult): Steps<Signal> {
    const [k, v] = unwrap(s.var)
    const type: SqlType = { id: 'record', fields: r.columns.map((c) => ({ name: c.name, type: c.type })) }
    let found = false
    for (const row of r.rows) {
      found = true
      if (k === 'PLpgSQL_rec') this.assign(this.fn.names.get(v.refname)!, new RowValue(row as never[]), type)
      else (v.fields ?? []).forEach((f: PlNode, n: number) => this.assign(f.varno ?? 0, row[n] ?? null, r.columns[n]?.type ?? T.unknown))
      const res = yield* this.loopStep(s.label, s.body)
      if (res === 'break') break
      if (res !== 'next') {
        this.setFound(true)
        return res
      }
    }
    this.setFound(found)
    return undefined
  }

  raise(s: PlNode): Signal {
    const level: number = s.elog_level ?? 21
    if (!s.message && !s.condname && !(s.options ?? []).length) {
      if (this.caught === null) throw new SqlError(SqlState.syntaxError, 'RAISE without parameters cannot be used outside an exception handler')
      throw this.caught
    }
    let message = ''
    if (s.message !== undefined) {
      const params: PlNode[] = s.params ?? []
      let n = 0
      const text: string = s.message
      for (let c = 0; c < text.length; c++) {
        const ch = text[c]!
        if (ch === '%') {
          if (text[c + 1] === '%') {
            message += '%'
            c++
            continue
          }
          const p = params[n++]
          if (!p) throw new SqlError(SqlState.syntaxError, 'too few parameters specified for RAISE')
          const v = this.evalExpr(exprText(p))
          message += v.value === null ? '<NULL>' : v.type ? formatText(v.value, v.type, activeDateTimeStyle()) ?? '' : String(v.value)
        } else message += ch
      }
      if (n < params.length) throw new SqlError(SqlState.syntaxError, 'too many parameters specified for RAISE')
    }
    let code: string | null = s.condname ? conditionCode(s.condname) : null
    if (s.condname && code === null) throw new SqlError(SqlState.undefinedObject, `unrecognized exception condition "${s.condname}"`)
    if (s.condname && !s.message) message = s.condname
    let detail: string | undefined
    let hint: string | undefined
    for (const o of s.options ?? []) {
      const opt = o.PLpgSQL_raise_option
      const v = this.evalExpr(exprText(opt.expr))
      const text = v.value === null ? null : v.type ? formatText(v.value, v.type) : String(v.value)
      const type: number = opt.opt_type ?? 0
      if (text === null) throw new SqlError(SqlState.nullValueNotAllowed, 'RAISE statement option cannot be null')
      if (type === 0) {
        code = conditionCode(text)
        if (code === null) throw new SqlError(SqlState.undefinedObject, `unrecognized exception condition "${text}"`)
        if (!s.message && !s.condname) message = text
      } else if (type === 1) message = text
      else if (type === 2) detail = text
      else if (type === 3) hint = text
    }
    if (level >= 21) {
      throw new SqlError(code ?? SqlState.raiseException, message, { ...(detail !== undefined ? { detail } : {}), ...(hint !== undefined ? { hint } : {}) })
    }
    // NOTICE, INFO and WARNING reach the client (client_min_messages notice); DEBUG and LOG do not.
    if (level >= 17) (this.ctx.notices ??= []).push(message)
    return undefined
  }

  /** RETURN NEXT / QUERY collect here in a SETOF function (null in any other). */
  results: RtValue[] | null = null

  /** A value (or row) as the function's result type holds it. */
  resultValue(v: RtValue, t: SqlType | null): RtValue {
    if (v === null) return null
    if (this.result.fields && t?.fields) return this.castRow(v as RowValue, t, this.result)
    return castTo(v, t ?? T.unknown, this.result, this.ctx.nowMicros)
  }

  // ---- the call ----

  *call(args: RtValue[], argTypes: SqlType[]): Steps<RtValue> {
    const fn = this.fn
    // Parameters, then trigger variables, then the declarations in order (each default sees those before it).
    fn.params.forEach((i, k) => {
      const d = fn.datums[i]!
      const t = argTypes[k] ?? (d.typname !== undefined ? this.typeOf(d.typname) : null) ?? T.unknown
      this.vals[i] = { type: t, value: k < args.length ? args[k]! : null }
    })
    if (this.trigger) this.bindTrigger(this.trigger)
    fn.datums.forEach((d, i) => {
      if (fn.params.includes(i) || (this.trigger && this.vals[i]!.type !== null)) return
      if (d.kind === 'var') {
        if (d.name === 'sqlstate' || d.name === 'sqlerrm') {
          this.vals[i] = { type: T.text, value: null }
          return
        }
        if (this.trigger && (d.name.startsWith('tg_'))) return
        const t = d.typname !== undefined ? this.typeOf(d.typname) : null
        this.vals[i] = { type: t, value: null }
        if (d.defaultExpr !== undefined) {
          const v = this.evalExpr(d.defaultExpr)
          this.assign(i, v.value, v.type ?? T.unknown)
        } else if (d.notnull) throw new SqlError(SqlState.nullValueNotAllowed, `variable "${d.name}" must have a default value, since it's declared NOT NULL`)
        this.initialised.add(i)
      } else if (d.kind === 'rec' && !(this.trigger && (d.name === 'new' || d.name === 'old'))) {
        const t = d.typname !== undefined ? this.typeOf(d.typname) : null
        this.vals[i] = { type: t, value: null }
        if (d.defaultExpr !== undefined) {
          const v = this.evalExpr(d.defaultExpr)
          this.assign(i, v.value, v.type ?? T.unknown)
        }
      }
    })
    this.setFound(false)
    const sig = yield* this.run(fn.action)
    if (this.results !== null && (sig === undefined || sig.k === 'end' || sig.k === 'return')) return null
    if (sig?.k === 'return') {
      if (this.trigger) return sig.v
      // A void function's value is PostgreSQL's empty void, not NULL (`f() IS NULL` is false).
      if (this.result.id === 'void') return ''
      return castTo(sig.v, sig.t ?? T.unknown, this.result, this.ctx.nowMicros)
    }
    if (sig && sig.k !== 'end') throw new SqlError(SqlState.syntaxError, `${sig.k === 'exit' ? 'EXIT' : 'CONTINUE'} cannot be used outside a loop`)
    if (this.trigger) throw new SqlError(SqlState.functionExecutedNoReturnStatement, 'control reached end of trigger procedure without RETURN')
    if (this.result.id === 'void') return ''
    if (this.def.name === 'inline_code_block') return null
    throw new SqlError(SqlState.functionExecutedNoReturnStatement, 'control reached end of function without RETURN')
  }

  bindTrigger(t: TriggerCall): void {
    const set = (name: string, type: SqlType, value: RtValue): void => {
      const i = this.fn.names.get(name)
      if (i !== undefined) this.vals[i] = { type, value }
    }
    const rowType: SqlType = { id: 'record', name: t.table, fields: t.fields }
    set('new', rowType, t.newRow)
    set('old', rowType, t.oldRow)
    set('tg_name', T.name, t.name)
    set('tg_when', T.text, t.when)
    set('tg_level', T.text, t.level)
    set('tg_op', T.text, t.op)
    set('tg_relid', T.oid, t.relid)
    set('tg_relname', T.name, t.table)
    set('tg_table_name', T.name, t.table)
    set('tg_table_schema', T.name, 'public')
    set('tg_nargs', T.int4, t.args.length)
    const i = this.fn.names.get('tg_argv')
    if (i !== undefined) {
      // TG_ARGV counts from 0.
      const items = t.args.map((a) => `"${a.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')
      const literal = t.args.length ? `[0:${t.args.length - 1}]={${items}}` : '{}'
      const v = this.evalExpr(`'${literal.replace(/'/g, "''")}'::text[]`)
      this.vals[i] = v
    }
  }
}

/** An assignment statement's target (its name parts) and expression, split once per statement of a body. */
const assignments = new WeakMap<PlNode, { target: string; names: string[]; expr: string }>()

function assignmentOf(s: PlNode): { target: string; names: string[]; expr: string } {
  const known = assignments.get(s)
  if (known !== undefined) return known
  const text = exprText(s.expr)
  const parts = assignmentParts(text)
  if (!parts) throw new SqlError(SqlState.syntaxError, `PL/pgSQL assignment "${text}" could not be parsed`)
  const { target, subscript, expr } = parts
  if (subscript) throw new SqlError(SqlState.featureNotSupported, 'PL/pgSQL assignment to an array element is not supported')
  const names = target.split('.').map((p) => p.trim()).map((p) => (p.startsWith('"') ? p.slice(1, -1) : p.toLowerCase()))
  const a = { target, names, expr }
  assignments.set(s, a)
  return a
}

function tableFields(ctx: ExecCtx, table: string): Array<{ name: string; type: SqlType }> {
  const t = ctx.tx.table(table)
  if (!t) return []
  return tableColumns(t, t.name).filter((c) => !c.hidden).map((c) => ({ name: c.name, type: c.type }))
}

/** Runs a PL/pgSQL function (or DO block, or trigger function when `trigger` is given). */
export function callPlpgsql(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType, trigger?: TriggerCall): RtValue {
  if (ctx.depth >= MAX_DEPTH) throw new SqlError(SqlState.statementTooComplex, 'stack depth limit exceeded')
  if (def.trigger && !trigger) throw new SqlError(SqlState.featureNotSupported, 'trigger functions can only be called as triggers')
  const fn = compilePlpgsql(plpgsqlSource(def))
  return finish(new Frame(ctx, fn, def, result, trigger).call(args, argTypes))
}

/**
 * A PL/pgSQL call (a function, a DO block's body) as a run that pauses when `pauses` says
 * so (its loops ask): each `next()` goes on until the next pause or the end, the call's
 * value. The caller serves other clients between two, in the same transaction
 * (runtime/run-pauses.ts, docs/decisions/0039-pausable-plpgsql.md).
 */
export function plpgsqlSteps(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType, pauses: RunPauses): Steps<RtValue> {
  if (ctx.depth >= MAX_DEPTH) throw new SqlError(SqlState.statementTooComplex, 'stack depth limit exceeded')
  const frame = new Frame(ctx, compilePlpgsql(plpgsqlSource(def)), def, result, undefined)
  frame.pauses = pauses
  return frame.call(args, argTypes)
}

/** Runs a PL/pgSQL function returning SETOF / TABLE: the values its RETURN NEXT / RETURN QUERY gave. */
export function callPlpgsqlSet(ctx: ExecCtx, def: UserFunction, argTypes: SqlType[], args: RtValue[], result: SqlType): RtValue[] {
  if (ctx.depth >= MAX_DEPTH) throw new SqlError(SqlState.statementTooComplex, 'stack depth limit exceeded')
  const fn = compilePlpgsql(plpgsqlSource(def))
  const frame = new Frame(ctx, fn, def, result, undefined)
  frame.results = []
  finish(frame.call(args, argTypes))
  return frame.results
}

export type { Node }
