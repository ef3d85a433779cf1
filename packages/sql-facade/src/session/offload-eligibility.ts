/**
 * Which statements may run off the main thread (session/statement-offload.ts): those whose
 * answer a fresh engine over a snapshot of the catalog and of the tables they name gives
 * exactly as this one would, and whose running there changes nothing a client could see.
 * So: a plain SELECT (or VALUES) with no INTO, no FOR UPDATE/SHARE, no data-modifying
 * WITH, no TABLESAMPLE, reading only user tables held wholly here, its own WITH queries
 * and user views whose queries pass the same walk, calling only the built-in functions
 * listed below, none of them shadowed by a user function.
 *
 * The list is an allow-list on purpose: a function not on it (nextval, set_config,
 * pg_sleep, advisory locks, random and the clock, the concord_* functions, pg_catalog's
 * views of node state, user functions) keeps the statement on the main thread, bounded by
 * statement_timeout as before. A view's stored query is walked like the statement's own
 * text (a view calling nextval keeps the statement here).
 *
 * Invariants: the walk is bounded (MAX_NODES parse-tree nodes over the statement and its
 * views, MAX_VIEWS views; past either: not eligible);
 * a table is taken with its partition family and its inheritance family, whose rows a
 * scan of it may read.
 */
import type { TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { tableMeta } from '../catalog/table-meta.js'
import type { Statement } from '../parser/statement.js'

/** What eligibility looks up: the statement's catalog, as the session's transaction sees it. */
export interface EligibilityCatalog {
  table(name: string): TableInfo | undefined
  tables(): TableInfo[]
  /** A user function of this name exists (it would shadow a built-in). */
  hasUserFunction(name: string): boolean
  /** This node holds every shard of the table (no federated read needed). */
  holdsWhole(info: TableInfo): boolean
  /** A user view's stored query (its SelectStmt tree); undefined when `name` is no view (or a temporary one). */
  viewQuery(name: string): unknown
}

/** Parse-tree nodes one walk visits at most: a statement larger than this stays on the main thread. */
const MAX_NODES = 100_000

/** Views one statement may read, nested ones included, and still move. */
const MAX_VIEWS = 64

/** Node kinds that write, lock or draw randomness: their presence keeps a statement here. */
const DENIED_NODES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'LockingClause', 'IntoClause', 'RangeTableSample', 'CallStmt'])

/**
 * Built-in functions that read only their arguments, the statement's timestamp, and the
 * session's identity and settings a snapshot carries (names as the parser lowercases them).
 */
export const OFFLOADABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'stddev', 'variance',
  'stddev_samp', 'var_samp', 'stddev_pop', 'var_pop', 'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg',
  // set-returning
  'generate_series', 'unnest', 'generate_subscripts', 'string_to_table', 'regexp_split_to_table', 'json_array_elements',
  'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text', 'json_each', 'jsonb_each', 'json_each_text',
  'jsonb_each_text', 'json_object_keys', 'jsonb_object_keys',
  // window
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // numbers
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sign', 'sqrt', 'cbrt', 'power', 'pow', 'exp', 'ln', 'log', 'log10', 'mod',
  'div', 'gcd', 'lcm', 'factorial', 'pi', 'degrees', 'radians', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'width_bucket',
  'scale', 'greatest', 'least', 'num_nonnulls', 'num_nulls',
  // text
  'length', 'char_length', 'character_length', 'octet_length', 'bit_length', 'lower', 'upper', 'initcap', 'substr', 'substring',
  'left', 'right', 'repeat', 'lpad', 'rpad', 'trim', 'btrim', 'ltrim', 'rtrim', 'replace', 'translate', 'reverse', 'position',
  'strpos', 'split_part', 'concat', 'concat_ws', 'format', 'md5', 'ascii', 'chr', 'starts_with', 'to_hex', 'quote_ident',
  'quote_literal', 'quote_nullable', 'regexp_replace', 'regexp_match', 'regexp_matches', 'regexp_like', 'regexp_count',
  'regexp_substr', 'regexp_split_to_array', 'string_to_array', 'array_to_string', 'encode', 'decode', 'overlay',
  // arrays
  'array_length', 'array_upper', 'array_lower', 'array_dims', 'array_ndims', 'cardinality', 'array_append', 'array_prepend',
  'array_cat', 'array_remove', 'array_replace', 'array_position', 'array_positions',
  // dates and times (now() is the statement's timestamp, which the snapshot carries)
  'now', 'transaction_timestamp', 'statement_timestamp', 'date_trunc', 'date_part', 'extract', 'age', 'to_char', 'to_date',
  'to_timestamp', 'to_number', 'make_date', 'make_time', 'make_timestamp', 'make_timestamptz', 'make_interval', 'justify_days',
  'justify_hours', 'justify_interval', 'isfinite',
  // json
  'to_json', 'to_jsonb', 'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'json_typeof',
  'jsonb_typeof', 'json_array_length', 'jsonb_array_length', 'jsonb_extract_path', 'jsonb_extract_path_text',
  'json_extract_path', 'json_extract_path_text', 'jsonb_pretty', 'jsonb_strip_nulls', 'json_strip_nulls', 'jsonb_set',
  'jsonb_insert', 'row_to_json', 'array_to_json',
  // the session and the node (carried by the snapshot)
  'coalesce', 'nullif', 'current_database', 'current_region', 'current_node',
])

