/**
 * Which statements may run off the main thread (session/statement-offload.ts): those whose
 * answer a fresh engine over a snapshot of the catalog and of the tables they name gives
 * exactly as this one would, and whose running there changes nothing a client could see.
 * So: a plain SELECT (or VALUES) with no INTO, no FOR UPDATE/SHARE, no data-modifying
 * WITH, no TABLESAMPLE, reading only user tables held wholly here, its own WITH queries,
 * user views whose queries pass the same walk and the system views computed from the
 * catalog and the session's identity alone (OFFLOADABLE_SYSTEM_VIEWS), calling only the
 * built-in functions listed below and user functions declared IMMUTABLE or STABLE whose
 * bodies pass the same walk (exec/function-body-queries.ts: SQL bodies of SELECTs, PL/pgSQL
 * bodies that only read; the tables they read move with the statement, as a view's do).
 *
 * The lists are allow-lists on purpose: a function not on one (nextval, set_config,
 * pg_sleep, advisory locks, random and the clock, the concord_* functions), like a system
 * view not on one (pg_settings, pg_stat_*, pg_locks, the concord_* views), keeps the
 * statement on the main thread, bounded by statement_timeout as before. A view's stored query and a function's body are walked
 * like the statement's own text (a view or a function calling nextval keeps the statement
 * here). A user function named as a built-in is what the executor calls (functions are
 * looked up by name alone): the function is judged, not the built-in. VOLATILE (the
 * default), trigger functions and bodies that cannot be analysed keep the statement here.
 * A user function has no EXECUTE privilege and no SECURITY DEFINER (refused): its body's
 * reads are checked for the calling role, on the worker as here, since the worker's
 * session has the sender's role.
 *
 * Invariants: the walk is bounded (MAX_NODES parse-tree nodes over the statement, its
 * views and its functions' bodies, MAX_VIEWS views, MAX_FUNCTIONS functions and calls
 * MAX_FUNCTION_DEPTH deep; past any: not eligible); a function calling itself, directly
 * or not, is walked once; a WITH query's name hides a relation only inside its WITH's
 * scope; a table is taken with its partition family and its inheritance family, whose
 * rows a scan of it may read.
 */
import type { TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { tableMeta } from '../catalog/table-meta.js'
import type { Statement } from '../parser/statement.js'
import type { UserFunction } from '../catalog/function-def.js'
import { readOnlyBodyQueries } from '../exec/function-body-queries.js'

/** What eligibility looks up: the statement's catalog, as the session's transaction sees it. */
export interface EligibilityCatalog {
  table(name: string): TableInfo | undefined
  tables(): readonly TableInfo[]
  /** The user function of this name: what a call of the name runs, a built-in's name included. */
  userFunction(name: string): UserFunction | undefined
  /** This node holds every shard of the table (no federated read needed). */
  holdsWhole(info: TableInfo): boolean
  /** A user view's stored query (its SelectStmt tree); undefined when `name` is no view (or a temporary one). */
  viewQuery(name: string): unknown
  /** The schema of the system view `name` resolves to (`schema`: qualified with it); null: no system view (system/system-views.ts). */
  systemView(schema: string | null, name: string): SystemSchema | null
}

export type SystemSchema = 'pg_catalog' | 'information_schema'

/**
 * System views whose rows come from the catalog (which every snapshot carries) and the
 * session's identity and database alone: computed on a fresh engine over the snapshot they
 * are the rows the event loop would have computed. Views of node state stay off the list:
 * pg_settings (node values, the block's transaction_read_only), pg_stat_*, pg_locks,
 * pg_cursors and pg_prepared_statements (the session's objects), the sequences' views (their
 * values are the node's), the cluster, replication and concord_* views, and pg_authid
 * (its password verifiers live in the secrets shard, decision 34, which no snapshot
 * carries: secrets stay off the worker).
 */
export const OFFLOADABLE_SYSTEM_VIEWS: Readonly<Record<SystemSchema, ReadonlySet<string>>> = {
  pg_catalog: new Set([
    'pg_tables', 'pg_indexes', 'pg_class', 'pg_namespace', 'pg_attribute', 'pg_attrdef', 'pg_index', 'pg_constraint', 'pg_inherits',
    'pg_partitioned_table', 'pg_type', 'pg_enum', 'pg_am', 'pg_database', 'pg_collation', 'pg_tablespace', 'pg_description', 'pg_policy',
    'pg_statistic_ext', 'pg_trigger', 'pg_rewrite', 'pg_publication_namespace', 'pg_opclass', 'pg_proc', 'pg_language', 'pg_policies',
    'pg_extension', 'pg_roles', 'pg_user', 'pg_auth_members',
  ]),
  information_schema: new Set([
    'schemata', 'tables', 'views', 'columns', 'table_constraints', 'key_column_usage', 'constraint_column_usage', 'referential_constraints',
    'table_privileges', 'role_table_grants', 'column_privileges', 'role_column_grants',
  ]),
}

/** Parse-tree nodes one walk visits at most: a statement larger than this stays on the main thread. */
const MAX_NODES = 100_000

/** Views one statement may read, nested ones included, and still move. */
const MAX_VIEWS = 64

/** User functions one statement may call, through others included, and still move. */
const MAX_FUNCTIONS = 64

/** How deep calls of user functions inside user functions' bodies are followed; deeper: not eligible. */
const MAX_FUNCTION_DEPTH = 16

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
  // the catalog's definitions, as the catalog views read them (functions/catalog-functions.ts; the snapshot carries the catalog whole)
  'format_type', 'pg_get_expr', 'pg_table_is_visible', 'pg_type_is_visible', 'pg_function_is_visible', 'pg_get_function_result',
  'pg_get_function_arguments', 'pg_get_function_identity_arguments', 'pg_get_functiondef', 'pg_get_userbyid', 'pg_get_indexdef',
  'pg_get_constraintdef', 'pg_get_partkeydef', 'pg_get_viewdef', 'obj_description', 'col_description', 'shobj_description',
])

