/**
 * A session's cached SELECT plans: a statement run again (a prepared statement, the same
 * text, or a text made from the same literal template) reuses the plan of its first run
 * instead of planning again. UPDATE and DELETE reuse the part that finds their target rows
 * (the scan or index lookup and the WHERE predicate), and an UPDATE its SET list when it is
 * plain (`cacheableSetList`); RETURNING is planned per run.
 *
 * A plan is a tree of closures over the `ExecCtx` it was planned with. A cached plan is
 * planned over a context of its own (`live`) whose fields are overwritten with each
 * execution's context before it runs, so the closures read that execution's rows,
 * parameters and budget; literals of a templated statement and parameters compile to
 * reads of the execution's values (expr/compile.ts, `planSlots`) instead of constants.
 *
 * Invariants:
 * - A plan is reused only under the catalog it was planned against: the replica's
 *   catalog version (bumped synchronously by every catalog change, local DDL, grants and
 *   role changes, or a peer's), the role and user it was planned for and search_path must
 *   be the same.
 *   Statements inside a transaction block that ran anything but data statements (whose
 *   own uncommitted DDL, grants or role changes the version does not see) and sessions
 *   with temporary relations (which shadow names) plan afresh.
 * - Only statements whose plan holds nothing else that depends on one execution are
 *   cached (`cacheable`): one plain permanent table, column references, integer and
 *   string literals, parameters, operators, BETWEEN and AND/OR/NOT, ORDER BY columns by name and
 *   LIMIT / OFFSET by a literal or a parameter; every column of the table of a type whose
 *   casts from text do not read the clock ('now'). Anything else plans afresh.
 * - An entry is keyed by the statement's tree, or by its template's tree for a
 *   templated statement, and records which of the two it is: the template's own tree
 *   (parsed, with its literals as constants) never shares an entry with its instances.
 * - Values never outlive their execution in a way that matters: each run overwrites the
 *   parameters and literal values before anything reads them.
 */
import type { DeleteStmt, Node, RangeVar, SelectStmt, UpdateStmt } from 'libpg-query'
import type { ExecCtx, PlanSlots, SelectPlans } from '../runtime/context.js'
import { StatementBudget } from '../runtime/statement-budget.js'
import { sharedNode, templateConstants } from '../parser/literal-template.js'
import { tableMeta } from '../catalog/table-meta.js'
import { tableColumns } from '../catalog/column-read.js'
import type { RtValue } from '../types/value.js'
import type { Relation } from '../relation/relation.js'

/** Column types whose values compare and cast from text without the clock or the session's settings. */
const PLAIN_TYPES = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'text', 'varchar', 'bpchar', 'bool', 'uuid', 'bytea'])

/** The current statement's budget, for closures planned under an earlier one. */
class BudgetRelay extends StatementBudget {
  current: StatementBudget

  constructor(current: StatementBudget) {
    super(Infinity, null)
    this.current = current
  }

  override tick(): void {
    this.current.tick()
  }

  override spend(n: number): void {
    this.current.spend(n)
  }

  override check(): void {
    this.current.check()
  }

  override hold(rows: number, width: number): void {
    this.current.hold(rows, width)
  }

  override heldBytes(): number {
    return this.current.heldBytes()
  }

  override releaseTo(mark: number): void {
    this.current.releaseTo(mark)
  }

  override loopTick(): void {
    this.current.loopTick()
  }

  override resumed(): void {
    this.current.resumed()
  }
}

interface Entry {
  catalogVersion: number
  roleOid: number
  user: string
  /** Names resolve in the public schema only today; keyed anyway so resolving by search_path cannot go stale. */
  searchPath: string | null
  /** Parameter count and types, and each literal's field: what the plan's types were derived from. */
  signature: string
  /** Whether the plan reads a template's literals (else its tree's own constants). */
  templated: boolean
  live: ExecCtx
  slots: PlanSlots
  budget: BudgetRelay
  /** What `plan` returned: a SELECT's relation, or an UPDATE's or DELETE's target-row plan. */
  plan: unknown
}