/**
 * The tables a statement reads, when it may run off the main thread; null when it may not
 * (see the header). The tables' partition and inheritance families are included.
 */
export function offloadTables(stmt: Statement, catalog: EligibilityCatalog): TableInfo[] | null {
  if (stmt.kind !== 'pg') return null
  const root = stmt.node
  if (!('SelectStmt' in root) || root.SelectStmt.intoClause) return null
  const named = new Set<string>()
  const cteNames = new Set<string>()
  let budget = MAX_NODES
  let ok = true
  const visit = (value: unknown): void => {
    if (!ok) return
    if (--budget < 0) {
      ok = false
      return
    }
    if (Array.isArray(value)) {
      for (const v of value) visit(v)
      return
    }
    if (value === null || typeof value !== 'object') return
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (DENIED_NODES.has(key)) {
        ok = false
        return
      }
      if (key === 'FuncCall' && !allowedCall(child as FuncCallNode, catalog)) {
        ok = false
        return
      }
      if (key === 'RangeVar') {
        const rv = child as { relname?: string; schemaname?: string }
        if (rv.schemaname !== undefined && rv.schemaname !== 'public') {
          ok = false
          return
        }
        if (rv.relname !== undefined) named.add(rv.relname)
      }
      if (key === 'CommonTableExpr') {
        const name = (child as { ctename?: string }).ctename
        if (name !== undefined) cteNames.add(name)
      }
      visit(child)
    }
  }
  visit(root as Node)
  const tables: TableInfo[] = []
  const done = new Set<string>()
  let views = 0
  // Views add the names their queries read: walked until no new name comes up.
  for (let more = true; more && ok; ) {
    more = false
    for (const name of [...named]) {
      if (done.has(name)) continue
      done.add(name)
      const table = catalog.table(name)
      if (table !== undefined) {
        if (tableMeta(table).temporary === true) return null
        tables.push(table)
        continue
      }
      const view = catalog.viewQuery(name)
      if (view !== undefined) {
        if (++views > MAX_VIEWS) return null
        visit(view)
        more = true
        continue
      }
      // A WITH query's name; anything else (a system view, a missing relation) stays here.
      if (!cteNames.has(name)) return null
    }
  }
  if (!ok) return null
  return withFamilies(tables, catalog)
}

interface FuncCallNode {
  funcname?: Node[]
}

function allowedCall(call: FuncCallNode, catalog: EligibilityCatalog): boolean {
  const parts = (call.funcname ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
  if (parts.length === 0 || parts.length > 2) return false
  if (parts.length === 2 && parts[0] !== 'pg_catalog') return false
  const name = parts[parts.length - 1]!
  return OFFLOADABLE_FUNCTIONS.has(name) && !catalog.hasUserFunction(name)
}

/**
 * `tables` with every table a scan of them may read: partitions and the partitioned
 * parent, inheritance parents and children (a fixed point over the catalog's links).
 * Null when one of them is not held wholly here.
 */
function withFamilies(tables: TableInfo[], catalog: EligibilityCatalog): TableInfo[] | null {
  if (tables.length === 0) return tables
  const all = catalog.tables()
  const links = new Map<string, string[]>()
  const link = (a: string, b: string) => {
    links.set(a, [...(links.get(a) ?? []), b])
    links.set(b, [...(links.get(b) ?? []), a])
  }
  for (const t of all) {
    const meta = tableMeta(t)
    if (meta.partitionOf !== undefined) link(t.name, meta.partitionOf)
    for (const parent of meta.inherits ?? []) link(t.name, parent)
  }
  const byName = new Map(all.map((t) => [t.name, t]))
  const seen = new Map(tables.map((t) => [t.name, t]))
  const queue = tables.map((t) => t.name)
  while (queue.length > 0) {
    for (const next of links.get(queue.pop()!) ?? []) {
      const t = byName.get(next)
      if (t === undefined || seen.has(next)) continue
      seen.set(next, t)
      queue.push(next)
    }
  }
  const out = [...seen.values()]
  return out.every((t) => catalog.holdsWhole(t)) ? out : null
}
