/**
 * DDL: CREATE/DROP TABLE (with constraints, partitioning, WITH options), ALTER TABLE,
 * CREATE/DROP INDEX, CREATE/DROP FUNCTION and CREATE REGION, all as replicated catalog
 * writes inside the caller's core transaction.
 */
import { holdsTable, type ColumnSpec, type Json, type PartitionSpec, type PolicySpec, type TableInfo, type TableSpec } from '@concord/core'
import { userTypes } from '../catalog/user-type.js'
import type { AlterTableStmt, ColumnDef, Constraint, CreateFunctionStmt, CreateStmt, DropStmt, IndexStmt, Node } from 'libpg-query'
import type { Bound, KeyExpr } from '../placement/partition-view.js'
import { checkNewPartitionBound, checkPersistence } from '../plan/partition-bounds.js'
import { exprText } from '../catalog/expr-text.js'
import { attachPartition, checkDefaultKeepsRows, checkInheritsPartitioning, checkPartitionColumnChange, checkPartitionConstraintChange, checkOneDefault, deletePartitionRows, detachPartition, holds, partitionBound, partitionDescendants } from './partition-ddl.js'
import { columnMeta, metaToJson, tableMeta, tableMetaToJson, ROWID, type CheckConstraint, type ColumnMeta } from '../catalog/table-meta.js'
import type { IndexDef } from '../catalog/secondary-index.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { compileExpr } from '../expr/compile.js'
import { nameList } from '../parser/name-list.js'
import { typeFromTypeName } from '../types/sql-type.js'
import type { UserTypeSource } from '../types/enum-type.js'
import { coerce } from '../expr/coerce.js'
import { Scope, type ColumnBinding } from '../relation/scope.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import { encodeValue } from '../types/storage-codec.js'
import { isSerialName, T, typeName, type SqlType } from '../types/sql-type.js'
import { operatorClassOf } from '../types/operator-classes.js'
import { utility, type StatementResult } from '../runtime/result.js'
import { TableWriter } from './table-writer.js'
import { assertCounterable, counterColumnsOption, policyOption, POLICY_OPTION, setColumnPolicy } from './column-policy.js'
import { alterIndexStatistics, defaultIndexName, exprsRead, indexKeys, volatileCall } from './expression-index.js'
import { addForeignKeys, dropColumnReferences, dropForeignKey, dropTableReferences, dropUniqueReferences, validateForeignKey } from './foreign-key-ddl.js'
import { policyJson } from '../settings/settings.js'
import { execDropPublications } from '../replication/replication-statements.js'
import { readView } from '../catalog/view-def.js'
import { dropDependentViews, execDropView } from './view-ddl.js'
import { dropOwnedSequences, execDropSequences } from './sequence-ddl.js'
import { likeContribution } from './table-like.js'
import { alterColumnType } from './alter-column-type.js'
import { execDropSchema } from './schema-ddl.js'
import { addInherit, checkNoChildren, dropInherit, inheritedDefinition, isInheritedCheck, isInheritedColumn, mergeLocalColumn } from './inherits-ddl.js'
import { inheritanceDescendants, parentsOf } from '../catalog/table-inheritance.js'
import { execDropTypes } from './type-ddl.js'
import { applyShardLocation, placesShard } from '../placement/shard-location.js'
import { addsRegion, noteHolderChange } from '../placement/holder-change.js'
import { checkHomeRegionColumn, CURRENT_REGION_DEFAULT, refuseHomedPlacement, refuseHomeRegionChange } from '../placement/home-region-column.js'
import { compilePlpgsql } from './plpgsql-compile.js'
import { sqlStandardBody } from './function-ddl.js'
import { volatilityOf } from '../catalog/function-def.js'
import { dropTriggerOf, triggersUsing } from './triggers.js'
import { takesSystemViewName } from './system-view-name.js'

function defElemValue(arg: Node | undefined): string {
  if (!arg) return 'true'
  if ('String' in arg) return arg.String.sval ?? ''
  if ('Integer' in arg) return String(arg.Integer.ival ?? 0)
  if ('Float' in arg) return arg.Float.fval ?? ''
  if ('Boolean' in arg) return arg.Boolean.boolval ? 'true' : 'false'
  if ('TypeName' in arg) return nameList(arg.TypeName.names).join('.')
  if ('A_Const' in arg) {
    const c = arg.A_Const
    return c.sval?.sval ?? String(c.ival?.ival ?? c.fval?.fval ?? c.boolval?.boolval ?? '')
  }
  return ''
}

export function options(list: Node[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const o of list ?? []) if ('DefElem' in o) out[o.DefElem.defname!] = defElemValue(o.DefElem.arg)
  checkStorageOptions(out)
  return out
}

/** Concord's own table parameters (WITH (..) / SET (..)); each is read by the code that places or merges the table. */
const CONCORD_TABLE_OPTIONS = ['replication_regions', 'replication_strategy', 'conflict_resolution_policy', 'counter_columns', 'shard_location', 'shard_replication_factor', 'home_region_column']

/** PostgreSQL 15's storage parameters of a table (reloptions.c, heap and toast.): accepted, and hints only here. */
const POSTGRES_TABLE_OPTIONS = new Set([
  'fillfactor', 'toast_tuple_target', 'parallel_workers', 'autovacuum_enabled', 'autovacuum_vacuum_threshold',
  'autovacuum_vacuum_insert_threshold', 'autovacuum_analyze_threshold', 'autovacuum_vacuum_cost_delay', 'autovacuum_vacuum_cost_limit',
  'autovacuum_freeze_min_age', 'autovacuum_freeze_max_age', 'autovacuum_freeze_table_age', 'autovacuum_multixact_freeze_min_age',
  'autovacuum_multixact_freeze_max_age', 'autovacuum_multixact_freeze_table_age', 'log_autovacuum_min_duration',
  'autovacuum_vacuum_scale_factor', 'autovacuum_vacuum_insert_scale_factor', 'autovacuum_analyze_scale_factor', 'user_catalog_table',
  'vacuum_index_cleanup', 'vacuum_truncate', 'oids',
])

/**
 * A table's WITH (..) / SET (..) parameters, each one known: a misspelt one
 * (`replication_region`) was kept and ignored, so the table was not placed as asked.
 * PostgreSQL answers 22023 for a parameter it does not know; so does Concord.
 */
function tableOptions(list: Node[] | undefined, reset = false): Record<string, string> {
  // RESET (fillfactor) names parameters without values: only the names are checked.
  const opts: Record<string, string> = {}
  if (reset) for (const o of list ?? []) if ('DefElem' in o) opts[o.DefElem.defname!] = ''
  Object.assign(opts, reset ? {} : options(list))
  for (const k of Object.keys(opts)) {
    if (POSTGRES_TABLE_OPTIONS.has(k) || CONCORD_TABLE_OPTIONS.includes(k)) continue
    throw new SqlError(SqlState.invalidParameterValue, `unrecognized parameter "${k}"`, { hint: `Concord's table parameters: ${CONCORD_TABLE_OPTIONS.join(', ')}.` })
  }
  const strategy = opts['replication_strategy']
  if (strategy !== undefined && strategy !== '' && strategy.toLowerCase() !== 'eventual_consistency') {
    throw new SqlError(SqlState.featureNotSupported, `replication_strategy "${strategy}" is not supported`, {
      hint: "Concord replicates every table to its holders eventually consistently: replication_strategy = 'eventual_consistency'.",
    })
  }
  return opts
}

/** A partition's rows live in its partitioned table's shards, so they are held where that table is. */
function partitionRegions(): SqlError {
  return new SqlError(SqlState.featureNotSupported, 'replication_regions cannot be set on a partition: its rows are held in the regions of its partitioned table', {
    hint: 'Set replication_regions on the partitioned table.',
  })
}

/** Bounds of PostgreSQL's numeric storage parameters (reloptions.c) that a table may set. */
const STORAGE_OPTION_BOUNDS: Record<string, [number, number]> = {
  fillfactor: [10, 100],
  toast_tuple_target: [128, 8160],
  parallel_workers: [0, 1024],
  autovacuum_vacuum_threshold: [0, 2147483647],
  autovacuum_analyze_threshold: [0, 2147483647],
}

function checkStorageOptions(opts: Record<string, string>): void {
  for (const [k, v] of Object.entries(opts)) {
    const b = STORAGE_OPTION_BOUNDS[k]
    if (!b) continue
    const n = Number(v)
    if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new SqlError(SqlState.invalidParameterValue, `invalid value for integer option "${k}": ${v}`)
    if (n < b[0] || n > b[1]) throw new SqlError(SqlState.invalidParameterValue, `value ${v} out of bounds for option "${k}"`, { detail: `Valid values are between "${b[0]}" and "${b[1]}".` })
  }
}

/** Whether a stored expression tree references a column by (unqualified or qualified) name. */
function referencesColumn(node: unknown, column: string): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some((x) => referencesColumn(x, column))
  const o = node as Record<string, unknown>
  const ref = o.ColumnRef as { fields?: Node[] } | undefined
  if (ref && nameList(ref.fields).pop() === column) return true
  return Object.values(o).some((v) => referencesColumn(v, column))
}

