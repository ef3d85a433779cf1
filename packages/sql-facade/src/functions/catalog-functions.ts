/**
 * PostgreSQL's system information and catalog functions that clients call next to the
 * catalog views: format_type, pg_get_expr, pg_table_is_visible, pg_get_indexdef,
 * pg_get_constraintdef, pg_get_userbyid, privilege checks, sizes .. They read the
 * statement's catalog model (catalog/catalog-model.ts), the one the views show, so an
 * OID a view returned is found here.
 *
 * What Concord does not keep answers as PostgreSQL does for an object that has none:
 * comments on objects other than tables and columns (obj_description) are NULL, and so
 * are sizes (pg_table_size): Concord keeps no per-table byte count.
 */
import { SqlArray } from '../types/array.js'
import { arrayOf, T, typeFromOid, typeName, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { Decimal } from '../types/decimal.js'
import { functionResultName, indexDef, OWNER_OID, type FunctionModel } from '../catalog/catalog-model.js'
import type { ScalarImpl, ScalarResolver } from './scalar-impl.js'
import { PRIVILEGE_FUNCTIONS } from './privilege-functions.js'
import { ADVISORY_LOCK_FUNCTIONS } from './advisory-lock-functions.js'
import { roleName } from '../auth/role-views.js'
import { regInput } from '../catalog/object-names.js'
import { sessionSearchPath } from '../catalog/search-path.js'
import { tableMeta } from '../catalog/table-meta.js'
import { SqlError, SqlState } from '../errors/sql-error.js'

const fixed = (args: SqlType[], result: SqlType, fn: ScalarImpl['fn'], nonStrict = false): ScalarImpl => ({ args, result, fn, ...(nonStrict ? { nonStrict } : {}) })

/** A resolver accepting `counts` arguments, each cast to the matching type of `args`. */
function arity(counts: number[], args: SqlType[], result: SqlType, fn: ScalarImpl['fn'], nonStrict = false): ScalarResolver {
  return (ts) => (counts.includes(ts.length) ? fixed(args.slice(0, ts.length), result, fn, nonStrict) : null)
}

/** `x integer, integer`: a function's arguments as pg_get_function_arguments lists them. */
function functionArguments(f: FunctionModel | undefined): string | null {
  return f === undefined ? null : f.args.map((a) => (a.name !== null ? `${a.name} ${typeName(a.type)}` : typeName(a.type))).join(', ')
}

const nothing = (): RtValue => null
const always = (): RtValue => true

/** format_type(type oid, typmod): the type's SQL name with its modifiers. */
function formatType(oid: number, typmod: number | null): string {
  const t = typeFromOid(oid, typmod)
  if (!t) return '???'
  // bpchar without a length is PostgreSQL's blank-padded text, not character(1).
  if (t.id === 'bpchar' && !t.array && t.precision === undefined) return typmod === null ? 'character' : 'bpchar'
  return typeName(t)
}

/** pg_size_pretty's units: where each stops and whether its value is rounded half away from zero. */
const SIZE_UNITS: Array<{ name: string; limit: bigint; round: boolean; shift: bigint }> = [
  { name: 'bytes', limit: 10n * 1024n, round: false, shift: 0n },
  { name: 'kB', limit: 20n * 1024n - 1n, round: true, shift: 10n },
  { name: 'MB', limit: 20n * 1024n - 1n, round: true, shift: 20n },
  { name: 'GB', limit: 20n * 1024n - 1n, round: true, shift: 30n },
  { name: 'TB', limit: 20n * 1024n - 1n, round: true, shift: 40n },
]

/** pg_size_pretty(bigint), as PostgreSQL computes it (C's truncating division included). */
function sizePretty(bytes: bigint): string {
  let size = bytes
  for (let i = 0; i < SIZE_UNITS.length; i++) {
    const unit = SIZE_UNITS[i]!
    const next = SIZE_UNITS[i + 1]
    const abs = size < 0n ? -size : size
    if (next === undefined || abs < unit.limit) {
      if (unit.round) size = (size + (size < 0n ? -1n : 1n)) / 2n
      return `${size} ${unit.name}`
    }
    // One bit fewer when the next unit rounds: it keeps that bit for the rounding.
    const bits = next.shift - unit.shift - (next.round ? 1n : 0n) + (unit.round ? 1n : 0n)
    size /= 1n << bits
  }
  return `${size} bytes`
}

export const CATALOG_FUNCTIONS: Record<string, ScalarResolver> = {
  format_type: (ts) => (ts.length === 2 ? fixed([T.oid, T.int4], T.text, ([t, m]) => (t === null ? null : formatType(t as number, m as number | null)), true) : null),
  // adbin, relpartbound, polqual .. hold the expression's text already.
  pg_get_expr: arity([2, 3], [T.text, T.oid, T.bool], T.text, ([e]) => e),
  // Visible when its schema is on the session's path (catalog/search-path.ts): pg_catalog always, a session's temporary table always.
  pg_table_is_visible: arity([1], [T.oid], T.bool, ([o], exec) => {
    const r = exec.catalog().relation(o as number)
    if (!r) return null
    if (r.kind === 'view') return r.view.namespace === 'pg_catalog' || sessionSearchPath(exec).schemas.includes(r.view.namespace)
    if (sessionSearchPath(exec).searchesPublic) return true
    const t = r.kind === 'table' ? exec.tx.table(r.table.name) : undefined
    return t !== undefined && tableMeta(t).temporary === true
  }),
  pg_type_is_visible: arity([1], [T.oid], T.bool, always),
  // User functions live in public; an unknown OID answers NULL, as PostgreSQL's.
  pg_function_is_visible: arity([1], [T.oid], T.bool, ([o], exec) => (exec.catalog().function(o as number) !== undefined ? sessionSearchPath(exec).searchesPublic : null)),
  pg_get_function_result: arity([1], [T.oid], T.text, ([o], exec) => {
    const f = exec.catalog().function(o as number)
    return f === undefined ? null : functionResultName(f)
  }),
  pg_get_function_arguments: arity([1], [T.oid], T.text, ([o], exec) => functionArguments(exec.catalog().function(o as number))),
  pg_get_function_identity_arguments: arity([1], [T.oid], T.text, ([o], exec) => functionArguments(exec.catalog().function(o as number))),
  // Bodies are kept as text (prosrc): there is no SQL-standard body to print.
  pg_get_function_sqlbody: arity([1], [T.oid], T.text, nothing),
  pg_get_functiondef: arity([1], [T.oid], T.text, ([o], exec) => {
    const f = exec.catalog().function(o as number)
    if (f === undefined) return null
    return `CREATE OR REPLACE FUNCTION public.${f.name}(${functionArguments(f)!})\n RETURNS ${functionResultName(f)}\n LANGUAGE ${f.language}\n${f.strict ? ' STRICT\n' : ''}AS $function$${f.body}$function$\n`
  }),
  pg_get_userbyid: arity([1], [T.oid], T.name, ([o], exec) => roleName(exec, o as number)),
  pg_get_indexdef: arity([1, 3], [T.oid, T.int4, T.bool], T.text, ([o, column], exec) => {
    const r = exec.catalog().relation(o as number)
    if (r?.kind !== 'index') return null
    const col = (column ?? 0) as number
    return col > 0 ? r.index.columns[col - 1] ?? '' : indexDef(r.index)
  }),
  pg_get_constraintdef: arity([1, 2], [T.oid, T.bool], T.text, ([o], exec) => exec.catalog().constraint(o as number)?.def ?? null),
  pg_get_partkeydef: arity([1], [T.oid], T.text, ([o], exec) => exec.catalog().table(o as number)?.partitionKey ?? null),
  pg_get_partition_constraintdef: arity([1], [T.oid], T.text, nothing),
  pg_get_statisticsobjdef_columns: arity([1], [T.oid], T.text, nothing),
  pg_get_viewdef: arity([1, 2], [T.regclass, T.bool], T.text, ([o], exec) => {
    const r = exec.catalog().relation(o as number)
    return r?.kind === 'view' ? r.view.definition : null
  }),
  pg_get_triggerdef: arity([1, 2], [T.oid, T.bool], T.text, nothing),
  // The table is parsed as a name (lower-cased unless quoted), the column taken literally, as PostgreSQL does.
  pg_get_serial_sequence: arity([2], [T.text, T.text], T.text, ([t, c], exec) => {
    const oid = regInput(T.regclass, String(t), { catalog: () => exec.catalog(), user: exec.settings.user })
    const table = exec.catalog().table(oid)
    if (table === undefined) return null
    const a = table.attributes.find((x) => x.name === c)
    if (a === undefined) throw new SqlError(SqlState.undefinedColumn, `column "${String(c)}" of relation "${table.name}" does not exist`)
    if (a.serialSequence === undefined) return null
    return /^[a-z_][a-z0-9_$]*$/.test(a.serialSequence) ? `public.${a.serialSequence}` : `public."${a.serialSequence.replaceAll('"', '""')}"`
  }),
  pg_relation_is_publishable: arity([1], [T.regclass], T.bool, ([o], exec) => exec.catalog().table(o as number) !== undefined),
  pg_encoding_to_char: arity([1], [T.int4], T.name, ([e]) => (e === 6 ? 'UTF8' : e === 0 ? 'SQL_ASCII' : '')),
  pg_char_to_encoding: arity([1], [T.name], T.int4, ([n]) => (String(n).toUpperCase() === 'UTF8' ? 6 : String(n).toUpperCase() === 'SQL_ASCII' ? 0 : -1)),
  // Comments are kept on tables and their columns (exec/comment-ddl.ts); other objects have none.
  obj_description: arity([1, 2], [T.oid, T.name], T.text, ([o, catalog], exec) => (catalog === undefined || catalog === 'pg_class' ? exec.catalog().table(o as number)?.comment ?? null : null)),
  col_description: arity([2], [T.oid, T.int4], T.text, ([o, n], exec) => exec.catalog().table(o as number)?.attributes[(n as number) - 1]?.comment ?? null),
  shobj_description: arity([2], [T.oid, T.name], T.text, nothing),
  pg_table_size: arity([1], [T.regclass], T.int8, nothing),
  pg_relation_size: arity([1, 2], [T.regclass, T.text], T.int8, nothing),
  pg_total_relation_size: arity([1], [T.regclass], T.int8, nothing),
  pg_indexes_size: arity([1], [T.regclass], T.int8, nothing),
  pg_size_pretty: (ts) => {
    if (ts.length !== 1) return null
    const numeric = ts[0]!.id === 'numeric'
    return fixed([numeric ? T.numeric : T.int8], T.text, ([b]) => sizePretty(numeric ? (b as Decimal).toBigInt() : (b as bigint)))
  },
  pg_my_temp_schema: arity([0], [], T.oid, () => 0),
  pg_is_other_temp_schema: arity([1], [T.oid], T.bool, () => false),
  current_schemas: arity([1], [T.bool], arrayOf(T.name), ([implicit], exec) => {
    const { schemas } = sessionSearchPath(exec)
    return SqlArray.of(implicit === true && !schemas.includes('pg_catalog') ? ['pg_catalog', ...schemas] : [...schemas])
  }),
  ...PRIVILEGE_FUNCTIONS,
  ...ADVISORY_LOCK_FUNCTIONS,
  has_database_privilege: (ts) => (ts.length === 2 || ts.length === 3 ? fixed(ts.map((t) => (t.id === 'unknown' ? T.text : t)), T.bool, always) : null),
}