/**
 * The tables a statement reads, when it may run off the main thread; null when it may not
 * (see the header). The tables' partition and inheritance families are included.
 */
export function offloadTables(stmt: Statement, catalog: EligibilityCatalog): TableInfo[] | null {
  if (stmt.kind !== 'pg') return null
  const root = stmt.node
  if (!('SelectStmt' in root) || root.SelectStmt.intoClause) return null
  const walk = new Walk(catalog)
  walk.query(root, 0)
  return tablesNamed(walk, catalog)
}

/**
 * The user tables a walk's statement reads (views' queries walked in, the system views a
 * snapshot answers left out) with their partition and inheritance families; null when it
 * reads anything else (a temporary table, a system view of node state, a missing
 * relation) or the walk refused.
 */
function tablesNamed(walk: Walk, catalog: EligibilityCatalog): TableInfo[] | null {
  const tables: TableInfo[] = []
  const done = new Set<string>()
  let views = 0
  // Views add the names their queries read: walked until no new name comes up.
  for (let more = true; more && walk.ok; ) {
    more = false
    for (const name of [...walk.named]) {
      if (done.has(name)) continue
      done.add(name)
      const table = catalog.table(name)
      if (table !== undefined) {
        if (tableMeta(table).temporary === true) return null
        tables.push(table)
        continue
      }
      const view = catalog.viewQuery(name)
      if (view === undefined && offloadableSystemView(catalog, null, name)) continue
      // Anything else (a system view of node state, a missing relation) stays here.
      if (view === undefined || ++views > MAX_VIEWS) return null
      walk.query({ SelectStmt: view }, 0)
      more = true
    }
  }
  if (!walk.ok) return null
  return withFamilies(tables, catalog)
}

/**
 * The table an INSERT .. SELECT writes and the tables its SELECT reads, when the SELECT may
 * be evaluated off the main thread over a snapshot (runtime/insert-source.ts); null when
 * it may not. The SELECT passes the walk a moved SELECT passes (the same allow-lists: no
 * nextval, random, clock, VOLATILE function), with the INSERT's own WITH, if any, in
 * scope (a data-modifying one is refused by the walk); the INSERT names a user table held
 * wholly here, not a view, not temporary. ON CONFLICT, RETURNING,
 * the target's defaults and triggers are not walked: they run on the event loop only,
 * after the source rows are in hand, where the statement can no longer move
 * (`StatementBudget.stayHere`), so the run thrown away at the offload point never reached them.
 */
export function offloadInsertSource(stmt: Statement, catalog: EligibilityCatalog): { target: TableInfo; tables: TableInfo[] } | null {
  if (stmt.kind !== 'pg' || !('InsertStmt' in stmt.node)) return null
  const insert = stmt.node.InsertStmt
  const rv = insert.relation
  if (rv?.relname === undefined || (rv.schemaname !== undefined && rv.schemaname !== 'public')) return null
  const select = insert.selectStmt !== undefined && 'SelectStmt' in insert.selectStmt ? insert.selectStmt.SelectStmt : null
  // INSERT .. VALUES (and DEFAULT VALUES) computes its rows in the INSERT itself (exec/dml.ts): it stays.
  if (select === null || select.valuesLists !== undefined) return null
  const target = catalog.table(rv.relname)
  if (target === undefined || catalog.viewQuery(rv.relname) !== undefined || tableMeta(target).temporary === true) return null
  if (withFamilies([target], catalog) === null) return null
  // The INSERT's own WITH is in scope in its SELECT: walked as the SELECT's outer query.
  const source = insert.withClause === undefined ? select : { withClause: insert.withClause, fromClause: [{ RangeSubselect: { subquery: { SelectStmt: select } } }] }
  const tables = offloadTables({ kind: 'pg', node: { SelectStmt: source }, text: stmt.text } as Statement, catalog)
  return tables === null ? null : { target, tables }
}