function tablePolicy(value: string | undefined): PolicySpec | null {
  return value === undefined ? null : policyOption(value)
}

interface ColumnPlan {
  spec: ColumnSpec
  meta: ColumnMeta
  primary: boolean
  unique: boolean
  /** `CONSTRAINT name UNIQUE` on the column: the name it was given. */
  uniqueName?: string
  checks: CheckConstraint[]
  /** REFERENCES constraints of the column. */
  references: Constraint[]
}

function planColumn(def: ColumnDef, table: string, types: UserTypeSource): ColumnPlan {
  const name = def.colname!
  const names = nameList(def.typeName?.names)
  const serial = isSerialName(names)
  // SERIAL is integer, SMALLSERIAL smallint, BIGSERIAL bigint, as in PostgreSQL: each draws
  // node-unique values that fit its type (sequences/serial-sequences.ts).
  const type: SqlType = typeFromTypeName(def.typeName ?? {}, userTypes(types))
  if (type.id === 'unknown' && !type.array) throw new SqlError(SqlState.invalidTableDefinition, `column "${name}" has pseudo-type unknown`)
  const meta: ColumnMeta = { t: type }
  // What PostgreSQL's parser refuses in one column's constraints (42601), before anything is made.
  const clash = (what: string): SqlError => new SqlError(SqlState.syntaxError, `${what} for column "${name}" of table "${table}"`)
  let generatedSeen = false
  let identitySeen = false
  let defaultSeen = false
  let nullSeen: 'null' | 'not null' | null = null
  if (serial) {
    meta.serial = true
    meta.notNull = true
  }
  let primary = false
  let unique = false
  let uniqueName: string | undefined
  const checks: CheckConstraint[] = []
  const references: Constraint[] = []
  for (const c of def.constraints ?? []) {
    if (!('Constraint' in c)) continue
    const k = c.Constraint
    switch (k.contype) {
      case 'CONSTR_NOTNULL':
        if (nullSeen === 'null') throw clash('conflicting NULL/NOT NULL declarations')
        nullSeen = 'not null'
        meta.notNull = true
        break
      case 'CONSTR_NULL':
        if (nullSeen === 'not null' || identitySeen) throw clash('conflicting NULL/NOT NULL declarations')
        nullSeen = 'null'
        meta.notNull = false
        break
      case 'CONSTR_DEFAULT':
        if (identitySeen) throw clash('both default and identity specified')
        if (holds(k.raw_expr, 'SubLink')) throw new SqlError(SqlState.featureNotSupported, 'cannot use subquery in DEFAULT expression')
        if (holds(k.raw_expr, 'ColumnRef')) throw new SqlError(SqlState.featureNotSupported, 'cannot use column reference in DEFAULT expression')
        defaultSeen = true
        meta.default = k.raw_expr as unknown as Json
        break
      case 'CONSTR_PRIMARY': primary = true; meta.notNull = true; break
      case 'CONSTR_UNIQUE': refuseNullsNotDistinct(k.nulls_not_distinct); unique = true; uniqueName = k.conname ?? undefined; break
      case 'CONSTR_CHECK': checks.push({ name: k.conname ?? `${table}_${name}_check`, expr: k.raw_expr as unknown as Json }); break
      case 'CONSTR_GENERATED':
        if (generatedSeen) throw clash('multiple generation clauses specified')
        if (identitySeen) throw clash('both identity and generation expression specified')
        if (holds(k.raw_expr, 'SubLink')) throw new SqlError(SqlState.featureNotSupported, 'cannot use subquery in column generation expression')
        if (volatileCall(k.raw_expr)) throw new SqlError(SqlState.invalidObjectDefinition, 'generation expression is not immutable')
        generatedSeen = true
        meta.generated = k.raw_expr as unknown as Json
        break
      case 'CONSTR_IDENTITY':
        if (identitySeen) throw clash('multiple identity specifications')
        if (defaultSeen || serial) throw clash('both default and identity specified')
        if (generatedSeen) throw clash('both identity and generation expression specified')
        if (nullSeen === 'null') throw clash('conflicting NULL/NOT NULL declarations')
        identitySeen = true
        if (!['int2', 'int4', 'int8'].includes(type.id)) throw new SqlError(SqlState.invalidParameterValue, `identity column type must be smallint, integer, or bigint`)
        // Identity values are drawn node-unique like SERIAL's; START WITH and INCREMENT BY map the
        // n-th drawn id to start + (n - 1) * increment (still unique). Other options are refused.
        for (const o of k.options ?? []) {
          const d = 'DefElem' in o ? o.DefElem : null
          const arg = d?.arg
          const num = arg && 'Integer' in arg ? Number(arg.Integer.ival ?? 0) : arg && 'Float' in arg ? Number(arg.Float.fval) : NaN
          if (d && (d.defname === 'start' || d.defname === 'increment') && Number.isSafeInteger(num) && !(d.defname === 'increment' && num === 0)) {
            if (d.defname === 'start') meta.identityStart = num
            else meta.identityIncrement = num
            continue
          }
          throw new SqlError(SqlState.featureNotSupported, `identity sequence option ${d?.defname ?? '?'} is not supported for column "${name}"`, { hint: 'Identity values are drawn node-unique, as SERIAL\'s; only START WITH and INCREMENT BY are taken.' })
        }
        meta.identity = k.generated_when === 'a' ? 'always' : 'default'
        meta.serial = true
        meta.notNull = true
        break
      case 'CONSTR_FOREIGN': references.push(k); break
      // DEFERRABLE / INITIALLY .. after a column's REFERENCES qualify it (copies: parse trees are shared).
      case 'CONSTR_ATTR_DEFERRABLE': case 'CONSTR_ATTR_NOT_DEFERRABLE': case 'CONSTR_ATTR_DEFERRED': case 'CONSTR_ATTR_IMMEDIATE': {
        const last = references.length - 1
        if (last < 0) break
        const r = { ...references[last]! }
        if (k.contype === 'CONSTR_ATTR_DEFERRABLE') r.deferrable = true
        else if (k.contype === 'CONSTR_ATTR_NOT_DEFERRABLE') r.deferrable = false
        else if (k.contype === 'CONSTR_ATTR_DEFERRED') r.initdeferred = true
        else r.initdeferred = false
        if (r.initdeferred && r.deferrable === false) throw new SqlError(SqlState.syntaxError, 'constraint declared INITIALLY DEFERRED must be DEFERRABLE')
        references[last] = r
        break
      }
      default: break
    }
  }
  return { spec: { name, type: typeName(type), meta: metaToJson(meta) }, meta, primary, unique, ...(uniqueName !== undefined ? { uniqueName } : {}), checks, references }
}

/**
 * PostgreSQL's limit on a table's columns (MaxHeapAttributeNumber), kept so a table too
 * wide for PostgreSQL never enters the replicated catalog. Identifiers are limited to 63
 * bytes by the parser itself (NAMEDATALEN - 1: longer ones arrive truncated).
 */
export const MAX_COLUMNS = 1600

function tooManyColumns(): SqlError {
  return new SqlError(SqlState.tooManyColumns, `tables can have at most ${MAX_COLUMNS} columns`)
}

/** `base`, or `base1`, `base2` .. when a relation or index already has the name (as PostgreSQL's ChooseRelationName). */
function freeIndexName(p: PlanCtx, base: string): string {
  const taken = (n: string) => { const v = p.exec.tx.getCatalog('index', n); return (v !== undefined && v !== null) || !!p.exec.tx.table(n) }
  for (let i = 0; i < 1000; i++) {
    const n = i === 0 ? base : `${base}${i}`
    if (!taken(n)) return n
  }
  throw new SqlError(SqlState.duplicateTable, `relation "${base}" already exists`)
}

/** CREATE TEMP TABLE: the session must hold its temporary relations, and ON COMMIT must keep the rows. */
function checkTemporary(stmt: CreateStmt, p: PlanCtx): void {
  if (!p.exec.temporaryRelations) throw new SqlError(SqlState.internalError, 'a temporary table outside a session that holds temporary relations')
  if (stmt.oncommit === 'ONCOMMIT_DELETE_ROWS' || stmt.oncommit === 'ONCOMMIT_DROP') {
    throw new SqlError(SqlState.featureNotSupported, `ON COMMIT ${stmt.oncommit === 'ONCOMMIT_DROP' ? 'DROP' : 'DELETE ROWS'} is not supported`)
  }
  if (stmt.relation?.schemaname !== undefined && stmt.relation.schemaname !== 'pg_temp') {
    throw new SqlError(SqlState.invalidTableDefinition, 'cannot create temporary relation in non-temporary schema')
  }
}

/**
 * A partition key element's operator class: rows are routed by the type's default
 * comparison and hash, so only that class may be named (another one, `text_pattern_ops` or
 * a user's hash class, would route rows otherwise: 0A000 instead of being ignored, as it
 * was until 2026-12-03).
 */
