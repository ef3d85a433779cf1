/**
 * The expression compiler: turns a PostgreSQL parse-tree expression into a typed closure.
 * Types are resolved at plan time (operators, functions, implicit casts), so evaluation
 * does no type dispatch. Three-valued logic throughout: NULL propagates through strict
 * operators, AND/OR follow SQL's truth tables.
 */
import { userTypes } from '../catalog/user-type.js'
import type { UserFunction } from '../catalog/function-def.js'
import type { A_Const, Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { aggregateSeesNulls, isAggregate, ORDERED_SET_AGGREGATES, resolveAggregate, resolveOrderedSet } from '../functions/aggregate.js'
import { compilePattern } from '../functions/regex.js'
import { lookupScalar, lookupVariadicScalar } from '../functions/scalar.js'
import { isSetFunction, lookupSetFunction } from '../functions/set-returning.js'
import type { Relation } from '../relation/relation.js'
import { checkFrame, isWindowFunction, rangeOffsets, resolveWindowDef, windowFunctionSignature, type RangeBounds } from './window.js'
import { compareValues, groupKey } from '../types/compare.js'
import { compareJsonb } from '../types/jsonb-order.js'
import { Decimal } from '../types/decimal.js'
import { canCast } from '../types/cast.js'
import { arrayOf, category, commonType, isIntegerType, isRegType, T, typeFromTypeName, typeName, type SqlType } from '../types/sql-type.js'
import { MAX_FIELDS, rowItems as rowValueItems, RowValue } from '../types/row-type.js'
import { timeTzOfInstant } from '../types/timetz.js'
import { geometricComparator } from './geometric-operators.js'
import { compileDomainCheck } from './domain-check.js'
import { nameList, stringValue } from '../parser/name-list.js'
import { sortDescending, sortNullsFirst } from '../parser/sort-direction.js'
import type { RtValue } from '../types/value.js'
import { arrayFromColumn, compileArrayConstructor, compileArrayQuantifier, compileSubscripts } from './array-expr.js'
import { coerce, fold } from './coerce.js'
import { builtTextTooLong, MAX_BUILT_TEXT } from '../types/text-chars.js'
import { constant, truth, type Compiled } from './compiled.js'
import { likeMatches } from './like.js'
import { compileRegCast } from './reg-cast.js'
import { negate, resolveOperator } from './operators.js'
import { envAt, Scope, type Env } from '../relation/scope.js'
import type { CompileCtx } from './compile-context.js'
import { ownEntry } from '../parser/own-entry.js'

export function fingerprint(node: Node): string {
  return JSON.stringify(node, (k, v) => (k === 'location' ? undefined : v))
}

/** The constant an A_Const node is, typed as PostgreSQL types a literal (an untyped string is `unknown`). */
function constNode(n: Node): Compiled {
  if (!('A_Const' in n)) throw new Error('not a constant')
  readConst(n.A_Const, scratch)
  return constant(scratch.type, scratch.value)
}

const scratch: { type: SqlType; value: RtValue } = { type: T.unknown, value: null }

/**
 * The type and value `constNode` gives an A_Const record, written into `out`: no object
 * made per literal (a bulk INSERT's VALUES rows read thousands).
 */
export function readConst(c: A_Const, out: { type: SqlType; value: RtValue }): void {
  if (c.isnull) return set(out, T.unknown, null)
  if (c.ival !== undefined) return set(out, T.int4, c.ival.ival ?? 0)
  if (c.fval !== undefined) {
    const s = c.fval.fval ?? '0'
    if (/^-?\d+$/.test(s)) {
      const b = BigInt(s)
      // As PostgreSQL's make_const: an integer that fits int4 (only -2147483648 gets here) is int4.
      if (b >= -2147483648n && b <= 2147483647n) return set(out, T.int4, Number(b))
      if (b >= -(2n ** 63n) && b < 2n ** 63n) return set(out, T.int8, b)
    }
    return set(out, T.numeric, Decimal.parse(s))
  }
  if (c.boolval !== undefined) return set(out, T.bool, c.boolval.boolval ?? false)
  if (c.sval !== undefined) return set(out, T.unknown, c.sval.sval ?? '')
  // B'..' and X'..': the digits after the prefix, as text.
  if (c.bsval !== undefined) return set(out, T.text, (c.bsval.bsval ?? '').slice(1))
  // A bare A_Const without a field is integer zero.
  set(out, T.int4, 0)
}

function set(out: { type: SqlType; value: RtValue }, type: SqlType, value: RtValue): void {
  out.type = type
  out.value = value
}

function noFunction(name: string, types: SqlType[]): SqlError {
  return new SqlError(SqlState.undefinedFunction, `function ${name}(${types.map((t) => (t.id === 'unknown' ? 'unknown' : typeName(t))).join(', ')}) does not exist`, {
    hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
  })
}

/** Compiles `node` in `ctx`. */
export function compileExpr(node: Node, ctx: CompileCtx): Compiled {
  if (ctx.agg && !ctx.inAggregate && !ctx.grouped && ctx.agg.groupFingerprints.has(fingerprint(node))) {
    return compileExpr(node, { ...ctx, grouped: true })
  }
  if ('A_Const' in node) {
    const slots = ctx.exec.planSlots
    const i = slots?.constants.get(node.A_Const)
    if (slots === undefined || i === undefined) return constNode(node)
    // A cached plan's literal: same type in every execution, value read when evaluated.
    const type = constNode(node).type
    return { type, eval: () => slots.values[i]! }
  }
  if ('ColumnRef' in node) return compileColumnRef(node.ColumnRef.fields ?? [], ctx)
  if ('ParamRef' in node) {
    const n = node.ParamRef.number ?? 0
    if (n < 1 || n > ctx.exec.params.length) throw new SqlError(SqlState.undefinedParameter, `there is no parameter $${n}`)
    const v = ctx.exec.params[n - 1]!
    const known = ctx.exec.paramTypes?.[n - 1]
    const type = known ?? (v instanceof Uint8Array ? T.bytea : T.unknown)
    const slots = ctx.exec.planSlots
    if (slots === undefined) return constant(type, v)
    // A cached plan's parameter: read from the execution's own parameters, never folded.
    const live = ctx.exec
    return { type, eval: () => live.params[n - 1]! }
  }
  if ('TypeCast' in node) {
    const to = typeFromTypeName(node.TypeCast.typeName ?? {}, userTypes(ctx.exec.tx))
    const src = node.TypeCast.arg!
    // ARRAY[..]::t[] types the elements directly (so ARRAY[]::int[] is valid), as PostgreSQL does.
    const arg = to.array && 'A_ArrayExpr' in src ? compileArrayConstructor(src.A_ArrayExpr, ctx, compileExpr, to) : compileExpr(src, ctx)
    const cast = compileRegCast(arg, to, ctx.exec) ?? coerce(arg, to, 'explicit', ctx.exec.nowMicros)
    const check = compileDomainCheck(to, ctx, compileExpr)
    if (!check) return cast
    const f = cast.eval
    return { type: to, eval: (env) => {
      const v = f(env)
      check(v)
      return v
    } }
  }
  if ('BoolExpr' in node) return compileBool(node.BoolExpr.boolop ?? 'AND_EXPR', node.BoolExpr.args ?? [], ctx)
  if ('A_Expr' in node) return compileAExpr(node.A_Expr, ctx)
  if ('NullTest' in node) {
    const arg = compileExpr(node.NullTest.arg!, ctx)
    const isNull = node.NullTest.nulltesttype === 'IS_NULL'
    const f = arg.eval
    return { type: T.bool, eval: (env) => (f(env) === null) === isNull }
  }
  if ('BooleanTest' in node) {
    const arg = coerce(compileExpr(node.BooleanTest.arg!, ctx), T.bool, 'implicit', ctx.exec.nowMicros)
    const f = arg.eval
    const kind = node.BooleanTest.booltesttype
    return { type: T.bool, eval: (env) => {
      const v = f(env)
      switch (kind) {
        case 'IS_TRUE': return v === true
        case 'IS_NOT_TRUE': return v !== true
        case 'IS_FALSE': return v === false
        case 'IS_NOT_FALSE': return v !== false
        case 'IS_UNKNOWN': return v === null
        default: return v !== null
      }
    } }
  }
  if ('FuncCall' in node) return compileFuncCall(node.FuncCall, ctx)
  if ('CoalesceExpr' in node) {
    const args = (node.CoalesceExpr.args ?? []).map((a) => compileExpr(a, noSrf(ctx)))
    const t = unify(args.map((a) => a.type), 'COALESCE')
    const fs = args.map((a) => coerce(a, t, 'implicit', ctx.exec.nowMicros).eval)
    return { type: t, eval: (env) => {
      for (const f of fs) {
        const v = f(env)
        if (v !== null) return v
      }
      return null
    } }
  }
  if ('MinMaxExpr' in node) {
    const args = (node.MinMaxExpr.args ?? []).map((a) => compileExpr(a, ctx))
    const greatest = node.MinMaxExpr.op === 'IS_GREATEST'
    const t = unify(args.map((a) => a.type), greatest ? 'GREATEST' : 'LEAST')
    const fs = args.map((a) => coerce(a, t, 'implicit', ctx.exec.nowMicros).eval)
    return { type: t, eval: (env) => {
      let best: RtValue = null
      for (const f of fs) {
        const v = f(env)
        if (v === null) continue
        if (best === null || compareValues(v, best) * (greatest ? 1 : -1) > 0) best = v
      }
      return best
    } }
  }
  if ('CaseExpr' in node) return compileCase(node.CaseExpr, ctx)
  if ('SubLink' in node) return compileSubLink(node.SubLink, ctx)
  if ('SQLValueFunction' in node) return compileSqlValueFunction(node.SQLValueFunction.op ?? 'SVFOP_CURRENT_TIMESTAMP', ctx)
  if ('A_ArrayExpr' in node) return compileArrayConstructor(node.A_ArrayExpr, ctx, compileExpr, null)
  if ('CollateClause' in node) return compileExpr(node.CollateClause.arg!, ctx)
  if ('SetToDefault' in node) throw new SqlError(SqlState.syntaxError, 'DEFAULT is not allowed in this context')
  if ('GroupingFunc' in node) throw new SqlError(SqlState.featureNotSupported, 'GROUPING is not supported')
  if ('A_Indirection' in node) {
    const ind = node.A_Indirection.indirection ?? []
    if (ind.length === 0) throw new SqlError(SqlState.featureNotSupported, 'this indirection is not supported')
    // Subscripts and field selections in turn: `(c).f`, `c2[2].f2`, `(x).f[1]`.
    let c = compileExpr(node.A_Indirection.arg!, ctx)
    for (let i = 0; i < ind.length;) {
      let j = i
      while (j < ind.length && 'A_Indices' in ind[j]!) j++
      if (j > i) {
        c = compileSubscripts(c, ind.slice(i, j), ctx, compileExpr)
        i = j
        continue
      }
      const step = ind[i]!
      if (!('String' in step)) throw new SqlError(SqlState.featureNotSupported, 'selecting every field of a row (.*) is not supported here')
      c = compileFieldSelect(c, step.String.sval ?? '')
      i++
    }
    return c
  }
  if ('RowExpr' in node) {
    // ROW(t.*, ..) takes t's columns one by one, as PostgreSQL expands it.
    const items = (node.RowExpr.args ?? []).flatMap((a) => {
      const star = 'ColumnRef' in a ? starTable(a.ColumnRef.fields ?? []) : null
      const w = star === null ? null : ctx.scope.wholeRow(star)
      if (!w) return [compileExpr(a, noSrf(ctx))]
      return w.indexes.map((i, k): Compiled => ({ type: w.columns[k]!.type, eval: (env) => envAt(env, w.depth).row[i]! }))
    })
    if (items.length > MAX_FIELDS) throw new SqlError(SqlState.tooManyColumns, `ROW expressions can have at most ${MAX_FIELDS} entries`)
    const fs = items.map((i) => i.eval)
    const type: SqlType = { id: 'record', fields: items.map((i, k) => ({ name: `f${k + 1}`, type: i.type })) }
    return { type, eval: (env) => new RowValue(fs.map((f) => f(env))) }
  }
  const tag = Object.keys(node)[0]
  throw new SqlError(SqlState.featureNotSupported, `expression ${tag} is not supported`)
}

/** `(row).field`: a field of a row-typed expression (42703 for a field the type lacks). */
function compileFieldSelect(c: Compiled, field: string): Compiled {
  const t = c.type
  if (t.id !== 'record' || t.array || !t.fields) {
    throw new SqlError(SqlState.wrongObjectType, `column notation .${field} applied to type ${typeName(t)}, which is not a composite type`)
  }
  const at = t.fields.findIndex((f) => f.name === field)
  if (at < 0) throw new SqlError(SqlState.undefinedColumn, `column "${field}" not found in data type ${typeName(t)}`)
  const f = c.eval
  return { type: t.fields[at]!.type, eval: (env) => {
    const v = f(env)
    return v instanceof RowValue ? rowValueItems(v)[at] ?? null : null
  } }
}

/** The common type of several expressions (CASE, COALESCE, UNION ...). */
export function unify(types: SqlType[], what: string): SqlType {
  let t: SqlType = T.unknown
  for (const x of types) {
    if (x.id === 'unknown') continue
    const c = commonType(t, x)
    if (!c) throw new SqlError(SqlState.datatypeMismatch, `${what} types ${typeName(t)} and ${typeName(x)} cannot be matched`)
    t = c
  }
  return t.id === 'unknown' ? T.text : t
}

/** The FROM item named by `t.*`, or null when the reference is not of that form. */
function starTable(fields: Node[]): string | null {
  return fields.length === 2 && 'String' in fields[0]! && 'A_Star' in fields[1]! ? nameList([fields[0]!])[0]! : null
}

function compileColumnRef(fields: Node[], ctx: CompileCtx): Compiled {
  // `t.*` where a value is expected is t's whole row, as in PostgreSQL (row_to_json(t.*), t.*::type).
  // Not inside an aggregate: a null-extended outer-join row would count as a row of NULLs there.
  const star = starTable(fields)
  if (star !== null && !ctx.inAggregate) {
    const whole = compileWholeRow(star, ctx)
    if (whole) return whole
    throw new SqlError(SqlState.undefinedTable, `missing FROM-clause entry for table "${star}"`)
  }
  if (fields.some((f) => 'A_Star' in f)) throw new SqlError(SqlState.syntaxError, '* is not allowed here')
  const names = nameList(fields)
  const r = ctx.scope.resolve(names)
  if (!r && names.length === 1) {
    const whole = compileWholeRow(names[0]!, ctx)
    if (whole) return whole
  }
  if (!r) {
    if (names.length >= 2 && !ctx.scope.resolve([names[names.length - 2]!]) && !hasTableAnywhere(ctx.scope, names[names.length - 2]!)) {
      throw new SqlError(SqlState.undefinedTable, `missing FROM-clause entry for table "${names[names.length - 2]}"`)
    }
    throw new SqlError(SqlState.undefinedColumn, `column ${names.map((n) => `"${n}"`).join('.')} does not exist`)
  }
  if (ctx.agg && r.depth === 0 && !ctx.inAggregate && !ctx.grouped && !(r.binding.table && ctx.agg.groupedTables.has(r.binding.table))) {
    const q = r.binding.table ? `${r.binding.table}.${r.binding.name}` : r.binding.name
    throw new SqlError(SqlState.groupingError, `column "${q}" must appear in the GROUP BY clause or be used in an aggregate function`)
  }
  const { depth, index } = r
  const type = r.binding.type
  if (depth === 0) return { type, eval: (env) => env.row[index]! }
  if (depth === 1) return { type, eval: (env) => env.outer!.row[index]! }
  return { type, eval: (env) => envAt(env, depth).row[index]! }
}

/**
 * `t` naming a FROM item where a value is expected: its row, as a value of the table's
 * row type (a table read under its own name) or an anonymous record of its columns.
 */
function compileWholeRow(name: string, ctx: CompileCtx): Compiled | null {
  const w = ctx.scope.wholeRow(name)
  if (!w) return null
  const fields = w.columns.map((c) => ({ name: c.name, type: c.type }))
  const own = userTypes(ctx.exec.tx)(name)
  const type: SqlType = own?.id === 'record' && own.fields?.length === fields.length ? own : { id: 'record', fields }
  const { depth, indexes } = w
  return { type, eval: (env) => {
    const row = envAt(env, depth).row
    return new RowValue(indexes.map((i) => row[i] ?? null))
  } }
}

function hasTableAnywhere(scope: Scope, name: string): boolean {
  for (let s: Scope | null = scope; s; s = s.parent) if (s.hasTable(name)) return true
  return false
}

function compileBool(op: string, args: Node[], ctx: CompileCtx): Compiled {
  const fs = args.map((a) => coerce(compileExpr(a, ctx), T.bool, 'implicit', ctx.exec.nowMicros, 'argument of ' + op).eval)
  if (op === 'NOT_EXPR') {
    const f = fs[0]!
    return { type: T.bool, eval: (env) => {
      const v = f(env)
      return v === null ? null : !v
    } }
  }
  const and = op === 'AND_EXPR'
  return { type: T.bool, eval: (env) => {
    let sawNull = false
    for (const f of fs) {
      const v = f(env)
      if (v === null) sawNull = true
      else if (v === !and) return !and
    }
    return sawNull ? null : and
  } }
}

/** Array comparisons take two arrays of one type, as PostgreSQL's anyarray operators: int[] = int8[] does not exist. */
function checkArrayOperands(op: string, a: SqlType, b: SqlType): void {
  if (a.array && b.array && a.id !== b.id) {
    throw new SqlError(SqlState.undefinedFunction, `operator does not exist: ${typeName(a)} ${op} ${typeName(b)}`, { hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.' })
  }
}

/**
 * character(n) compared with character(m), varchar or an untyped literal: trailing blanks
 * do not count, as PostgreSQL's bpchar operators ('ab'::char(5) = 'ab'::char(2) is true;
 * it was false). Compared with text, the character value is text (its blanks dropped) and
 * the text's own blanks count.
 */
function blankPaddedComparison(a: SqlType, b: SqlType): boolean {
  if (a.array || b.array) return false
  const padded = (x: SqlType, y: SqlType) => x.id === 'bpchar' && (y.id === 'bpchar' || y.id === 'varchar' || y.id === 'unknown')
  return padded(a, b) || padded(b, a)
}

function trimBlanks(v: RtValue): RtValue {
  return typeof v === 'string' && v.endsWith(' ') ? v.replace(/ +$/, '') : v
}

/** Comparison of two compiled operands after promotion to their common type. */
export function compileComparison(op: string, l: Compiled, r: Compiled, nowMicros: number): Compiled {
  checkArrayOperands(op, l.type, r.type)
  const t = commonType(l.type, r.type)
  if (!t) throw new SqlError(SqlState.undefinedFunction, `operator does not exist: ${typeName(l.type)} ${op} ${typeName(r.type)}`, { hint: 'No operator matches the given name and argument types. You might need to add explicit type casts.' })
  const lf = coerce(l, t.id === 'unknown' ? T.text : t, 'implicit', nowMicros).eval
  const rf = coerce(r, t.id === 'unknown' ? T.text : t, 'implicit', nowMicros).eval
  const test = comparator(op)
  // jsonb orders by kind, size and members (jsonb-order.ts), not by its text.
  const cmp = t.id === 'jsonb' && !t.array
    ? (a: RtValue, b: RtValue) => compareJsonb(a as string, b as string)
    : category(t) === 'G' ? geometricComparator(op, t)
      : blankPaddedComparison(l.type, r.type) ? (a: RtValue, b: RtValue) => compareValues(trimBlanks(a), trimBlanks(b)) : compareValues
  // Both sides are evaluated before NULL is answered, as PostgreSQL evaluates a strict
  // operator's arguments: an error on the right of a NULL is raised (it was skipped).
  return fold({ type: T.bool, isConst: l.isConst && r.isConst, eval: (env) => {
    const a = lf(env)
    const b = rf(env)
    if (a === null || b === null) return null
    return test(cmp(a, b))
  } })
}

function comparator(op: string): (c: number) => boolean {
  switch (op) {
    case '=': return (c) => c === 0
    case '<>': case '!=': return (c) => c !== 0
    case '<': return (c) => c < 0
    case '<=': return (c) => c <= 0
    case '>': return (c) => c > 0
    case '>=': return (c) => c >= 0
  }
  throw new SqlError(SqlState.undefinedFunction, `operator does not exist: ${op}`)
}

const COMPARISONS = new Set(['=', '<>', '!=', '<', '<=', '>', '>='])

function compileAExpr(e: NonNullable<Extract<Node, { A_Expr: unknown }>['A_Expr']>, ctx: CompileCtx): Compiled {
  const op = stringValue(e.name?.[e.name.length - 1])
  const now = ctx.exec.nowMicros
  switch (e.kind) {
    case 'AEXPR_OP': {
      if (!e.lexpr) {
        const r = compileExpr(e.rexpr!, ctx)
        if (op === '+') return r
        if (op === '-') {
          const t = r.type.id === 'unknown' ? T.numeric : r.type
          const f = coerce(r, t, 'implicit', now).eval
          const neg = negate(t)
          return fold({ type: t, isConst: r.isConst, eval: (env) => {
            const v = f(env)
            return v === null ? null : neg(v)
          } })
        }
        if (op === '|/' || op === '@' || op === '||/') {
          const t = op === '@' ? (r.type.id === 'unknown' ? T.numeric : r.type) : T.float8
          const f = coerce(r, t, 'implicit', now).eval
          const impl = lookupScalar(op === '@' ? 'abs' : op === '|/' ? 'sqrt' : 'cbrt', [t])!
          return { type: impl.result, eval: (env) => {
            const v = f(env)
            return v === null ? null : impl.fn([v], ctx.exec)
          } }
        }
        if (op === '~') {
          const t = r.type.id === 'int8' ? T.int8 : r.type.id === 'int2' ? T.int2 : T.int4
          const f = coerce(r, t, 'implicit', now).eval
          return { type: t, eval: (env) => {
            const v = f(env)
            return v === null ? null : t.id === 'int8' ? ~(v as bigint) : ~(v as number)
          } }
        }
        throw new SqlError(SqlState.undefinedFunction, `operator does not exist: ${op} ${typeName(r.type)}`)
      }
      if (COMPARISONS.has(op) && (isRow(e.lexpr) || isRow(e.rexpr))) {
        return compileRowComparison(op, rowItems(e.lexpr, ctx), rowItems(e.rexpr!, ctx), now)
      }
      let l = compileExpr(e.lexpr, ctx)
      let r = compileExpr(e.rexpr!, ctx)
      if (op === '||') {
        // text || regclass: the OID alias goes in by its output function (the name), as in PostgreSQL.
        if (isRegType(l.type) && !isRegType(r.type)) l = compileRegCast(l, T.text, ctx.exec) ?? l
        if (isRegType(r.type) && !isRegType(l.type)) r = compileRegCast(r, T.text, ctx.exec) ?? r
      }
      return compileBinaryOperator(op, l, r, now)
    }
    case 'AEXPR_DISTINCT': case 'AEXPR_NOT_DISTINCT': {
      const l = compileExpr(e.lexpr!, ctx)
      const r = compileExpr(e.rexpr!, ctx)
      checkArrayOperands('=', l.type, r.type)
      const t = commonType(l.type, r.type) ?? T.text
      const lf = coerce(l, t, 'implicit', now).eval
      const rf = coerce(r, t, 'implicit', now).eval
      const distinct = e.kind === 'AEXPR_DISTINCT'
      return { type: T.bool, eval: (env) => {
        const a = lf(env)
        const b = rf(env)
        const same = a === null || b === null ? a === b : compareValues(a, b) === 0
        return distinct ? !same : same
      } }
    }
    case 'AEXPR_NULLIF': {
      const l = compileExpr(e.lexpr!, ctx)
      const r = compileExpr(e.rexpr!, ctx)
      const t = commonType(l.type, r.type) ?? l.type
      const lf = coerce(l, t.id === 'unknown' ? T.text : t, 'implicit', now).eval
      const rf = coerce(r, t.id === 'unknown' ? T.text : t, 'implicit', now).eval
      return { type: t.id === 'unknown' ? T.text : t, eval: (env) => {
        const a = lf(env)
        if (a === null) return null
        const b = rf(env)
        return b !== null && compareValues(a, b) === 0 ? null : a
      } }
    }
    case 'AEXPR_IN': {
      if (isRow(e.lexpr)) {
        const left = rowItems(e.lexpr!, ctx)
        const items = e.rexpr && 'List' in e.rexpr ? e.rexpr.List.items ?? [] : [e.rexpr!]
        const tests = items.map((it) => compileRowComparison(op === '<>' ? '<>' : '=', left, rowItems(it, ctx), now).eval)
        const negated = op === '<>'
        // x IN (a, b) is x = a OR x = b; x NOT IN (a, b) is x <> a AND x <> b.
        return { type: T.bool, eval: (env) => {
          let sawNull = false
          for (const t of tests) {
            const v = t(env)
            if (v === null) sawNull = true
            else if (v === !negated) return !negated
          }
          return sawNull ? null : negated
        } }
      }
      const l = compileExpr(e.lexpr!, ctx)
      const list = (e.rexpr && 'List' in e.rexpr ? e.rexpr.List.items ?? [] : [e.rexpr!]).map((x) => compileExpr(x, ctx))
      for (const x of list) checkArrayOperands('=', l.type, x.type)
      let t: SqlType
      try {
        t = unify([l.type, ...list.map((x) => x.type)], 'IN')
      } catch {
        const bad = list.find((x) => !commonType(l.type, x.type))
        throw new SqlError(SqlState.undefinedFunction, `operator does not exist: ${typeName(l.type)} = ${typeName(bad?.type ?? T.text)}`)
      }
      const lf = coerce(l, t, 'implicit', now).eval
      const fs = list.map((x) => coerce(x, t, 'implicit', now))
      const negated = op === '<>'
      if (fs.every((f) => f.isConst)) {
        let set: Set<string> | null = null
        let hasNull = false
        return { type: T.bool, eval: (env) => {
          if (!set) {
            set = new Set()
            for (const f of fs) {
              const v = f.eval(env)
              if (v === null) hasNull = true
              else set.add(groupKey(v))
            }
          }
          const a = lf(env)
          if (a === null) return null
          if (set.has(groupKey(a))) return !negated
          return hasNull ? null : negated
        } }
      }
      return { type: T.bool, eval: (env) => {
        const a = lf(env)
        if (a === null) return null
        let sawNull = false
        for (const f of fs) {
          const b = f.eval(env)
          if (b === null) sawNull = true
          else if (compareValues(a, b) === 0) return !negated
        }
        return sawNull ? null : negated
      } }
    }
    case 'AEXPR_LIKE': case 'AEXPR_ILIKE': {
      const l = compileExpr(e.lexpr!, ctx)
      const r = compileExpr(e.rexpr!, ctx)
      return compileLike(l, r, e.kind === 'AEXPR_ILIKE', op.startsWith('!'), now)
    }
    case 'AEXPR_SIMILAR':
      // `a [NOT] SIMILAR TO p [ESCAPE e]` is `a ~ similar_to_escape(p[, e])` (`!~` for NOT), as PostgreSQL's parser makes it.
      return compileExpr({ A_Expr: { ...e, kind: 'AEXPR_OP' } }, ctx)
    case 'AEXPR_BETWEEN': case 'AEXPR_NOT_BETWEEN': case 'AEXPR_BETWEEN_SYM': case 'AEXPR_NOT_BETWEEN_SYM': {
      const x = compileExpr(e.lexpr!, ctx)
      const bounds = e.rexpr && 'List' in e.rexpr ? e.rexpr.List.items ?? [] : []
      const lo = compileExpr(bounds[0]!, ctx)
      const hi = compileExpr(bounds[1]!, ctx)
      const sym = e.kind.endsWith('_SYM')
      const neg = e.kind.includes('NOT')
      const ge = compileComparison('>=', x, lo, now).eval
      const le = compileComparison('<=', x, hi, now).eval
      const ge2 = sym ? compileComparison('>=', x, hi, now).eval : null
      const le2 = sym ? compileComparison('<=', x, lo, now).eval : null
      // `x >= lo AND x <= hi`, the second comparison skipped once the first is false, as PostgreSQL's AND runs it
      // (both were evaluated: an error in the second failed rows PostgreSQL had already excluded).
      const and3 = (a: (env: Env) => RtValue, b: (env: Env) => RtValue, env: Env): RtValue => {
        const x = a(env)
        if (x === false) return false
        const y = b(env)
        return y === false ? false : x === null || y === null ? null : true
      }
      return { type: T.bool, eval: (env) => {
        let v = and3(ge, le, env)
        if (sym && v !== true) {
          const w = and3(ge2!, le2!, env)
          v = v === null && w !== true ? null : w === true ? true : v
        }
        return v === null ? null : neg ? !v : v
      } }
    }
    case 'AEXPR_OP_ANY': case 'AEXPR_OP_ALL': {
      const l = compileExpr(e.lexpr!, ctx)
      const r = compileExpr(e.rexpr!, ctx)
      return compileArrayQuantifier(op, e.kind === 'AEXPR_OP_ALL', l, r, now, (o, a, b) => compileBinaryOperator(o, a, b, now))
    }
  }
  throw new SqlError(SqlState.featureNotSupported, `operator kind ${e.kind} is not supported`)
}

/** `l op r` for a binary operator: comparisons, LIKE, regular expressions, then the operator table. */
export function compileBinaryOperator(op: string, l: Compiled, r: Compiled, now: number): Compiled {
  if (COMPARISONS.has(op)) return compileComparison(op, l, r, now)
  if (op === '~~' || op === '!~~' || op === '~~*' || op === '!~~*') return compileLike(l, r, op.includes('*'), op.startsWith('!'), now)
  if (op === '~' || op === '~*' || op === '!~' || op === '!~*') return compileRegex(l, r, op.includes('*'), op.startsWith('!'), now)
  const impl = resolveOperator(op, l.type, r.type)
  const lf = coerce(l, impl.left, 'implicit', now).eval
  const rf = coerce(r, impl.right, 'implicit', now).eval
  const fn = impl.fn
  const strict = !impl.nonStrict
  return fold({ type: impl.result, isConst: l.isConst && r.isConst, eval: (env) => {
    const a = lf(env)
    const b = rf(env)
    if ((a === null || b === null) && strict) return null
    return fn(a, b)
  } })
}

function quantified(a: RtValue, items: RtValue[], test: (c: number) => boolean, all: boolean): boolean | null {
  let sawNull = false
  for (const b of items) {
    if (a === null || b === null) {
      sawNull = true
      continue
    }
    const ok = test(compareValues(a, b))
    if (all && !ok) return false
    if (!all && ok) return true
  }
  if (items.length === 0) return all
  return sawNull ? null : all
}

/** The text a pattern matches: a character(n) value with its blanks, as PostgreSQL's bpchar LIKE and regex operators see it. */
function matchedText(l: Compiled, now: number): (env: Env) => RtValue {
  return l.type.id === 'bpchar' && !l.type.array ? l.eval : coerce(l, T.text, 'implicit', now).eval
}

function compileLike(l: Compiled, r: Compiled, insensitive: boolean, negated: boolean, now: number): Compiled {
  const lf = matchedText(l, now)
  const rf = coerce(r, T.text, 'implicit', now).eval
  return { type: T.bool, eval: (env) => {
    const a = lf(env)
    const p = rf(env)
    if (a === null || p === null) return null
    const m = likeMatches(a as string, p as string, insensitive)
    return negated ? !m : m
  } }
}

function compileRegex(l: Compiled, r: Compiled, insensitive: boolean, negated: boolean, now: number): Compiled {
  const lf = matchedText(l, now)
  const rf = coerce(r, T.text, 'implicit', now).eval
  return { type: T.bool, eval: (env) => {
    const a = lf(env)
    const p = rf(env)
    if (a === null || p === null) return null
    const m = compilePattern(p as string, { global: false, insensitive }).test(a as string)
    return negated ? !m : m
  } }
}

function compileCase(c: NonNullable<Extract<Node, { CaseExpr: unknown }>['CaseExpr']>, outer: CompileCtx): Compiled {
  const ctx = noSrf(outer)
  const now = ctx.exec.nowMicros
  const whens = (c.args ?? []).map((w) => {
    if (!('CaseWhen' in w)) throw new SqlError(SqlState.syntaxError, 'bad CASE')
    return { cond: w.CaseWhen.expr!, result: compileExpr(w.CaseWhen.result!, ctx) }
  })
  const def = c.defresult ? compileExpr(c.defresult, ctx) : constant(T.unknown, null)
  const t = unify([...whens.map((w) => w.result.type), def.type], 'CASE')
  const results = whens.map((w) => coerce(w.result, t, 'implicit', now).eval)
  const deff = coerce(def, t, 'implicit', now).eval
  let conds: Array<(env: Env) => RtValue>
  if (c.arg) {
    const subject = compileExpr(c.arg, ctx)
    conds = whens.map((w) => compileComparison('=', subject, compileExpr(w.cond, ctx), now).eval)
  } else {
    conds = whens.map((w) => coerce(compileExpr(w.cond, ctx), T.bool, 'implicit', now, 'argument of CASE/WHEN').eval)
  }
  return { type: t, eval: (env) => {
    for (let i = 0; i < conds.length; i++) if (conds[i]!(env) === true) return results[i]!(env)
    return deff(env)
  } }
}

/** Marks uncorrelated subqueries so their result is computed once per statement. */
function cachedRows(rel: Relation, correlated: () => boolean): (env: Env) => RtValue[][] {
  let cache: RtValue[][] | null = null
  return (env) => {
    if (cache) return cache
    const rows = rel.rows(env)
    if (!correlated()) cache = rows
    return rows
  }
}

function compileSubLink(s: NonNullable<Extract<Node, { SubLink: unknown }>['SubLink']>, ctx: CompileCtx): Compiled {
  const sel = s.subselect && 'SelectStmt' in s.subselect ? s.subselect.SelectStmt : null
  if (!sel) throw new SqlError(SqlState.featureNotSupported, 'unsupported subquery')
  const boundary = new CorrelationProbe(ctx.scope)
  const rel = ctx.planSubquery(sel, boundary.scope)
  const rowsOf = cachedRows(rel, () => boundary.correlated)
  const now = ctx.exec.nowMicros
  switch (s.subLinkType) {
    case 'EXISTS_SUBLINK':
      return { type: T.bool, eval: (env) => rowsOf(env).length > 0 }
    case 'EXPR_SUBLINK': {
      if (rel.columns.length !== 1) throw new SqlError(SqlState.syntaxError, 'subquery must return only one column')
      const t = rel.columns[0]!.type
      return { type: t.id === 'unknown' ? T.text : t, eval: (env) => {
        const rows = rowsOf(env)
        if (rows.length > 1) throw new SqlError(SqlState.cardinalityViolation, 'more than one row returned by a subquery used as an expression')
        return rows.length ? rows[0]![0]! : null
      } }
    }
    case 'ARRAY_SUBLINK': {
      if (rel.columns.length !== 1) throw new SqlError(SqlState.syntaxError, 'subquery must return only one column')
      const t = rel.columns[0]!.type
      return { type: arrayOf(t), eval: (env) => arrayFromColumn(rowsOf(env).map((r) => r[0]!), t) }
    }
    case 'ANY_SUBLINK': case 'ALL_SUBLINK': {
      if (isRow(s.testexpr)) return compileRowSubLink(s, rel, rowsOf, ctx)
      if (rel.columns.length !== 1) throw new SqlError(SqlState.syntaxError, rel.columns.length > 1 ? 'subquery has too many columns' : 'subquery has too few columns')
      const op = s.operName ? stringValue(s.operName[s.operName.length - 1]) : '='
      const l = compileExpr(s.testexpr!, ctx)
      const rt = rel.columns[0]!.type
      const t = commonType(l.type, rt)
      if (!t) throw new SqlError(SqlState.undefinedFunction, `operator does not exist: ${typeName(l.type)} ${op} ${typeName(rt)}`)
      const lf = coerce(l, t, 'implicit', now).eval
      const conv = coerce({ type: rt, eval: (env) => env.row[0]! }, t, 'implicit', now).eval
      const all = s.subLinkType === 'ALL_SUBLINK'
      const test = comparator(op)
      if (op === '=' && !all) {
        // Hash probe for IN (subquery).
        let cacheFor: RtValue[][] | null = null
        let set = new Set<string>()
        let hasNull = false
        return { type: T.bool, eval: (env) => {
          const a = lf(env)
          const rows = rowsOf(env)
          if (rows !== cacheFor) {
            cacheFor = rows
            set = new Set()
            hasNull = false
            for (const r of rows) {
              const v = conv({ row: r, outer: null })
              if (v === null) hasNull = true
              else set.add(groupKey(v))
            }
          }
          if (rows.length === 0) return false
          if (a === null) return null
          if (set.has(groupKey(a))) return true
          return hasNull ? null : false
        } }
      }
      return { type: T.bool, eval: (env) => {
        const a = lf(env)
        const items = rowsOf(env).map((r) => conv({ row: r, outer: null }))
        return quantified(a, items, test, all)
      } }
    }
  }
  throw new SqlError(SqlState.featureNotSupported, `subquery kind ${s.subLinkType} is not supported`)
}

function isRow(n: Node | undefined): boolean {
  return !!n && 'RowExpr' in n
}

/** The fields of a row constructor, or a single expression as a one-field row. */
function rowItems(n: Node, ctx: CompileCtx): Compiled[] {
  if ('RowExpr' in n) return (n.RowExpr.args ?? []).map((a) => compileExpr(a, ctx))
  return [compileExpr(n, ctx)]
}

/**
 * Row-wise comparison as PostgreSQL's row_compare: `=` needs every pair equal, `<>` any
 * pair unequal; `<`, `<=`, `>`, `>=` compare the pairs left to right and decide at the
 * first unequal one. A NULL pair that decides makes the result NULL.
 */
export function compileRowComparison(op: string, ls: Compiled[], rs: Compiled[], now: number): Compiled {
  if (ls.length !== rs.length) throw new SqlError(SqlState.syntaxError, 'unequal number of entries in row expressions')
  if (ls.length === 0) throw new SqlError(SqlState.featureNotSupported, 'cannot compare rows of zero length')
  const eqs = ls.map((l, i) => compileComparison('=', l, rs[i]!, now).eval)
  if (op === '=' || op === '<>' || op === '!=') {
    const ne = op !== '='
    return { type: T.bool, eval: (env) => {
      let sawNull = false
      for (const f of eqs) {
        const v = f(env)
        if (v === null) sawNull = true
        else if (v === false) return ne
      }
      return sawNull ? null : !ne
    } }
  }
  const strict = op.replace('=', '')
  const lts = ls.map((l, i) => compileComparison(strict, l, rs[i]!, now).eval)
  const orEqual = op.endsWith('=')
  return { type: T.bool, eval: (env) => {
    for (let i = 0; i < eqs.length; i++) {
      const v = eqs[i]!(env)
      if (v === null) return null
      if (v === false) return lts[i]!(env)
    }
    return orEqual
  } }
}

/** (a, b) IN / op ANY / op ALL (SELECT x, y ..): the left row against each subquery row. */
function compileRowSubLink(s: NonNullable<Extract<Node, { SubLink: unknown }>['SubLink']>, rel: Relation, rowsOf: (env: Env) => RtValue[][], ctx: CompileCtx): Compiled {
  const left = rowItems(s.testexpr!, ctx)
  const width = left.length
  if (rel.columns.length !== width) throw new SqlError(SqlState.syntaxError, rel.columns.length > width ? 'subquery has too many columns' : 'subquery has too few columns')
  const op = s.operName ? stringValue(s.operName[s.operName.length - 1]) : '='
  // Compare over a synthetic row: the left values, then the subquery row's values.
  const ls = left.map((l, i): Compiled => ({ type: l.type, eval: (env) => env.row[i]! }))
  const rs = rel.columns.map((c, i): Compiled => ({ type: c.type, eval: (env) => env.row[width + i]! }))
  const test = compileRowComparison(op, ls, rs, ctx.exec.nowMicros).eval
  const lfs = left.map((l) => l.eval)
  const all = s.subLinkType === 'ALL_SUBLINK'
  return { type: T.bool, eval: (env) => {
    const lv = lfs.map((f) => f(env))
    let sawNull = false
    for (const r of rowsOf(env)) {
      const v = test({ row: lv.concat(r), outer: null })
      if (v === null) sawNull = true
      else if (v !== all) return v
    }
    return sawNull ? null : all
  } }
}

/**
 * Stands in for the enclosing scope of a subquery (same columns, same chain) and records
 * whether the subquery resolved any name there or above, i.e. whether it is correlated.
 */
class CorrelationProbe {
  private readonly flag = { correlated: false }
  readonly scope: Scope
  constructor(outer: Scope) {
    this.scope = new Scope(outer.columns, outer.parent, this.flag)
  }

  get correlated(): boolean {
    return this.flag.correlated
  }
}

function compileSqlValueFunction(op: string, ctx: CompileCtx): Compiled {
  switch (op) {
    case 'SVFOP_CURRENT_DATE': return { type: T.date, eval: () => Math.floor(ctx.exec.nowMicros / 86_400_000_000) }
    case 'SVFOP_CURRENT_TIMESTAMP': case 'SVFOP_CURRENT_TIMESTAMP_N': return { type: T.timestamptz, eval: () => ctx.exec.nowMicros }
    case 'SVFOP_LOCALTIMESTAMP': case 'SVFOP_LOCALTIMESTAMP_N': return { type: T.timestamp, eval: () => ctx.exec.nowMicros }
    case 'SVFOP_CURRENT_TIME': case 'SVFOP_CURRENT_TIME_N':
      return { type: T.timetz, eval: () => timeTzOfInstant(ctx.exec.nowMicros) }
    case 'SVFOP_LOCALTIME': case 'SVFOP_LOCALTIME_N':
      return { type: T.time, eval: () => ctx.exec.nowMicros % 86_400_000_000 }
    case 'SVFOP_CURRENT_CATALOG': return { type: T.name, eval: () => 'concord' }
    case 'SVFOP_CURRENT_SCHEMA': return { type: T.name, eval: () => 'public' }
    case 'SVFOP_SESSION_USER': return { type: T.name, eval: () => ctx.exec.settings.sessionUser }
    default: return { type: T.name, eval: () => ctx.exec.settings.user }
  }
}

function compileFuncCall(f: NonNullable<Extract<Node, { FuncCall: unknown }>['FuncCall']>, ctx: CompileCtx): Compiled {
  const names = nameList(f.funcname)
  const name = names[names.length - 1]!.toLowerCase()
  if (f.over) return compileWindowCall(name, f, ctx)
  if (isAggregate(name) && !ctx.exec.functions(name)) return compileAggregateCall(name, f, ctx)
  if (f.agg_star) throw new SqlError(SqlState.syntaxError, `${name}(*) specified, but ${name} is not an aggregate function`)
  if (isSetFunction(name) && !ctx.exec.functions(name)) return compileSetReturningCall(name, f, ctx)
  const argNodes = namedArgs(name, f.args ?? [])
  // EXTRACT(field FROM x) and date_part('field', x) take the field as text.
  const args = argNodes.map((a) => compileExpr(a, ctx))
  const user = ctx.exec.functions(name)
  if (user) return compileUserCall(name, args, ctx)
  const impl = (f.func_variadic ? lookupVariadicScalar(name, args.map((a) => a.type)) : undefined) ?? lookupScalar(name, args.map((a) => a.type))
  if (impl === undefined) throw noFunction(name, args.map((a) => a.type))
  if (impl === null) throw noFunction(name, args.map((a) => a.type))
  const now = ctx.exec.nowMicros
  args.forEach((a, i) => {
    if (impl.args[i] && !canCast(a.type, impl.args[i]!, 'implicit')) throw noFunction(name, args.map((x) => x.type))
  })
  // A name passed where an OID alias is expected (pg_table_size('orders')) is looked up.
  const fs = args.map((a, i) => (impl.args[i] && compileRegCast(a, impl.args[i]!, ctx.exec)) || coerce(a, impl.args[i] ?? a.type, 'implicit', now)).map((c) => c.eval)
  const fn = impl.fn
  const exec = ctx.exec
  const strict = !impl.nonStrict
  const isConst = !impl.volatile && ctx.exec.planSlots?.callsPerRun !== true && args.every((a) => a.isConst)
  return fold({ type: impl.result, isConst, eval: (env) => {
    // Every argument is evaluated before a strict function answers NULL, as in PostgreSQL.
    const vals = new Array<RtValue>(fs.length)
    let sawNull = false
    for (let i = 0; i < fs.length; i++) if ((vals[i] = fs[i]!(env)) === null) sawNull = true
    if (sawNull && strict) return null
    const r = fn(vals, exec)
    // Every text a function builds is bounded (types/text-chars.ts MAX_BUILT_TEXT).
    if (typeof r === 'string' && r.length > MAX_BUILT_TEXT) throw builtTextTooLong(r.length)
    return r
  } })
}

function compileWindowCall(name: string, f: NonNullable<Extract<Node, { FuncCall: unknown }>['FuncCall']>, ctx: CompileCtx): Compiled {
  if (!ctx.win || ctx.inAggregate) throw new SqlError(SqlState.windowingError, ctx.inAggregate ? 'aggregate function calls cannot contain window function calls' : 'window functions are not allowed here')
  if (!isWindowFunction(name) || ctx.exec.functions(name)) throw new SqlError(SqlState.undefinedFunction, `function ${name} is not a window function`)
  if (f.agg_distinct) throw new SqlError(SqlState.featureNotSupported, 'DISTINCT is not implemented for window functions')
  if (f.agg_order?.length) throw new SqlError(SqlState.featureNotSupported, 'aggregate ORDER BY is not implemented for window functions')
  const win = ctx.win
  const def = resolveWindowDef(f.over!, win.named)
  checkFrame(def.frameOptions ?? 0, def.orderClause?.length ?? 0)
  // Arguments, partition and order keys see the row after grouping; nested windows are not allowed.
  const inner: CompileCtx = { ...ctx, win: null, srf: null }
  const now = ctx.exec.nowMicros
  const raw = (f.args ?? []).map((a) => compileExpr(a, inner))
  const sig = windowFunctionSignature(name, raw, !!f.agg_star, now)
  const order = (def.orderClause ?? []).map((o) => {
    if (!('SortBy' in o)) throw new SqlError(SqlState.syntaxError, 'bad ORDER BY in window')
    const desc = sortDescending(o.SortBy)
    return { key: compileExpr(o.SortBy.node!, inner), desc, nullsFirst: sortNullsFirst(o.SortBy, desc) }
  })
  const ranged = rangeOffsets(def.frameOptions ?? 0)
  // An untyped RANGE offset ('1 day') is an interval for a date/time key, else the key's type (PostgreSQL's in_range).
  const rangeOffset = (n: Node): Node => {
    if (compileExpr(n, inner).type.id !== 'unknown') return n
    const keyType = order[0]!.key.type
    const typeName = ['date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval'].includes(keyType.id) ? 'interval' : keyType.id
    return { TypeCast: { arg: n, typeName: { names: [{ String: { sval: typeName } }] } } }
  }
  // ROWS and GROUPS offsets count rows or groups; a RANGE offset keeps its own type.
  const offset = (n: Node | undefined) => (n ? (ranged ? compileExpr(rangeOffset(n), inner) : coerce(compileExpr(n, inner), T.int8, 'implicit', now)) : null)
  let range: RangeBounds | null = null
  if (ranged) {
    const sortBy = (def.orderClause![0] as Extract<Node, { SortBy: unknown }>).SortBy
    const desc = sortDescending(sortBy)
    // The bound of row r: its key moved back (PRECEDING) or on (FOLLOWING) in sort order.
    const bound = (which: 'preceding' | 'following' | null, n: Node | undefined, side: 'start' | 'end'): Compiled | null => {
      if (!which || !n) return null
      const op = (which === 'preceding') !== desc ? '-' : '+'
      const c = compileExpr({ A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: op } }], lexpr: sortBy.node!, rexpr: rangeOffset(n) } }, inner)
      // An infinite key moved by an infinite offset (inf - inf): PostgreSQL's in_range takes every
      // value but NaN into such a frame, as if this bound were infinitely far out on its side.
      const far = (side === 'end') !== desc ? Infinity : -Infinity
      return { type: c.type, eval: (env) => {
        const v = c.eval(env)
        if (typeof v === 'number' && Number.isNaN(v)) {
          const k = compileKey.eval(env)
          return typeof k === 'number' && !Number.isNaN(k) ? far : v
        }
        if (v instanceof Decimal && v.isNaN()) {
          const k = compileKey.eval(env)
          if (k instanceof Decimal && !k.isNaN()) return far > 0 ? Decimal.INFINITY : Decimal.NEGATIVE_INFINITY
        }
        return v
      } }
    }
    const compileKey = compileExpr(sortBy.node!, inner)
    const start = bound(ranged[0], def.startOffset, 'start')
    const end = bound(ranged[1], def.endOffset, 'end')
    const t = (start ?? end)!.type
    range = { key: coerce(order[0]!.key, t, 'implicit', now), start: start && coerce(start, t, 'implicit', now), end: end && coerce(end, t, 'implicit', now) }
  }
  const slot = win.slots.length
  win.slots.push({
    name, args: sig.args, agg: sig.agg, star: !!f.agg_star, order, frameOptions: def.frameOptions ?? 0,
    partition: (def.partitionClause ?? []).map((p) => compileExpr(p, inner)),
    startOffset: offset(def.startOffset), endOffset: offset(def.endOffset), range,
    filter: f.agg_filter ? coerce(compileExpr(f.agg_filter, inner), T.bool, 'implicit', now) : null,
  })
  return { type: sig.result, eval: (env) => env.wins![slot]! }
}