/** Node kinds a moved write's WHERE may not hold: CURRENT OF names a cursor's row. */
const WRITE_DENIED_NODES = new Set(['CurrentOfExpr'])

/**
 * The table an UPDATE or DELETE writes, and the tables its WHERE reads, when its WHERE
 * may be evaluated off the main thread over a snapshot (session/write-offload.ts); null
 * when it may not. The match of a row must depend on that row and on the tables the WHERE
 * reads (whose changes are followed: any one lapses the restriction), the catalog, the
 * session and the statement's time, which do not change under it: so a single user table
 * held wholly here, with no partitions or inheritance (triggers fire only on the event
 * loop: the run thrown away stops before writing), named without ONLY's
 * subtleties; a WITH of reading queries; a WHERE (none: every row matches) and FROM or USING items passing
 * the SELECT walk (subqueries, joined tables, and IMMUTABLE or STABLE user functions
 * whose bodies only read user tables held wholly here and the catalog's views; the
 * allow-listed built-ins), with no CURRENT OF; SET and RETURNING passing the SELECT walk
 * too (the run thrown away at the offload point must leave nothing behind).
 */
export function offloadWriteTarget(stmt: Statement, catalog: EligibilityCatalog): { table: TableInfo; reads: TableInfo[] } | null {
  if (stmt.kind !== 'pg') return null
  const root = stmt.node
  const write = 'UpdateStmt' in root ? { ...root.UpdateStmt, joined: root.UpdateStmt.fromClause } : 'DeleteStmt' in root ? { ...root.DeleteStmt, joined: root.DeleteStmt.usingClause } : null
  if (write === null || write.whereClause === undefined || write.relation === undefined) return null
  const rv = write.relation
  if ((rv.schemaname !== undefined && rv.schemaname !== 'public') || rv.relname === undefined) return null
  const table = catalog.table(rv.relname)
  if (table === undefined || catalog.viewQuery(rv.relname) !== undefined) return null
  const meta = tableMeta(table)
  // Triggers may: they fire only in the write phase, which never moves (`stayHere` in exec/dml.ts).
  if (meta.temporary === true) return null
  // Rows are named by their primary key's values (the worker's answer, the change events).
  if (table.primaryKey.length === 0 || !table.primaryKey.every((c) => table.columns.some((x) => x.name === c))) return null
  const family = withFamilies([table], catalog)
  if (family === null || family.length !== 1) return null
  // FROM / USING items join with the target row: their tables are read as the WHERE's are.
  const reads = whereReads(write.withClause, [write.whereClause, ...(write.joined ?? [])], catalog)
  if (reads === null) return null
  // The first run here is thrown away: SET and RETURNING may call nothing with effects
  // outside its transaction (nextval, pg_notify, advisory locks, pg_sleep ..), as a SELECT.
  const rest = new Walk(catalog)
  rest.query({ ...write, relation: undefined, whereClause: undefined, joined: undefined }, 0)
  return rest.ok ? { table, reads } : null
}

/**
 * The tables a write's WHERE and FROM / USING items read, its WITH's queries in scope
 * (the read walk's allow-list: no data-modifying WITH; no CURRENT OF); null when it may
 * not move.
 */
function whereReads(withClause: unknown, where: Node[], catalog: EligibilityCatalog): TableInfo[] | null {
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
      if (WRITE_DENIED_NODES.has(key)) {
        ok = false
        return
      }
      visit(child)
    }
  }
  visit(where)
  if (!ok) return null
  const walk = new Walk(catalog)
  // As one SELECT's parts, so the WITH's names are in scope (and not taken for tables).
  walk.query({ SelectStmt: { withClause, whereClause: where } }, 0)
  return tablesNamed(walk, catalog)
}

interface FuncCallNode {
  funcname?: Node[]
}

interface SelectNode {
  withClause?: { recursive?: boolean; ctes?: Node[] }
  [key: string]: unknown
}

const NO_CTES: ReadonlySet<string> = new Set()