/** Whether a node is an expression this cache can hold a plan of. */
function plainExpr(n: Node): boolean {
  if ('ColumnRef' in n) return (n.ColumnRef.fields ?? []).every((f) => 'String' in f || 'A_Star' in f)
  if ('A_Const' in n) return !n.A_Const.isnull && (n.A_Const.ival !== undefined || n.A_Const.sval !== undefined)
  if ('ParamRef' in n) return true
  if ('A_Expr' in n && n.A_Expr.kind === 'AEXPR_BETWEEN') {
    const r = n.A_Expr.rexpr
    return n.A_Expr.lexpr !== undefined && plainExpr(n.A_Expr.lexpr) && r !== undefined && 'List' in r && (r.List.items ?? []).length === 2 && r.List.items!.every(plainExpr)
  }
  if ('A_Expr' in n) return n.A_Expr.kind === 'AEXPR_OP' && [n.A_Expr.lexpr, n.A_Expr.rexpr].every((x) => x === undefined || plainExpr(x))
  if ('BoolExpr' in n) return (n.BoolExpr.args ?? []).every(plainExpr)
  return false
}

const SELECT_KEYS = new Set(['targetList', 'fromClause', 'whereClause', 'op', 'limitOption', 'sortClause', 'limitCount', 'limitOffset'])

/**
 * Whether an ORDER BY item may be in a cached plan: a column by name, in either direction.
 * Not a position (`ORDER BY 2`): its integer is a literal a template shares with other
 * statements, and the plan reads it when planning; not `USING` an operator.
 */
function plainSort(n: Node): boolean {
  if (!('SortBy' in n) || n.SortBy.sortby_dir === 'SORTBY_USING' || (n.SortBy.useOp?.length ?? 0) > 0) return false
  const e = n.SortBy.node
  return e !== undefined && 'ColumnRef' in e && plainExpr(e)
}

/** Whether `rv` names one plain permanent table, not a partition, whose columns are all of plain types. */
function plainTable(rv: RangeVar, exec: ExecCtx): boolean {
  if (rv.schemaname !== undefined || (rv.alias?.colnames?.length ?? 0) > 0 || rv.relpersistence !== 'p') return false
  const table = exec.tx.table(rv.relname ?? '')
  if (!table) return false
  const meta = tableMeta(table)
  if (meta.temporary || meta.partitionOf !== undefined) return false
  return tableColumns(table, table.name).every((c) => !c.type.array && PLAIN_TYPES.has(c.type.id))
}

/** Whether `stmt`'s plan may be cached under `exec`'s catalog (see the invariants above). */
export function cacheable(stmt: SelectStmt, exec: ExecCtx): boolean {
  for (const [k, v] of Object.entries(stmt)) {
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) continue
    if (!SELECT_KEYS.has(k)) return false
  }
  // LIMIT / OFFSET n and FETCH FIRST n ROWS ONLY (each n a literal or a parameter, read per
  // execution), not WITH TIES, nor LIMIT NULL or ALL.
  const limitOption = stmt.limitOption ?? 'LIMIT_OPTION_DEFAULT'
  if ((stmt.op ?? 'SETOP_NONE') !== 'SETOP_NONE' || (limitOption !== 'LIMIT_OPTION_DEFAULT' && limitOption !== 'LIMIT_OPTION_COUNT')) return false
  if (![stmt.limitCount, stmt.limitOffset].every((n) => n === undefined || plainExpr(n))) return false
  if (!(stmt.sortClause ?? []).every(plainSort)) return false
  const from = stmt.fromClause ?? []
  if (from.length !== 1 || !('RangeVar' in from[0]!)) return false
  if (!plainTable(from[0].RangeVar, exec)) return false
  for (const t of stmt.targetList ?? []) {
    if (!('ResTarget' in t) || !t.ResTarget.val || (t.ResTarget.indirection?.length ?? 0) > 0 || !plainExpr(t.ResTarget.val)) return false
  }
  return stmt.whereClause === undefined || plainExpr(stmt.whereClause)
}

/**
 * Whether the target-row plan of an UPDATE or DELETE may be cached: one plain table (as
 * for SELECT), no FROM / USING, no WITH (a CTE could shadow the table's name), and a
 * plain WHERE. RETURNING is planned per execution either way, and a SET list unless `cacheableSetList`.
 */