function noSrf(ctx: CompileCtx): CompileCtx {
  return ctx.srf ? { ...ctx, srf: null } : ctx
}

/** A set-returning call in a select list: registered with the query level's ProjectSet. */
function compileSetReturningCall(name: string, f: NonNullable<Extract<Node, { FuncCall: unknown }>['FuncCall']>, ctx: CompileCtx): Compiled {
  if (!ctx.srf) throw new SqlError(SqlState.featureNotSupported, `set-returning function ${name}() is not allowed here`)
  if (f.agg_distinct || f.agg_filter || f.agg_order?.length) throw new SqlError(SqlState.wrongObjectType, `${name} is not an aggregate function`)
  const args = (f.args ?? []).map((a) => compileExpr(a, noSrf(ctx)))
  const impl = lookupSetFunction(name, args.map((a) => a.type))
  if (!impl) throw noFunction(name, args.map((a) => a.type))
  const now = ctx.exec.nowMicros
  const fs = args.map((a, i) => coerce(a, impl.args[i]!, 'implicit', now).eval)
  const exec = ctx.exec
  const slot = ctx.srf.add((env) => impl.rows(fs.map((g) => g(env)), exec))
  return { type: impl.result, eval: (env) => env.srfs![slot]! }
}

/** A user function returning SETOF in a select list: one output row per value, as a built-in set-returning function. */
function compileUserSetCall(name: string, def: UserFunction, args: Compiled[], ctx: CompileCtx): Compiled {
  const run = ctx.exec.callUserSetFunction
  if (!ctx.srf || !run) throw new SqlError(SqlState.featureNotSupported, `set-returning function ${name}() is not allowed here`)
  if (def.args.length !== args.length) throw noFunction(name, args.map((a) => a.type))
  const now = ctx.exec.nowMicros
  const argTypes = def.args.map((a, i) => (a.type.id === 'anyelement' ? args[i]!.type : a.type))
  const fs = args.map((a, i) => coerce(a, argTypes[i]!, 'implicit', now).eval)
  const exec = ctx.exec
  const slot = ctx.srf.add((env) => run(exec, def, argTypes, fs.map((g) => g(env)), def.returns))
  return { type: def.returns, eval: (env) => env.srfs![slot]! }
}