function checkKeyOperatorClass(opclass: Node[] | undefined, type: SqlType): void {
  if (opclass === undefined || opclass.length === 0) return
  const names = opclass.map((n) => ('String' in n ? n.String.sval ?? '' : ''))
  const name = names[names.length - 1]!
  if ((names.length === 1 || names[0] === 'pg_catalog') && operatorClassOf(type)?.name === name) return
  throw new SqlError(SqlState.featureNotSupported, `operator class "${names.join('.')}" is not supported in a partition key`, {
    hint: `Concord routes rows by the type's default operator class${operatorClassOf(type) ? ` (${operatorClassOf(type)!.name})` : ''}: leave the operator class out.`,
  })
}

/**
 * `PARTITION BY method (a, (b + 0), lower(c))`: plain columns by name; expression elements
 * keep their parse tree and result type in `partitioning.meta.exprs` (partition-view.ts),
 * their SQL text as the key's column name (shown in `\\d` and error details).
 */
function partitionSpecOf(partspec: NonNullable<CreateStmt['partspec']>, cols: ColumnBinding[], p: PlanCtx): PartitionSpec {
  const strat = partspec.strategy
  const columns: string[] = []
  const exprs: Array<KeyExpr | null> = []
  for (const e of partspec.partParams ?? []) {
    const el = 'PartitionElem' in e ? e.PartitionElem : {}
    if (el.name !== undefined) {
      const col = cols.find((x) => x.name === el.name)
      if (col === undefined) throw new SqlError(SqlState.undefinedColumn, `column "${el.name}" named in partition key does not exist`)
      checkKeyOperatorClass(el.opclass, col.type)
      columns.push(el.name)
      exprs.push(null)
    } else if (el.expr) {
      if (holds(el.expr, 'SubLink')) throw new SqlError(SqlState.featureNotSupported, 'cannot use subquery in partition key expression')
      // A key that reads no column would put every row in one partition.
      if (!holds(el.expr, 'ColumnRef')) throw new SqlError(SqlState.invalidObjectDefinition, 'cannot use constant expression as partition key')
      const c = compileExpr(el.expr, makeCompileCtx(p, new Scope(cols)))
      // An anonymous row (`(a, b)`, ROW(..)) has no type to order by; a table's row (`(t)`) has its composite type.
      if ('RowExpr' in el.expr && c.type.id === 'record' && c.type.name === undefined) throw new SqlError(SqlState.invalidTableDefinition, `partition key column ${columns.length + 1} has pseudo-type record`)
      checkKeyOperatorClass(el.opclass, c.type)
      columns.push(exprText(el.expr))
      exprs.push({ expr: el.expr as unknown as Json, t: c.type })
    } else {
      throw new SqlError(SqlState.syntaxError, 'partition key element has neither a column nor an expression')
    }
  }
  const method = strat === 'PARTITION_STRATEGY_HASH' ? 'hash' : strat === 'PARTITION_STRATEGY_RANGE' ? 'range' : 'list'
  if (method === 'list' && columns.length > 1) throw new SqlError(SqlState.invalidTableDefinition, 'cannot use "list" partition strategy with more than one column')
  return exprs.some((x) => x !== null) ? { method, columns, meta: { exprs: exprs as unknown as Json } } : { method, columns }
}