export function cacheableTargetRows(stmt: UpdateStmt | DeleteStmt, exec: ExecCtx): boolean {
  const extra = 'fromClause' in stmt ? stmt.fromClause : 'usingClause' in stmt ? stmt.usingClause : undefined
  if ((extra?.length ?? 0) > 0 || stmt.withClause !== undefined || stmt.relation === undefined) return false
  if (!plainTable(stmt.relation, exec)) return false
  return stmt.whereClause === undefined || plainExpr(stmt.whereClause)
}

/**
 * Whether an UPDATE's SET list may be planned with its cached target-row plan: each item a
 * plain column (no subscript or field) set to an expression of the kinds a cached WHERE
 * may hold (not DEFAULT, not a row of several columns).
 */
export function cacheableSetList(targetList: Node[] | undefined): boolean {
  return (targetList ?? []).every((t) => 'ResTarget' in t && t.ResTarget.name !== undefined && (t.ResTarget.indirection?.length ?? 0) === 0 && t.ResTarget.val !== undefined && plainExpr(t.ResTarget.val))
}

function constValue(c: object): RtValue | undefined {
  const a = c as { ival?: { ival?: number }; sval?: { sval?: string } }
  if (a.ival !== undefined) return a.ival.ival ?? 0
  if (a.sval !== undefined) return a.sval.sval ?? ''
  return undefined
}

function signatureOf(exec: ExecCtx, constants: readonly object[] | undefined): string {
  // Built by concatenation: it runs on every execution, and the arrays a map and join make were most of its cost.
  let out = ''
  const params = exec.params
  for (let i = 0; i < params.length; i++) {
    if (i > 0) out += ','
    out += exec.paramTypes?.[i]?.id ?? (params[i] instanceof Uint8Array ? 'bytea' : 'unknown')
  }
  out += '|'
  if (constants !== undefined) for (const c of constants) out += 'ival' in c ? 'i' : 'sval' in c ? 's' : '?'
  return out
}

/**
 * Every key of an execution context, each of which `refreshContext` carries: a key added to
 * ExecCtx and left out here does not compile, and left out there fails its test.
 */
export const EXEC_CTX_KEYS: { readonly [K in keyof ExecCtx]-?: true } = {
  planSlots: true,
  planCache: true,
  tx: true,
  temporaryRelations: true,
  rows: true,
  foreignKeys: true,
  deferred: true,
  params: true,
  paramTypes: true,
  nowMicros: true,
  clockMicros: true,
  nodeId: true,
  region: true,
  database: true,
  settings: true,
  role: true,
  roles: true,
  roleDirectory: true,
  functions: true,
  committedSearchPath: true,
  partitions: true,
  systemView: true,
  catalog: true,
  catalogModel: true,
  random: true,
  sessionObjects: true,
  hlc: true,
  nextId: true,
  notify: true,
  tableChanges: true,
  membership: true,
  rebalancePlan: true,
  nodeCaughtUp: true,
  sleep: true,
  listeningChannels: true,
  processId: true,
  nextSerial: true,
  allTables: true,
  sequences: true,
  replication: true,
  callUserFunction: true,
  callUserSetFunction: true,
  transitionTables: true,
  pausable: true,
  notices: true,
  depth: true,
  budget: true,
  targetRows: true,
  insertSource: true,
}

/**
 * `live` given `exec`'s value of every key of an execution context (undefined where `exec`
 * has none, so nothing of an earlier execution survives), a named store each, in one order:
 * every context a cached plan runs with has one hidden class. `Object.assign` (with
 * `Object.keys` to find a key an earlier context had and this one lacks) took ~1.2 µs a
 * statement on a node under pgbench select-only, ~5 µs under tpcb-like (2% of select-only's
 * time).
 */