/** Parameter names of built-ins that accept `name => value` notation. */
const NAMED_PARAMS: Record<string, string[]> = {
  make_interval: ['years', 'months', 'weeks', 'days', 'hours', 'mins', 'secs'],
  make_timestamp: ['year', 'month', 'mday', 'hour', 'min', 'sec'],
  make_timestamptz: ['year', 'month', 'mday', 'hour', 'min', 'sec'],
  make_date: ['year', 'month', 'day'],
}

/** Reorders `name => value` arguments into positions; gaps take the parameter's default 0. */
function namedArgs(fn: string, args: Node[]): Node[] {
  if (!args.some((a) => 'NamedArgExpr' in a)) return args
  const params = ownEntry(NAMED_PARAMS, fn)
  if (!params) throw new SqlError(SqlState.undefinedFunction, `function ${fn} does not accept named arguments`)
  const out: Array<Node | undefined> = []
  args.forEach((a, i) => {
    if ('NamedArgExpr' in a) {
      const k = params.indexOf(a.NamedArgExpr.name ?? '')
      if (k < 0) throw new SqlError(SqlState.undefinedFunction, `function ${fn} has no parameter named "${a.NamedArgExpr.name}"`)
      out[k] = a.NamedArgExpr.arg
    } else out[i] = a
  })
  const zero: Node = { A_Const: { ival: { ival: 0 } } }
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = zero
  return out as Node[]
}