export function execCreateTable(stmt: CreateStmt, p: PlanCtx): StatementResult {
  const name = stmt.relation!.relname!
  if ((stmt.tableElts ?? []).filter((el) => 'ColumnDef' in el).length > MAX_COLUMNS) throw tooManyColumns()
  const tx = p.exec.tx
  const temporary = stmt.relation!.relpersistence === 't'
  if (temporary) checkTemporary(stmt, p)
  if (stmt.relation!.relpersistence === 'u' && stmt.relation!.schemaname === 'pg_temp') {
    throw new SqlError(SqlState.invalidTableDefinition, 'only temporary relations may be created in temporary schemas')
  }
  if (stmt.relation!.schemaname === 'pg_catalog') {
    throw new SqlError(SqlState.insufficientPrivilege, `permission denied to create "${stmt.relation!.schemaname}.${name}"`, { detail: 'System catalog modifications are currently disallowed.' })
  }
  // A temporary table may take a permanent relation's name (it shadows it), not another temporary one's.
  const existing = tx.table(name)
  const view = readView(tx, name)
  if ((existing && (!temporary || tableMeta(existing).temporary)) || (view && (!temporary || view.temporary)) || takesSystemViewName(p.exec, name)) {
    if (stmt.if_not_exists) return utility('CREATE TABLE', [`relation "${name}" already exists, skipping`])
    throw new SqlError(SqlState.duplicateTable, `relation "${name}" already exists`)
  }
  // WITH (oids) / WITH OIDS: PostgreSQL 12 removed them; WITH (oids = false) is accepted.
  for (const o of stmt.options ?? []) {
    if ('DefElem' in o && o.DefElem.defname === 'oids' && !['false', 'off', '0', 'no'].includes(defElemValue(o.DefElem.arg).toLowerCase())) {
      throw new SqlError(SqlState.featureNotSupported, 'tables declared WITH OIDS are not supported')
    }
  }
  const opts = tableOptions(stmt.options)
  // PARTITION OF parent: the partition shares the parent's columns; rows live in the parent.
  if (stmt.inhRelations?.length && stmt.partbound) {
    const parentName = stmt.inhRelations[0] && 'RangeVar' in stmt.inhRelations[0] ? stmt.inhRelations[0].RangeVar.relname! : ''
    const parent = tx.table(parentName)
    if (!parent) throw new SqlError(SqlState.undefinedTable, `relation "${parentName}" does not exist`)
    if (!parent.partitioning) throw new SqlError(SqlState.invalidTableDefinition, `table "${parentName}" is not partitioned`)
    checkPersistence(parent, temporary, 'create')
    const bound = partitionBound(stmt.partbound, p)
    checkNewPartitionBound(parent, name, bound as Bound, p.exec.allTables().filter((t) => tableMeta(t).partitionOf === parentName))
    const pm = tableMeta(parent)
    if (opts.counter_columns !== undefined) throw new SqlError(SqlState.featureNotSupported, 'a partition takes its counter columns from its partitioned table')
    if (opts.replication_regions !== undefined) throw partitionRegions()
    checkHomeRegionColumn(opts, [], { name, partitioned: false, partition: true })
    checkOneDefault(p, parentName, name, bound)
    checkDefaultKeepsRows(p, parent, { name, bound })
    tx.createTable({
      name,
      columns: parent.columns.map((c) => ({ name: c.name, type: c.type, kind: c.kind, meta: c.meta })),
      primaryKey: parent.primaryKey,
      // A partition may itself be partitioned (sub-partitions); its rows still live in the root.
      ...(stmt.partspec ? { partitioning: partitionSpecOf(stmt.partspec, tableColumns(parent, name), p) } : {}),
      options: opts,
      // The parent's foreign keys apply to rows written through it; a partition keeps none.
      meta: tableMetaToJson({ ...pm, foreignKeys: [], partitionOf: parentName, bound }),
    })
    if (placesShard(opts)) applyShardLocation(tx, name, p.exec.hlc(), p.exec.nodeCaughtUp)
    return utility('CREATE TABLE')
  }
  // A typed table would be created without its type's columns and never follow ALTER TYPE: refused, never ignored.
  if (stmt.ofTypename) throw new SqlError(SqlState.featureNotSupported, 'CREATE TABLE .. OF type is not supported', { hint: 'List the columns, or use CREATE TABLE .. (LIKE ..).' })
  if (stmt.inhRelations?.length) checkInheritsPartitioning(stmt, p)
  // INHERITS (..): the parents' columns come first, then the table's own (inherits-ddl.ts).
  const inherited = stmt.inhRelations?.length ? inheritedDefinition(stmt, p, name, temporary) : null
  const inheritedNames = new Set((inherited?.columns ?? []).map((c) => c.spec.name))
  const notices = [...(inherited?.notices ?? [])]
  const cols: ColumnPlan[] = (inherited?.columns ?? []).map((c) => ({ ...c, primary: false, unique: false, checks: [], references: [] }))
  const checks: CheckConstraint[] = [...(inherited?.checks ?? [])]
  const uniques: string[][] = []
  /** `CONSTRAINT name UNIQUE (..)`: the name it was given. */
  const uniqueNames = new Map<string[], string>()
  const references: Array<{ k: Constraint; column: string | null }> = []
  const plainIndexes: string[][] = []
  let pk: string[] = []
  for (const el of stmt.tableElts ?? []) {
    if ('ColumnDef' in el) {
      const c = planColumn(el.ColumnDef, name, tx)
      const merged = inheritedNames.has(c.spec.name) ? cols.find((x) => x.spec.name === c.spec.name) : undefined
      if (merged) {
        // A local definition of an inherited column merges into it (once).
        inheritedNames.delete(c.spec.name)
        notices.push(mergeLocalColumn(merged, c, el.ColumnDef))
      } else {
        if (cols.some((x) => x.spec.name === c.spec.name)) throw new SqlError(SqlState.duplicateColumn, `column "${c.spec.name}" specified more than once`)
        cols.push(c)
      }
      checks.push(...c.checks)
      if (c.primary) {
        if (pk.length) throw new SqlError(SqlState.invalidTableDefinition, `multiple primary keys for table "${name}" are not allowed`)
        pk = [c.spec.name]
      }
      if (c.unique) {
        const u = [c.spec.name]
        uniques.push(u)
        if (c.uniqueName !== undefined) uniqueNames.set(u, c.uniqueName)
      }
      for (const k of c.references) references.push({ k, column: c.spec.name })
    } else if ('Constraint' in el) {
      const k = el.Constraint
      const keys = nameList(k.keys)
      if (k.contype === 'CONSTR_PRIMARY') {
        if (pk.length) throw new SqlError(SqlState.invalidTableDefinition, `multiple primary keys for table "${name}" are not allowed`)
        pk = keys
      } else if (k.contype === 'CONSTR_UNIQUE') {
        refuseNullsNotDistinct(k.nulls_not_distinct)
        uniques.push(keys)
        if (k.conname) uniqueNames.set(keys, k.conname)
      } else if (k.contype === 'CONSTR_CHECK') checks.push({ name: k.conname ?? `${name}_check${checks.length ? checks.length : ''}`, expr: k.raw_expr as unknown as Json, ...(k.is_no_inherit === true ? { noInherit: true } : {}) })
      else if (k.contype === 'CONSTR_FOREIGN') references.push({ k, column: null })
      // An exclusion constraint would be accepted and never checked: refuse it, as ALTER TABLE does.
      else if (k.contype === 'CONSTR_EXCLUSION') throw new SqlError(SqlState.featureNotSupported, 'EXCLUDE constraints are not supported')
    } else if ('TableLikeClause' in el) {
      const like = likeContribution(el.TableLikeClause, tx)
      for (const c of like.columns) {
        if (cols.some((x) => x.spec.name === c.spec.name)) throw new SqlError(SqlState.duplicateColumn, `column "${c.spec.name}" specified more than once`)
        cols.push({ ...c, primary: false, unique: false, checks: [], references: [] })
      }
      checks.push(...like.checks)
      if (like.primaryKey) {
        if (pk.length) throw new SqlError(SqlState.invalidTableDefinition, `multiple primary keys for table "${name}" are not allowed`)
        pk = like.primaryKey
      }
      uniques.push(...like.uniques)
      plainIndexes.push(...like.indexes)
    }
  }
  if (cols.length > MAX_COLUMNS) throw tooManyColumns()
  for (const k of [...pk, ...uniques.flat()]) {
    if (!cols.some((c) => c.spec.name === k)) throw new SqlError(SqlState.undefinedColumn, `column "${k}" named in key does not exist`)
  }
  for (const k of pk) {
    const c = cols.find((x) => x.spec.name === k)!
    c.meta.notNull = true
    c.spec.meta = metaToJson(c.meta)
  }
  // Row homing: the home column is never NULL, and names the writer's region unless given.
  const home = checkHomeRegionColumn(opts, cols.map((c) => ({ name: c.spec.name, type: c.meta.t })), { name, partitioned: !!stmt.partspec, partition: false })
  const homeCol = home === null ? undefined : cols.find((c) => c.spec.name === home)
  if (homeCol !== undefined) {
    homeCol.meta.notNull = true
    if (!homeCol.meta.default && !homeCol.meta.generated) homeCol.meta.default = CURRENT_REGION_DEFAULT as unknown as NonNullable<ColumnMeta['default']>
    homeCol.spec.meta = metaToJson(homeCol.meta)
  }
  if (pk.length === 0) {
    // A hidden node-unique row id identifies rows of tables without a primary key.
    cols.push({ spec: { name: ROWID, type: 'bigint', meta: metaToJson({ t: T.int8, serial: true, hidden: true, notNull: true }) }, meta: { t: T.int8 }, primary: true, unique: false, checks: [], references: [] })
    pk = [ROWID]
  }
  // Validate stored expressions now, so a bad DEFAULT/CHECK/GENERATED fails at CREATE.
  const scope = new Scope(cols.map((c) => ({ name: c.spec.name, table: name, type: c.meta.t })))
  const cctx = makeCompileCtx(p, scope)
  for (const c of cols) {
    if (c.meta.default) coerce(compileExpr(c.meta.default as unknown as Node, makeCompileCtx(p, new Scope([]))), c.meta.t, 'assignment', p.exec.nowMicros, `column "${c.spec.name}"`)
    if (c.meta.generated) {
      if (c.meta.default) throw new SqlError(SqlState.syntaxError, `both default and generation expression specified for column "${c.spec.name}" of table "${name}"`)
      const genScope = new Scope(cols.map((x) => ({ name: x.spec.name, table: name, type: x.meta.t })))
      compileExpr(c.meta.generated as unknown as Node, makeCompileCtx(p, genScope))
      for (const other of cols) {
        // Itself included, as PostgreSQL words it.
        if (other.meta.generated && referencesColumn(c.meta.generated, other.spec.name)) {
          throw new SqlError(SqlState.invalidObjectDefinition, `cannot use generated column "${other.spec.name}" in column generation expression`, { detail: 'A generated column cannot reference another generated column.' })
        }
      }
    }
  }
  for (const ch of checks) compileExpr(ch.expr as unknown as Node, cctx)
  const spec: TableSpec = {
    name,
    columns: cols.map((c) => c.spec),
    primaryKey: pk,
    policy: tablePolicy(opts.conflict_resolution_policy),
    regions: opts.replication_regions ? opts.replication_regions.split(',').map((s) => s.trim()).filter(Boolean) : null,
    options: opts,
    meta: tableMetaToJson({ checks, uniques, foreignKeys: [], ...(temporary ? { temporary } : {}), ...(inherited ? { inherits: inherited.parents } : {}) }),
  }
  // WITH (counter_columns = 'a, b'): those columns are counters from the start.
  const counters = counterColumnsOption(opts.counter_columns)
  for (const c of counters) {
    const col = spec.columns.find((x) => x.name === c)
    if (!col) throw new SqlError(SqlState.undefinedColumn, `column "${c}" named in counter_columns does not exist`)
    col.kind = 'counter'
  }
  if (stmt.partspec) spec.partitioning = partitionSpecOf(stmt.partspec, cols.map((c) => ({ name: c.spec.name, table: name, type: c.meta.t })), p)
  tx.createTable(spec)
  for (const u of uniques) {
    const idx: IndexDef = { name: uniqueNames.get(u) ?? `${name}_${u.join('_')}_key`, table: name, columns: u, unique: true }
    tx.setCatalog('index', idx.name, idx as unknown as Json)
  }
  for (const columns of plainIndexes) {
    const idx: IndexDef = { name: freeIndexName(p, `${name}_${columns.join('_')}_idx`), table: name, columns, unique: false }
    tx.setCatalog('index', idx.name, idx as unknown as Json)
  }
  addForeignKeys(p, name, references)
  for (const c of counters) assertCounterable(p, tx.table(name)!, c)
  if (placesShard(opts)) applyShardLocation(tx, name, p.exec.hlc(), p.exec.nodeCaughtUp)
  return utility('CREATE TABLE', notices)
}