/**
 * One walk over a statement and what it reaches (views' queries, user functions' bodies):
 * `named` collects the relations the queries name outside the scope of a WITH query of
 * that name; `ok` turns false at the first thing that keeps the statement here.
 */
class Walk {
  readonly named = new Set<string>()
  ok = true
  private budget = MAX_NODES
  /** User functions whose bodies were walked (or are being walked: a recursive call is walked once). */
  private readonly functions = new Set<string>()
  private readonly catalog: EligibilityCatalog

  constructor(catalog: EligibilityCatalog) {
    this.catalog = catalog
  }

  /** Walks one query tree (`{ SelectStmt: .. }`): the statement, a view's query, a function body's query. */
  query(tree: unknown, depth: number): void {
    this.visit(tree, NO_CTES, depth)
  }

  private visit(value: unknown, ctes: ReadonlySet<string>, depth: number): void {
    if (!this.ok) return
    if (--this.budget < 0) {
      this.ok = false
      return
    }
    if (Array.isArray(value)) {
      for (const v of value) this.visit(v, ctes, depth)
      return
    }
    if (value === null || typeof value !== 'object') return
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (DENIED_NODES.has(key) || (key === 'FuncCall' && !this.call(child as FuncCallNode, depth))) {
        this.ok = false
        return
      }
      if (key === 'RangeVar') {
        const rv = child as { relname?: string; schemaname?: string }
        // pg_catalog.x and information_schema.x name system views only (plan/from.ts).
        const system = rv.schemaname === 'pg_catalog' || rv.schemaname === 'information_schema'
        if ((rv.schemaname !== undefined && rv.schemaname !== 'public' && !system) || (system && !offloadableSystemView(this.catalog, rv.schemaname!, rv.relname ?? ''))) {
          this.ok = false
          return
        }
        if (!system && rv.relname !== undefined && (rv.schemaname !== undefined || !ctes.has(rv.relname))) this.named.add(rv.relname)
      }
      // A SELECT, or either side of a set operation (a join's sides pass through unchanged).
      if (key === 'SelectStmt' || key === 'larg' || key === 'rarg') this.select(child as SelectNode, ctes, depth)
      else this.visit(child, ctes, depth)
    }
  }

  /** A SELECT: its WITH queries' names are in scope in its body and in the WITH queries after each (in all of them under RECURSIVE). */
  private select(stmt: SelectNode, ctes: ReadonlySet<string>, depth: number): void {
    const w = stmt !== null && typeof stmt === 'object' ? stmt.withClause : undefined
    if (w === undefined) return this.visit(stmt, ctes, depth)
    const list = w.ctes ?? []
    const names = list.map((n) => ('CommonTableExpr' in n ? n.CommonTableExpr.ctename ?? '' : ''))
    const all = new Set([...ctes, ...names])
    list.forEach((n, i) => this.visit(n, w.recursive === true ? all : new Set([...ctes, ...names.slice(0, i)]), depth))
    this.visit({ ...stmt, withClause: undefined }, all, depth)
  }

  /**
   * Whether a call may run off the main thread. A user function of the name is what the
   * executor runs (functions are looked up by name alone, a built-in's name included):
   * it may when it is IMMUTABLE or STABLE and its body only reads, by the same walk.
   * Otherwise the built-in must be on the allow-list.
   */
  private call(call: FuncCallNode, depth: number): boolean {
    const parts = (call.funcname ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : ''))
    if (parts.length === 0 || parts.length > 2) return false
    const name = parts[parts.length - 1]!
    const user = this.catalog.userFunction(name.toLowerCase())
    if (user !== undefined) return (parts.length === 1 || parts[0] === 'public' || parts[0] === 'pg_catalog') && this.userFunction(user, depth)
    return (parts.length === 1 || parts[0] === 'pg_catalog') && OFFLOADABLE_FUNCTIONS.has(name)
  }

  private userFunction(def: UserFunction, depth: number): boolean {
    if (def.volatility === undefined) return false
    if (this.functions.has(def.name)) return true
    if (depth >= MAX_FUNCTION_DEPTH || this.functions.size >= MAX_FUNCTIONS) return false
    this.functions.add(def.name)
    const queries = readOnlyBodyQueries(def)
    if (queries === null) return false
    for (const q of queries) this.query(q, depth + 1)
    return this.ok
  }
}

/** Whether `name` (qualified with `schema`, or not) resolves to a system view on OFFLOADABLE_SYSTEM_VIEWS. */
function offloadableSystemView(catalog: EligibilityCatalog, schema: string | null, name: string): boolean {
  const found = catalog.systemView(schema, name)
  return found !== null && OFFLOADABLE_SYSTEM_VIEWS[found].has(name)
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