/**
 * `percentile_cont(f) WITHIN GROUP (ORDER BY x)` and the other ordered-set aggregates: the
 * ORDER BY value is the aggregated argument, sorted by the aggregate machinery (as an
 * aggregate's own ORDER BY), the direct arguments follow it.
 */
function compileOrderedSetCall(name: string, f: NonNullable<Extract<Node, { FuncCall: unknown }>['FuncCall']>, direct: Compiled[], inner: CompileCtx, ctx: CompileCtx): Compiled {
  if (!f.agg_within_group) throw new SqlError(SqlState.undefinedFunction, `WITHIN GROUP is required for ordered-set aggregate ${name}`)
  if (!ORDERED_SET_AGGREGATES.has(name)) throw new SqlError(SqlState.undefinedFunction, `${name} is not an ordered-set aggregate, so it cannot have WITHIN GROUP`)
  if (f.agg_distinct || f.over) throw new SqlError(SqlState.featureNotSupported, `${f.over ? 'OVER' : 'DISTINCT'} is not supported for ordered-set aggregate ${name}`)
  const sorts = f.agg_order ?? []
  if (sorts.length !== 1 || !('SortBy' in sorts[0]!)) throw new SqlError(SqlState.undefinedFunction, `function ${name} with ${sorts.length} ordering columns does not exist`)
  const by = sorts[0]!.SortBy
  const value = compileExpr(by.node!, inner)
  const impl = resolveOrderedSet(name, direct.map((a) => a.type), value.type)
  const now = ctx.exec.nowMicros
  const key = coerce(value, impl.args[0]!, 'implicit', now)
  const args = [key, ...direct.map((a, i) => coerce(a, impl.args[i + 1]!, 'implicit', now))]
  const filter = f.agg_filter ? coerce(compileExpr(f.agg_filter, inner), T.bool, 'implicit', now) : null
  const desc = sortDescending(by)
  const slot = ctx.agg!.slots.length
  ctx.agg!.slots.push({ impl, name, args, distinct: false, filter, seesNulls: false, order: [{ key, desc, nullsFirst: sortNullsFirst(by, desc) }] })
  return { type: impl.result, eval: (env) => env.aggs![slot]! }
}