export function execDrop(stmt: DropStmt, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const notices: string[] = []
  const names = (stmt.objects ?? []).map((o) => ('List' in o ? nameList(o.List.items).pop()! : 'String' in o ? o.String.sval! : 'ObjectWithArgs' in o ? nameList(o.ObjectWithArgs.objname).pop()! : ''))
  switch (stmt.removeType) {
    case 'OBJECT_VIEW':
      return execDropView(names, !!stmt.missing_ok, stmt.behavior === 'DROP_CASCADE', p)
    case 'OBJECT_TABLE': {
      for (const n of names) {
        if (!tx.table(n) && readView(tx, n)) throw new SqlError(SqlState.wrongObjectType, `"${n}" is not a table`, { hint: 'Use DROP VIEW to remove a view.' })
        if (!tx.table(n)) {
          if (stmt.missing_ok) {
            notices.push(`table "${n}" does not exist, skipping`)
            continue
          }
          throw new SqlError(SqlState.undefinedTable, `table "${n}" does not exist`)
        }
      }
      // Inheritance children go with their parent under CASCADE; without it they block the DROP (2BP01).
      const cascade = stmt.behavior === 'DROP_CASCADE'
      for (const n of [...names]) {
        if (!tx.table(n)) continue
        if (!cascade) checkNoChildren(p, n, names)
        else for (const d of inheritanceDescendants(p.exec.allTables(), n)) {
          if (names.includes(d.name)) continue
          names.push(d.name)
          notices.push(`drop cascades to table ${d.name}`)
        }
      }
      notices.push(...dropTableReferences(p, names.filter((n) => tx.table(n)), stmt.behavior === 'DROP_CASCADE'))
      notices.push(...dropDependentViews(p, names.filter((n) => tx.table(n)), 'table', stmt.behavior === 'DROP_CASCADE'))
      for (const n of names) {
        if (!tx.table(n)) continue
        // Dropping a partitioned table drops its partitions (at every depth); a partition's rows are stored in its root.
        deletePartitionRows(p, tx.table(n)!)
        for (const d of partitionDescendants(p, n)) dropTable(p, d)
        dropTable(p, n)
        dropOwnedSequences(p.exec, n)
      }
      return utility('DROP TABLE', notices)
    }
    case 'OBJECT_INDEX': {
      for (const n of names) {
        if (tx.getCatalog('index', n) === undefined || tx.getCatalog('index', n) === null) {
          if (stmt.missing_ok) {
            notices.push(`index "${n}" does not exist, skipping`)
            continue
          }
          throw new SqlError(SqlState.undefinedObject, `index "${n}" does not exist`)
        }
        const def = tx.getCatalog('index', n) as unknown as IndexDef
        const t = tx.table(def.table)
        if (def.unique && t) notices.push(...dropUniqueReferences(p, t, def.columns, `index ${n}`, stmt.behavior === 'DROP_CASCADE'))
        tx.setCatalog('index', n, null)
        // The uniqueness it enforced goes with it, unless another unique index (or constraint) on the same columns remains.
        if (def.unique && t) {
          const same = (a: string[]) => a.length === def.columns.length && a.every((c, i) => c === def.columns[i])
          const remains = tx.listCatalog('index').some(([, v]) => { const d = v as unknown as IndexDef | null; return !!d && d.unique && d.table === def.table && same(d.columns) })
          const meta = tableMeta(t)
          if (!remains && !same(t.primaryKey)) tx.alterTable(def.table, { meta: tableMetaToJson({ ...meta, uniques: meta.uniques.filter((u) => !same(u)) }) })
        }
      }
      return utility('DROP INDEX', notices)
    }
    case 'OBJECT_FUNCTION': {
      for (const n of names) {
        const f = tx.getCatalog('function', n)
        if (f === undefined || f === null) {
          if (stmt.missing_ok) {
            notices.push(`function ${n}() does not exist, skipping`)
            continue
          }
          throw new SqlError(SqlState.undefinedFunction, `function ${n}() does not exist`)
        }
        // Triggers calling it go with it under CASCADE; without it they block the DROP (2BP01).
        const users = triggersUsing(p.exec.allTables(), n)
        if (users.length && stmt.behavior !== 'DROP_CASCADE') {
          throw new SqlError(SqlState.dependentObjectsStillExist, `cannot drop function ${n}() because other objects depend on it`, {
            detail: users.map((u) => `trigger ${u.trigger} on table ${u.table} depends on function ${n}()`).join('\n'),
            hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
          })
        }
        for (const u of users) {
          dropTriggerOf(p, u.table, u.trigger)
          notices.push(`drop cascades to trigger ${u.trigger} on table ${u.table}`)
        }
        tx.setCatalog('function', n, null)
      }
      return utility('DROP FUNCTION', notices)
    }
    case 'OBJECT_TYPE':
      return execDropTypes(stmt.objects ?? [], !!stmt.missing_ok, stmt.behavior === 'DROP_CASCADE', p.exec)
    case 'OBJECT_DOMAIN':
      return execDropTypes(stmt.objects ?? [], !!stmt.missing_ok, stmt.behavior === 'DROP_CASCADE', p.exec, 'DROP DOMAIN')
    case 'OBJECT_SEQUENCE':
      return execDropSequences(names, !!stmt.missing_ok, p.exec, stmt.behavior === 'DROP_CASCADE')
    case 'OBJECT_SCHEMA':
      return execDropSchema(stmt, names, p)
    case 'OBJECT_PUBLICATION':
      return execDropPublications(names, !!stmt.missing_ok, tx, p.exec.nodeId)
  }
  throw new SqlError(SqlState.featureNotSupported, `DROP ${(stmt.removeType ?? '').replace('OBJECT_', '')} is not supported`)
}

function dropTable(p: PlanCtx, name: string): void {
  const tx = p.exec.tx
  for (const [iname, def] of tx.listCatalog('index')) {
    if ((def as unknown as IndexDef).table === name) tx.setCatalog('index', iname, null)
  }
  tx.dropTable(name)
}