export function refreshContext(live: ExecCtx, exec: ExecCtx): void {
  live.planSlots = exec.planSlots
  live.planCache = exec.planCache
  live.tx = exec.tx
  live.temporaryRelations = exec.temporaryRelations
  live.rows = exec.rows
  live.foreignKeys = exec.foreignKeys
  live.deferred = exec.deferred
  live.params = exec.params
  live.paramTypes = exec.paramTypes
  live.nowMicros = exec.nowMicros
  live.clockMicros = exec.clockMicros
  live.nodeId = exec.nodeId
  live.region = exec.region
  live.database = exec.database
  live.settings = exec.settings
  live.role = exec.role
  live.roles = exec.roles
  live.roleDirectory = exec.roleDirectory
  live.functions = exec.functions
  live.committedSearchPath = exec.committedSearchPath
  live.partitions = exec.partitions
  live.systemView = exec.systemView
  live.catalog = exec.catalog
  live.catalogModel = exec.catalogModel
  live.random = exec.random
  live.sessionObjects = exec.sessionObjects
  live.hlc = exec.hlc
  live.nextId = exec.nextId
  live.notify = exec.notify
  live.tableChanges = exec.tableChanges
  live.membership = exec.membership
  live.rebalancePlan = exec.rebalancePlan
  live.nodeCaughtUp = exec.nodeCaughtUp
  live.sleep = exec.sleep
  live.listeningChannels = exec.listeningChannels
  live.processId = exec.processId
  live.nextSerial = exec.nextSerial
  live.allTables = exec.allTables
  live.sequences = exec.sequences
  live.replication = exec.replication
  live.callUserFunction = exec.callUserFunction
  live.callUserSetFunction = exec.callUserSetFunction
  live.transitionTables = exec.transitionTables
  live.pausable = exec.pausable
  live.notices = exec.notices
  live.depth = exec.depth
  live.budget = exec.budget
  live.targetRows = exec.targetRows
  live.insertSource = exec.insertSource
}

/** `live` as a cached plan runs with it: `exec`'s fields, the plan's own slots and budget relay, no plan cache below it. */
function bindContext(live: ExecCtx, exec: ExecCtx, slots: PlanSlots, budget: BudgetRelay): void {
  refreshContext(live, exec)
  live.planSlots = slots
  live.budget = budget
  live.planCache = undefined
}

/** Plans of one session's SELECTs, with how many were reused (for tests and profiles). */
export class PlanCache implements SelectPlans {
  private entries = new WeakMap<object, Entry>()
  private readonly catalogVersion: () => number
  hits = 0

  /** `catalogVersion` reads the replica's catalog version (moves on every catalog change). */
  constructor(catalogVersion: () => number) {
    this.catalogVersion = catalogVersion
  }

  select(tree: { SelectStmt: SelectStmt }, exec: ExecCtx, plan: (exec: ExecCtx) => Relation): Relation {
    return this.cached(tree, exec, () => cacheable(tree.SelectStmt, exec), plan)
  }

  targetRows<T>(tree: { UpdateStmt: UpdateStmt } | { DeleteStmt: DeleteStmt }, exec: ExecCtx, plan: (exec: ExecCtx) => T): T {
    return this.cached(tree, exec, () => cacheableTargetRows('UpdateStmt' in tree ? tree.UpdateStmt : tree.DeleteStmt, exec), plan)
  }

  /** `plan`'s result for `tree`: the cached one if it is still valid, else planned (and kept if `mayCache`). */
  private cached<T>(tree: object, exec: ExecCtx, mayCache: () => boolean, plan: (exec: ExecCtx) => T): T {
    const constants = templateConstants(tree)
    const key = sharedNode(tree)
    const version = this.catalogVersion()
    const signature = signatureOf(exec, constants)
    const found = this.entries.get(key)
    if (found && found.catalogVersion === version && found.templated === (constants !== undefined) && found.signature === signature &&
      found.roleOid === exec.role.oid && found.user === exec.settings.user && found.searchPath === exec.settings.show('search_path')) {
      const values = (constants ?? []).map(constValue)
      if (values.every((v) => v !== undefined)) {
        bindContext(found.live, exec, found.slots, found.budget)
        found.budget.current = exec.budget
        found.slots.values = values as RtValue[]
        this.hits++
        // The entry was made by this same call site for this tree (keyed by the tree), so by the same `plan`.
        return found.plan as T
      }
    }
    if (!mayCache() || signature.includes('?')) return plan(exec)
    const slots: PlanSlots = { constants: new Map((constants ?? []).map((c, i) => [c, i])), values: (constants ?? []).map((c) => constValue(c)!) }
    const budget = new BudgetRelay(exec.budget)
    const live = {} as ExecCtx
    bindContext(live, exec, slots, budget)
    const planned = plan(live)
    this.entries.set(key, { catalogVersion: version, roleOid: exec.role.oid, user: exec.settings.user, searchPath: exec.settings.show('search_path'), signature, templated: constants !== undefined, live, slots, budget, plan: planned })
    return planned
  }
}