/** Aggregates whose result lists their inputs in the order they were taken. */
const ORDER_SHOWING_AGGREGATES = new Set(['array_agg', 'string_agg', 'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg'])

function compileAggregateCall(name: string, f: NonNullable<Extract<Node, { FuncCall: unknown }>['FuncCall']>, ctx: CompileCtx): Compiled {
  if (!ctx.agg) throw new SqlError(SqlState.groupingError, `aggregate functions are not allowed in this context`)
  if (ctx.inAggregate) throw new SqlError(SqlState.groupingError, 'aggregate function calls cannot be nested')
  const inner: CompileCtx = { ...ctx, scope: ctx.agg.inputScope, inAggregate: true, srf: null }
  const args = (f.args ?? []).map((a) => compileExpr(a, inner))
  if (ORDERED_SET_AGGREGATES.has(name) || f.agg_within_group) return compileOrderedSetCall(name, f, args, inner, ctx)
  const impl = resolveAggregate(name, args.map((a) => a.type), !!f.agg_star)
  const now = ctx.exec.nowMicros
  const coerced = args.map((a, i) => coerce(a, impl.args[i] ?? a.type, 'implicit', now))
  const filter = f.agg_filter ? coerce(compileExpr(f.agg_filter, inner), T.bool, 'implicit', now) : null
  const slot = ctx.agg.slots.length
  // With DISTINCT, each ORDER BY expression must be one of the arguments (as written).
  if (f.agg_distinct && f.agg_order?.length) {
    const given = new Set((f.args ?? []).map((a) => fingerprint(a)))
    for (const o of f.agg_order) {
      if ('SortBy' in o && o.SortBy.node && !given.has(fingerprint(o.SortBy.node))) {
        throw new SqlError(SqlState.invalidColumnReference, 'in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list')
      }
    }
  }
  const order = (f.agg_order ?? []).map((o) => {
    if (!('SortBy' in o)) throw new SqlError(SqlState.syntaxError, 'bad ORDER BY in aggregate')
    const desc = sortDescending(o.SortBy)
    return { key: compileExpr(o.SortBy.node!, inner), desc, nullsFirst: sortNullsFirst(o.SortBy, desc) }
  })
  // DISTINCT without ORDER BY takes its values in ascending order, as PostgreSQL's sort for DISTINCT gives them
  // (array_agg(DISTINCT x) was in first-seen order); only aggregates whose result shows the order pay for it.
  if (f.agg_distinct && order.length === 0 && ORDER_SHOWING_AGGREGATES.has(name)) {
    for (const key of coerced) order.push({ key, desc: false, nullsFirst: false })
  }
  ctx.agg.slots.push({ impl, name, args: coerced, distinct: !!f.agg_distinct, filter, seesNulls: aggregateSeesNulls(name), order })
  return { type: impl.result, eval: (env) => env.aggs![slot]! }
}