export function execAlterTable(stmt: AlterTableStmt, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const name = stmt.relation!.relname!
  const table = tx.table(name)
  const cmds = (stmt.cmds ?? []).flatMap((c) => ('AlterTableCmd' in c ? [c.AlterTableCmd] : []))
  const index = table ? undefined : (tx.getCatalog('index', name) as unknown as IndexDef | null | undefined)
  if (index && cmds.length > 0 && cmds.every((c) => c.subtype === 'AT_SetStatistics')) {
    alterIndexStatistics(index, cmds)
    return utility(stmt.objtype === 'OBJECT_INDEX' ? 'ALTER INDEX' : 'ALTER TABLE')
  }
  if (!table) {
    if (stmt.missing_ok) return utility('ALTER TABLE', [`relation "${name}" does not exist, skipping`])
    throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  }
  const notices: string[] = []
  for (const c of stmt.cmds ?? []) {
    if (!('AlterTableCmd' in c)) continue
    const cmd = c.AlterTableCmd
    const current = tx.table(name)!
    checkPartitionConstraintChange(p, current, cmd, stmt.relation!.inh !== true)
    switch (cmd.subtype) {
      case 'AT_AddColumn': {
        const def = cmd.def && 'ColumnDef' in cmd.def ? cmd.def.ColumnDef : null
        if (!def) break
        if (current.columns.some((x) => x.name === def.colname)) {
          if (cmd.missing_ok) break
          throw new SqlError(SqlState.duplicateColumn, `column "${def.colname}" of relation "${name}" already exists`)
        }
        if (current.columns.filter((x) => !columnMeta(x).hidden).length >= MAX_COLUMNS) throw tooManyColumns()
        checkPartitionColumnChange(p, current, 'add', def.colname ?? '', stmt.relation!.inh !== true)
        const col = planColumn(def, name, p.exec.tx)
        if (col.primary) throw new SqlError(SqlState.featureNotSupported, 'adding a primary key column is not supported')
        // Inheritance children get the column too (a child that has it already keeps its own, same type required).
        const heirs = inheritanceDescendants(p.exec.allTables(), name)
        if (heirs.length > 0 && stmt.relation!.inh !== true) throw new SqlError(SqlState.invalidTableDefinition, 'column must be added to child tables too')
        tx.addColumn(name, col.spec)
        // Partitions (at every depth) carry a copy of their partitioned table's columns.
        for (const d of partitionDescendants(p, name)) tx.addColumn(d, col.spec)
        const filled = [name]
        for (const d of heirs) {
          const own = d.columns.find((x) => x.name === col.spec.name)
          if (own && typeName(columnMeta(own).t) !== typeName(col.meta.t)) throw new SqlError(SqlState.datatypeMismatch, `child table "${d.name}" has different type for column "${col.spec.name}"`)
          if (own) {
            notices.push(`merging definition of column "${col.spec.name}" for child "${d.name}"`)
            continue
          }
          tx.addColumn(d.name, col.spec)
          filled.push(d.name)
        }
        for (const t of filled) {
          const meta = tableMeta(tx.table(t)!)
          if (col.checks.length || (col.unique && t === name)) {
            tx.alterTable(t, { meta: tableMetaToJson({ ...meta, checks: [...meta.checks, ...col.checks], uniques: col.unique && t === name ? [...meta.uniques, [col.spec.name]] : meta.uniques }) })
          }
          // Existing rows take the column's default (or generated value), as in PostgreSQL.
          const after = tx.table(t)!
          // Rows not held here can be neither filled nor checked from here; a plain nullable
          // column needs neither (every row reads null in it), anything else is refused.
          const plain = !col.meta.default && !col.meta.serial && !col.meta.generated && !col.meta.notNull && !col.checks.length && !col.unique && !col.references.length
          if (plain && !holdsTable(p.exec.region, after)) continue
          const w = new TableWriter(after, p)
          const ci = w.index(col.spec.name)
          const cols = tableColumns(after, t)
          for (const r of [...p.exec.rows.scan(t)]) {
            const row = decodeRow(r, cols)
            const v = w.isGenerated(ci) ? (w.computeGenerated(row), row[ci]!) : w.defaultValue(ci)
            if (v === null) {
              if (col.meta.notNull) throw new SqlError(SqlState.notNullViolation, `column "${col.spec.name}" of relation "${t}" contains null values`)
              continue
            }
            p.exec.rows.update(t, w.keyOf(row), { [col.spec.name]: encodeValue(v) })
          }
        }
        addForeignKeys(p, name, col.references.map((k) => ({ k, column: col.spec.name })))
        break
      }
      case 'AT_DropColumn': {
        const col = cmd.name!
        if (!current.columns.some((x) => x.name === col)) {
          if (cmd.missing_ok) break
          throw new SqlError(SqlState.undefinedColumn, `column "${col}" of relation "${name}" does not exist`)
        }
        if (current.primaryKey.includes(col)) throw new SqlError(SqlState.featureNotSupported, `cannot drop column "${col}": it is part of the primary key`)
        checkPartitionColumnChange(p, current, 'drop', col, stmt.relation!.inh !== true)
        if (isInheritedColumn(p, current, col)) throw new SqlError(SqlState.invalidTableDefinition, `cannot drop inherited column "${col}"`)
        notices.push(...dropColumnReferences(p, current, col, cmd.behavior === 'DROP_CASCADE'))
        // The column's non-unique indexes (plain or on an expression reading it) go with it, as in PostgreSQL.
        for (const [iname, v] of tx.listCatalog('index')) {
          const ix = v as unknown as IndexDef | null
          if (ix && ix.table === name && !ix.unique && (ix.columns.includes(col) || exprsRead(ix.exprs, col))) tx.setCatalog('index', iname, null)
        }
        tx.dropColumn(name, col)
        for (const d of partitionDescendants(p, name)) if (tx.table(d)?.columns.some((x) => x.name === col)) tx.dropColumn(d, col)
        // Without ONLY the column leaves the children that have it from no other parent (with ONLY they keep it as their own).
        if (stmt.relation!.inh === true) {
          for (const d of inheritanceDescendants(p.exec.allTables(), name)) {
            if (!d.columns.some((x) => x.name === col) || isInheritedColumn(p, tx.table(d.name)!, col)) continue
            notices.push(...dropColumnReferences(p, d, col, cmd.behavior === 'DROP_CASCADE'))
            tx.dropColumn(d.name, col)
          }
        }
        break
      }
      case 'AT_SetRelOptions': case 'AT_ResetRelOptions': {
        const opts = tableOptions(cmd.def && 'List' in cmd.def ? cmd.def.List.items : undefined, cmd.subtype === 'AT_ResetRelOptions')
        refuseHomeRegionChange(opts, name)
        refuseHomedPlacement(opts, current)
        if (opts.counter_columns !== undefined) throw new SqlError(SqlState.featureNotSupported, 'counter_columns is given at CREATE TABLE only', { hint: "Use ALTER TABLE .. ALTER COLUMN .. SET (conflict_resolution_policy = 'counter')." })
        const merged = { ...current.options }
        for (const [k, v] of Object.entries(opts)) {
          if (cmd.subtype === 'AT_ResetRelOptions') delete merged[k]
          else merged[k] = v
        }
        const patch: Parameters<typeof tx.alterTable>[1] = { options: merged }
        if (opts.conflict_resolution_policy !== undefined) {
          const pol = cmd.subtype === 'AT_ResetRelOptions' ? null : tablePolicy(opts.conflict_resolution_policy)
          if (pol) patch.policy = pol
        }
        if (opts.replication_regions !== undefined && tableMeta(current).partitionOf) throw partitionRegions()
        if (opts.replication_regions !== undefined) patch.regions = cmd.subtype === 'AT_ResetRelOptions' ? null : opts.replication_regions.split(',').map((s) => s.trim()).filter(Boolean)
        tx.alterTable(name, patch)
        // Nodes of a region added now hold the table at once: they catch up before they answer from it.
        if (patch.regions !== undefined && addsRegion(current.regions, patch.regions)) noteHolderChange(tx, tx.table(name)!, { regions: current.regions, nodes: [] }, p.exec.hlc())
        if (placesShard(opts)) applyShardLocation(tx, name, p.exec.hlc(), p.exec.nodeCaughtUp)
        break
      }
      case 'AT_AddConstraint': {
        const k = cmd.def && 'Constraint' in cmd.def ? cmd.def.Constraint : null
        if (!k) break
        const meta = tableMeta(current)
        // Before, a second constraint of one name was added beside the first (42710 in PostgreSQL).
        if (k.conname !== undefined && (k.contype === 'CONSTR_CHECK' || k.contype === 'CONSTR_UNIQUE' || k.contype === 'CONSTR_FOREIGN')) refuseTakenConstraintName(p, current, k.conname)
        if (k.contype === 'CONSTR_CHECK') {
          const check = { name: k.conname ?? `${name}_check`, expr: k.raw_expr as unknown as Json, ...(k.is_no_inherit === true ? { noInherit: true } : {}) }
          // Inheritance children get the constraint too, unless ONLY or NO INHERIT.
          const heirs = k.is_no_inherit === true || stmt.relation!.inh !== true ? [] : inheritanceDescendants(p.exec.allTables(), name).map((d) => d.name)
          for (const t of [name, ...heirs]) {
            const tm = tableMeta(tx.table(t)!)
            if (t !== name && tm.checks.some((c) => c.name === check.name)) continue
            tx.alterTable(t, { meta: tableMetaToJson({ ...tm, checks: [...tm.checks, t === name ? check : { name: check.name, expr: check.expr }] }) })
            // NOT VALID: existing rows are checked by VALIDATE CONSTRAINT, new ones from now on.
            if (k.skip_validation !== true) checkExistingRows(p, t, check.name)
          }
        } else if (k.contype === 'CONSTR_UNIQUE') {
          refuseNullsNotDistinct(k.nulls_not_distinct)
          const keys = nameList(k.keys)
          // Before, a key over a missing column was accepted, and a key the rows already
          // broke was added while the duplicates stayed.
          for (const c of keys) {
            const col = current.columns.find((x) => x.name === c)
            if (col === undefined || columnMeta(col).hidden) throw new SqlError(SqlState.undefinedColumn, `column "${c}" named in key does not exist`)
          }
          const iname = k.conname ?? `${name}_${keys.join('_')}_key`
          const held = tx.getCatalog('index', iname)
          if ((held !== undefined && held !== null) || tx.table(iname) !== undefined) throw new SqlError(SqlState.duplicateTable, `relation "${iname}" already exists`)
          refuseDuplicateKeys(p, current, keys, iname)
          tx.alterTable(name, { meta: tableMetaToJson({ ...meta, uniques: [...meta.uniques, keys] }) })
          tx.setCatalog('index', iname, { name: iname, table: name, columns: keys, unique: true })
        } else if (k.contype === 'CONSTR_FOREIGN') {
          addForeignKeys(p, name, [{ k, column: null }])
        } else if (k.contype === 'CONSTR_PRIMARY') {
          addPrimaryKey(p, name, nameList(k.keys), k.conname ?? `${name}_pkey`)
        } else {
          throw new SqlError(SqlState.featureNotSupported, `ALTER TABLE ADD ${k.contype} is not supported`)
        }
        break
      }
      case 'AT_SetOptions': case 'AT_ResetOptions': {
        // ALTER COLUMN .. SET / RESET (attribute options): only the conflict policy means something here.
        const colName = cmd.name ?? ''
        const opts = options(cmd.def && 'List' in cmd.def ? cmd.def.List.items : undefined)
        for (const [k, v] of Object.entries(opts)) {
          if (k !== POLICY_OPTION) throw new SqlError(k === 'n_distinct' || k === 'n_distinct_inherited' ? SqlState.featureNotSupported : SqlState.invalidParameterValue, k === 'n_distinct' || k === 'n_distinct_inherited' ? `column option "${k}" is not supported` : `unrecognized parameter "${k}"`)
          setColumnPolicy(p, current, colName, cmd.subtype === 'AT_ResetOptions' ? null : v)
        }
        break
      }
      case 'AT_DropConstraint': {
        const cname = cmd.name ?? ''
        const meta = tableMeta(current)
        // A UNIQUE constraint is named by its index (derived, or given by CONSTRAINT name).
        const named = tx.getCatalog('index', cname) as unknown as IndexDef | null | undefined
        const unique = meta.uniques.find((u) => `${name}_${u.join('_')}_key` === cname) ??
          (named?.unique === true && named.table === name ? meta.uniques.find((u) => u.join('\u0000') === named.columns.join('\u0000')) : undefined)
        if (dropForeignKey(p, current, cname)) break
        if (meta.checks.some((c) => c.name === cname)) {
          if (isInheritedCheck(p, current, cname)) throw new SqlError(SqlState.invalidTableDefinition, `cannot drop inherited constraint "${cname}" of relation "${name}"`)
          tx.alterTable(name, { meta: tableMetaToJson({ ...meta, checks: meta.checks.filter((c) => c.name !== cname) }) })
          // Children lose the inherited copy (with ONLY they keep it as their own).
          if (stmt.relation!.inh === true) {
            for (const d of inheritanceDescendants(p.exec.allTables(), name)) {
              const dm = tableMeta(tx.table(d.name)!)
              if (!dm.checks.some((c) => c.name === cname) || isInheritedCheck(p, tx.table(d.name)!, cname)) continue
              tx.alterTable(d.name, { meta: tableMetaToJson({ ...dm, checks: dm.checks.filter((c) => c.name !== cname) }) })
            }
          }
          break
        }
        if (unique) {
          notices.push(...dropUniqueReferences(p, current, unique, `constraint ${cname} on table ${name}`, cmd.behavior === 'DROP_CASCADE'))
          const after = tableMeta(tx.table(name)!)
          tx.alterTable(name, { meta: tableMetaToJson({ ...after, uniques: after.uniques.filter((u) => u.join('\u0000') !== unique.join('\u0000') && `${name}_${u.join('_')}_key` !== cname) }) })
          tx.setCatalog('index', cname, null)
          break
        }
        if (cname === `${name}_pkey`) throw new SqlError(SqlState.featureNotSupported, 'dropping a primary key is not supported')
        if (cmd.missing_ok) {
          notices.push(`constraint "${cname}" of relation "${name}" does not exist, skipping`)
          break
        }
        throw new SqlError(SqlState.undefinedObject, `constraint "${cname}" of relation "${name}" does not exist`)
      }
      case 'AT_ValidateConstraint': {
        const cname = cmd.name ?? ''
        if (validateForeignKey(p, current, cname)) break
        if (tableMeta(current).checks.some((c) => c.name === cname)) {
          for (const t of [name, ...inheritanceDescendants(p.exec.allTables(), name).filter((d) => tableMeta(d).checks.some((c) => c.name === cname)).map((d) => d.name)]) {
            checkExistingRows(p, t, cname)
          }
          break
        }
        throw new SqlError(SqlState.undefinedObject, `constraint "${cname}" of relation "${name}" does not exist`)
      }
      case 'AT_ColumnDefault': case 'AT_SetNotNull': case 'AT_DropNotNull': {
        const colName = cmd.name ?? ''
        const col = current.columns.find((x) => x.name === colName)
        if (!col || columnMeta(col).hidden) throw new SqlError(SqlState.undefinedColumn, `column "${colName}" of relation "${name}" does not exist`)
        const meta: ColumnMeta = { ...columnMeta(col) }
        if (meta.identity && cmd.subtype !== 'AT_SetNotNull') {
          throw new SqlError(SqlState.syntaxError, `column "${colName}" of relation "${name}" is an identity column`, cmd.subtype === 'AT_ColumnDefault' && !cmd.def ? { hint: 'Use ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY instead.' } : {})
        }
        if (cmd.subtype === 'AT_ColumnDefault') {
          if (meta.generated !== undefined) throw new SqlError(SqlState.wrongObjectType, `column "${colName}" of relation "${name}" is a generated column`)
          if (cmd.def) {
            coerce(compileExpr(cmd.def, makeCompileCtx(p, new Scope([]))), meta.t, 'assignment', p.exec.nowMicros, `column "${colName}"`)
            meta.default = cmd.def as unknown as Json
          } else {
            delete meta.default
          }
        }
        // Inheritance children (without ONLY) change with their parent, each keeping the rest of its own column definition.
        const heirs = stmt.relation!.inh === true ? inheritanceDescendants(p.exec.allTables(), name).filter((d) => d.columns.some((x) => x.name === colName)) : []
        if (cmd.subtype === 'AT_SetNotNull') {
          for (const t of [name, ...heirs.map((d) => d.name)]) {
            for (const r of p.exec.rows.scan(t)) {
              if (r[colName] === null || r[colName] === undefined) throw new SqlError(SqlState.notNullViolation, `column "${colName}" of relation "${t}" contains null values`)
            }
          }
          meta.notNull = true
        } else if (cmd.subtype === 'AT_DropNotNull') {
          if (current.primaryKey.includes(colName)) throw new SqlError(SqlState.invalidTableDefinition, `column "${colName}" is in a primary key`)
          if (parentsOf(current).some((pn) => tx.table(pn)?.columns.some((x) => x.name === colName && columnMeta(x).notNull === true) === true)) {
            throw new SqlError(SqlState.invalidTableDefinition, `column "${colName}" is marked NOT NULL in parent table`)
          }
          meta.notNull = false
        }
        // Partitions carry a copy of their parent's columns: keep them in step.
        for (const t of [current, ...partitionDescendants(p, name).map((d) => tx.table(d)!)]) {
          tx.alterColumn(t.name, colName, { meta: metaToJson(meta) })
        }
        for (const d of heirs) {
          const own: ColumnMeta = { ...columnMeta(d.columns.find((x) => x.name === colName)!) }
          if (cmd.subtype === 'AT_ColumnDefault') {
            if (meta.default === undefined) delete own.default
            else own.default = meta.default
          } else if (cmd.subtype === 'AT_SetNotNull') own.notNull = true
          else if (!d.primaryKey.includes(colName)) own.notNull = false
          tx.alterColumn(d.name, colName, { meta: metaToJson(own) })
        }
        break
      }
      case 'AT_AlterColumnType':
        alterColumnType(p, name, cmd, stmt.relation!.inh !== true)
        break
      case 'AT_AddInherit':
        addInherit(p, name, cmd.def)
        break
      case 'AT_DropInherit':
        dropInherit(p, name, cmd.def)
        break
      case 'AT_AttachPartition':
        attachPartition(p, name, cmd)
        break
      case 'AT_DetachPartition':
        detachPartition(p, name, cmd)
        break
      default:
        throw new SqlError(SqlState.featureNotSupported, `ALTER TABLE ${String(cmd.subtype).replace('AT_', '')} is not supported`)
    }
  }
  return utility('ALTER TABLE', notices)
}

/** Every row of `table` passes its constraints; a CHECK failing names `check`, as PostgreSQL's 23514 does. */
function checkExistingRows(p: PlanCtx, table: string, check: string): void {
  const w = new TableWriter(p.exec.tx.table(table)!, p)
  for (const r of p.exec.rows.scan(table)) {
    const row = decodeRow(r, w.columns)
    try {
      w.validate(row, w.keyOf(row))
    } catch (e) {
      if ((e as SqlError).code === SqlState.checkViolation) throw new SqlError(SqlState.checkViolation, `check constraint "${check}" of relation "${table}" is violated by some row`)
      throw e
    }
  }
}

/**
 * UNIQUE NULLS NOT DISTINCT (PostgreSQL 15): NULLs would count as equal. Concord's unique
 * checks let any number of rows hold NULL in a key (NULLS DISTINCT), so the option is
 * refused rather than accepted and not kept (it was, and a second NULL went in).
 */
function refuseNullsNotDistinct(nullsNotDistinct: boolean | undefined): void {
  if (nullsNotDistinct === true) {
    throw new SqlError(SqlState.featureNotSupported, 'UNIQUE NULLS NOT DISTINCT is not supported', {
      hint: 'Concord treats NULLs in a unique key as distinct (the default): declare the columns NOT NULL, or leave out NULLS NOT DISTINCT.',
    })
  }
}

/** A unique key over the rows `t` holds now: 23505 when two rows share it, as PostgreSQL's index build answers. */
function refuseDuplicateKeys(p: PlanCtx, t: TableInfo, cols: string[], indexName: string): void {
  const w = new TableWriter(t, p)
  const seen = new Set<string>()
  for (const r of p.exec.rows.scan(t.name)) {
    const row = decodeRow(r, w.columns)
    const vals = cols.map((c) => row[w.index(c)]!)
    if (vals.some((v) => v === null)) continue
    const k = JSON.stringify(vals.map(String))
    if (seen.has(k)) throw new SqlError(SqlState.uniqueViolation, `could not create unique index "${indexName}"`, { detail: `Key (${cols.join(', ')})=(${vals.map(String).join(', ')}) is duplicated.` })
    seen.add(k)
  }
}

/** The names the constraints of `t` go by: checks, foreign keys, the primary key and unique keys (by index or derived name). */
function constraintNames(p: PlanCtx, t: TableInfo): Set<string> {
  const meta = tableMeta(t)
  const names = new Set<string>([...meta.checks.map((c) => c.name), ...meta.foreignKeys.map((f) => f.name), ...meta.uniques.map((u) => `${t.name}_${u.join('_')}_key`)])
  if (meta.primaryKeyName !== undefined) names.add(meta.primaryKeyName)
  for (const [, v] of p.exec.tx.listCatalog('index')) {
    const def = v as unknown as IndexDef | null
    if (def !== null && def.table === t.name && def.unique) names.add(def.name)
  }
  return names
}

/** ADD CONSTRAINT under a name a constraint of the table has already: 42710, as PostgreSQL. */
function refuseTakenConstraintName(p: PlanCtx, t: TableInfo, name: string): void {
  if (constraintNames(p, t).has(name)) throw new SqlError(SqlState.duplicateObject, `constraint "${name}" for relation "${t.name}" already exists`)
}