function compileUserCall(name: string, args: Compiled[], ctx: CompileCtx): Compiled {
  const def = ctx.exec.functions(name)!
  if (def.setof) return compileUserSetCall(name, def, args, ctx)
  if (def.args.length !== args.length) throw noFunction(name, args.map((a) => a.type))
  const now = ctx.exec.nowMicros
  // Polymorphic (ANY/anyelement) arguments unify to one type, which an ANY result takes.
  const polyTypes = def.args.filter((a) => a.type.id === 'anyelement').map((_a, i) => args[i]!.type)
  const poly = polyTypes.length ? unify(args.filter((_a, i) => def.args[i]!.type.id === 'anyelement').map((a) => a.type), name) : T.text
  const argTypes = def.args.map((a) => (a.type.id === 'anyelement' ? poly : a.type))
  const fs = args.map((a, i) => coerce(a, argTypes[i]!, 'implicit', now).eval)
  const result = def.returns.id === 'anyelement' ? poly : def.returns
  const invoke = ctx.exec.callUserFunction
  const exec = ctx.exec
  return { type: result, eval: (env) => invoke(exec, def, argTypes, fs.map((f) => f(env)), result) }
}

/** Compiles a WHERE/HAVING/ON condition to a predicate that is true only for TRUE. */
export function compilePredicate(node: Node, ctx: CompileCtx, what: string): (env: Env) => boolean {
  const c = compileExpr(node, ctx)
  if (c.type.id !== 'bool' && c.type.id !== 'unknown') {
    throw new SqlError(SqlState.datatypeMismatch, `argument of ${what} must be type boolean, not type ${typeName(c.type)}`)
  }
  const f = coerce(c, T.bool, 'implicit', ctx.exec.nowMicros).eval
  return (env) => truth(f(env)) === true
}

export { isIntegerType }