export function execCreateIndex(stmt: IndexStmt, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const table = stmt.relation!.relname!
  const t = tx.table(table)
  if (!t) throw new SqlError(SqlState.undefinedTable, `relation "${table}" does not exist`)
  // A partition's rows are stored in its partitioned table: a unique index of its own would check nothing.
  // A partial unique index constrains only the rows its predicate holds for: Concord's unique checks cover every row.
  if (stmt.unique && stmt.whereClause) throw new SqlError(SqlState.featureNotSupported, 'partial unique indexes (CREATE UNIQUE INDEX .. WHERE) are not supported')
  if (stmt.unique) refuseNullsNotDistinct(stmt.nulls_not_distinct)
  if (stmt.unique && tableMeta(t).partitionOf) {
    throw new SqlError(SqlState.featureNotSupported, `unique indexes on partition "${table}" are not supported`, { hint: 'Create the unique index on the partitioned table.' })
  }
  const keys = indexKeys(stmt.indexParams ?? [], t, !!stmt.unique, p, stmt.whereClause)
  const cols = keys.columns
  const taken = (n: string): boolean => {
    const v = tx.getCatalog('index', n)
    return (v !== undefined && v !== null) || tx.table(n) !== undefined
  }
  // An unnamed index takes the first free name of `t_keys_idx`, `t_keys_idx1`, .., as PostgreSQL picks.
  let name = stmt.idxname ?? defaultIndexName(table, keys.nameParts)
  for (let i = 1; stmt.idxname === undefined && taken(name); i++) name = `${defaultIndexName(table, keys.nameParts)}${i}`
  if (taken(name)) {
    if (stmt.if_not_exists) return utility('CREATE INDEX', [`relation "${name}" already exists, skipping`])
    throw new SqlError(SqlState.duplicateTable, `relation "${name}" already exists`)
  }
  if (stmt.unique) {
    const meta = tableMeta(t)
    refuseDuplicateKeys(p, t, cols, name)
    tx.alterTable(table, { meta: tableMetaToJson({ ...meta, uniques: [...meta.uniques, cols] }) })
  }
  const def: IndexDef = { name, table, columns: cols, unique: !!stmt.unique, ...(keys.exprs ? { exprs: keys.exprs } : {}) }
  tx.setCatalog('index', name, def as unknown as Json)
  return utility('CREATE INDEX')
}

export function execCreateFunction(stmt: CreateFunctionStmt, p: PlanCtx, text = ''): StatementResult {
  const tx = p.exec.tx
  const names = nameList(stmt.funcname)
  const name = names[names.length - 1]!.toLowerCase()
  const opts = options(stmt.options)
  let body = ''
  for (const o of stmt.options ?? []) {
    if ('DefElem' in o && o.DefElem.defname === 'as') {
      const arg = o.DefElem.arg
      if (arg && 'List' in arg) body = nameList(arg.List.items)[0] ?? ''
      else body = defElemValue(arg)
    }
  }
  const language = (opts.language ?? 'sql').toLowerCase()
  if (language !== 'sql' && language !== 'plpgsql') throw new SqlError(SqlState.featureNotSupported, `language "${language}" is not supported; only LANGUAGE SQL and plpgsql functions are`)
  if (stmt.sql_body && language !== 'sql') throw new SqlError(SqlState.invalidFunctionDefinition, 'inline SQL function body only valid for language SQL')
  if (stmt.sql_body && body) throw new SqlError(SqlState.invalidFunctionDefinition, 'duplicate function body specified')
  const bodyTree = stmt.sql_body ? sqlStandardBody(stmt.sql_body) : undefined
  const params = (stmt.parameters ?? []).map((a) => {
    if (!('FunctionParameter' in a)) throw new SqlError(SqlState.syntaxError, 'bad parameter')
    return a.FunctionParameter
  })
  const outs = params.filter((fp) => fp.mode === 'FUNC_PARAM_OUT' || fp.mode === 'FUNC_PARAM_INOUT' || fp.mode === 'FUNC_PARAM_TABLE')
  const setof = !!stmt.returnType?.setof || params.some((fp) => fp.mode === 'FUNC_PARAM_TABLE')
  if (outs.length > 1 && !setof) throw new SqlError(SqlState.featureNotSupported, 'functions with more than one OUT parameter are not supported unless they return SETOF')
  const args = params.filter((fp) => fp.mode !== 'FUNC_PARAM_OUT' && fp.mode !== 'FUNC_PARAM_TABLE').map((fp) => {
    if (fp.defexpr) throw new SqlError(SqlState.featureNotSupported, 'function parameter DEFAULT values are not supported')
    if (fp.mode === 'FUNC_PARAM_VARIADIC') throw new SqlError(SqlState.featureNotSupported, 'VARIADIC function parameters are not supported')
    return { name: fp.name ?? null, type: typeFromTypeName(fp.argType ?? {}, userTypes(tx)) }
  })
  const returnName = stmt.returnType ? nameList(stmt.returnType.names).pop()?.toLowerCase() : undefined
  const trigger = returnName === 'trigger' && !stmt.returnType?.arrayBounds?.length
  if (trigger && args.length) throw new SqlError(SqlState.invalidFunctionDefinition, 'trigger functions cannot have declared arguments', { hint: 'The arguments of the trigger can be accessed through TG_NARGS and TG_ARGV instead.' })
  if (trigger && language === 'sql') throw new SqlError(SqlState.invalidFunctionDefinition, 'SQL functions cannot return type trigger')
  // Several OUT / TABLE columns: each call yields a row of them (SETOF only, above).
  const outRow: SqlType | null = outs.length > 1 ? { id: 'record', fields: outs.map((fp, i) => ({ name: fp.name ?? `column${i + 1}`, type: typeFromTypeName(fp.argType ?? {}, userTypes(tx)) })) } : null
  const returns = trigger ? T.void : outRow ?? (outs.length ? typeFromTypeName(outs[0]!.argType ?? {}, userTypes(tx)) : stmt.returnType ? typeFromTypeName(stmt.returnType, userTypes(tx)) : T.void)
  const strict = opts.strict === 'true' || opts.strict === true as unknown
  const volatility = volatilityOf(opts.volatility ?? 'volatile')
  if (language === 'plpgsql') compilePlpgsql(text)
  const existing = tx.getCatalog('function', name)
  if (existing !== undefined && existing !== null && !stmt.replace) {
    throw new SqlError(SqlState.duplicateFunction, `function "${name}" already exists with same argument types`)
  }
  tx.setCatalog('function', name, {
    name, args: args as unknown as Json, returns: returns as unknown as Json, body, language,
    ...(language === 'plpgsql' ? { source: text } : {}),
    ...(trigger ? { trigger: true } : {}),
    ...(strict ? { strict: true } : {}),
    ...(bodyTree !== undefined ? { bodyTree } : {}),
    ...(setof ? { setof: true } : {}),
    ...(volatility !== undefined ? { volatility } : {}),
    owner: existing !== undefined && existing !== null && typeof (existing as { owner?: unknown }).owner === 'number' ? (existing as { owner: number }).owner : p.exec.role.oid,
  })
  return utility('CREATE FUNCTION')
}

export { policyJson }

/**
 * ALTER TABLE .. ADD PRIMARY KEY on a table created without one (pgbench does this after
 * loading). Rows keep the hidden row id they are stored under: replicas agree on a row's
 * identity from its first write, so it cannot change afterwards. The key becomes what
 * PostgreSQL enforces: its columns NOT NULL, unique together (checked on the rows present
 * now, and by the unique index `<table>_pkey` from then on). Concurrent inserts of one key
 * on two masters are two rows reported as a unique conflict, as for UNIQUE
 * (docs/compatibility.md), not one merged row as with a key declared at CREATE TABLE.
 */
function addPrimaryKey(p: PlanCtx, name: string, keys: string[], indexName: string): void {
  const tx = p.exec.tx
  const current = tx.table(name)!
  if (!(current.primaryKey.length === 1 && current.primaryKey[0] === ROWID) || tableMeta(current).primaryKeyName !== undefined) {
    throw new SqlError(SqlState.invalidTableDefinition, `multiple primary keys for table "${name}" are not allowed`)
  }
  for (const k of keys) {
    const col = current.columns.find((c) => c.name === k)
    if (!col || columnMeta(col).hidden) throw new SqlError(SqlState.undefinedColumn, `column "${k}" of relation "${name}" does not exist`)
  }
  const seen = new Set<string>()
  for (const r of p.exec.rows.scan(name)) {
    const values = keys.map((k) => r[k] ?? null)
    const nullAt = values.indexOf(null)
    if (nullAt >= 0) throw new SqlError(SqlState.notNullViolation, `column "${keys[nullAt]}" of relation "${name}" contains null values`)
    const key = JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v))
    if (seen.has(key)) throw new SqlError(SqlState.uniqueViolation, `could not create unique index "${indexName}"`, { detail: `Key (${keys.join(', ')}) is duplicated.` })
    seen.add(key)
  }
  for (const k of keys) {
    const col = current.columns.find((c) => c.name === k)!
    for (const t of [current, ...partitionDescendants(p, name).map((d) => tx.table(d)!)]) {
      tx.alterColumn(t.name, k, { meta: metaToJson({ ...columnMeta(col), notNull: true }) })
    }
  }
  const meta = tableMeta(tx.table(name)!)
  tx.alterTable(name, { meta: tableMetaToJson({ ...meta, uniques: [...meta.uniques, keys], primaryKeyName: indexName, primaryKeyColumns: keys }) })
  tx.setCatalog('index', indexName, { name: indexName, table: name, columns: keys, unique: true })
}
