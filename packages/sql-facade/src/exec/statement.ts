/**
 * Runs one parsed statement that reads or writes data inside a core transaction.
 * Session-level statements (transactions, SET/SHOW) are handled by the session itself.
 */
import { noteReplicaRegion } from '../placement/home-region-column.js'
import { execCreateSchema } from './schema-ddl.js'
import { inheritanceDescendants } from '../catalog/table-inheritance.js'
import { execReindex } from './reindex.js'
import type { DeleteStmt, DoStmt, UpdateStmt, WithClause } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { Statement } from '../parser/statement.js'
import { planSelect } from '../plan/select.js'
import type { PlanCtx } from '../plan/plan-context.js'
import type { Relation } from '../relation/relation.js'
import { rootPlanCtx } from './plan-root.js'
import { mentionsColumn } from '../parser/column-mention.js'
import { columnUseOf } from '../parser/column-use.js'
import { hasNestedLockingClause } from '../parser/nested-locking.js'
import { checkCollations } from '../parser/collations.js'
import { regOutput } from '../catalog/object-names.js'
import { isRegType, T } from '../types/sql-type.js'
import { planWithClause } from '../plan/with-clause.js'
import type { ExecCtx } from '../runtime/context.js'
import { execAlterTable, execCreateFunction, execCreateIndex, execCreateTable, execDrop } from './ddl.js'
import { execAlterPublication, execCreatePublication } from '../replication/replication-statements.js'
import { execDelete, execInsert, execUpdate, type TargetRowPlans } from './dml.js'
import { execLockingSelect } from './locking-select.js'
import { execCreateView } from './view-ddl.js'
import { execComment } from './comment-ddl.js'
import { execCreateTableAs } from './create-table-as.js'
import { utility, type StatementResult } from '../runtime/result.js'
import { PausedCall } from '../runtime/run-pauses.js'
import { truncateTargets } from './foreign-key-ddl.js'
import { tableMeta } from '../catalog/table-meta.js'
import { partitionFilter, partitionRoot } from '../placement/partition-view.js'
import { partitionCatalog } from '../plan/partition-catalog.js'
import { decodeRow, tableColumns } from '../catalog/column-read.js'
import { execAlterSequence, execCreateSequence, restartOwnedSequences } from './sequence-ddl.js'
import { checkAccess } from '../auth/access-check.js'
import { privilegeCheckedQueries } from './function-body-queries.js'
import { trackOwnership } from '../auth/relation-ownership.js'
import { roleStatement } from '../auth/role-dispatch.js'
import { execAlterEnum, execCreateComposite, execCreateDomain, execCreateEnum, typeUsers } from './type-ddl.js'
import { execMerge } from './merge.js'
import { checkUserSchemaNames } from './user-schema-names.js'
import { sessionSearchPath } from '../catalog/search-path.js'
import { execAlterFunction } from './function-ddl.js'
import { execCreateTrigger, execDropTrigger, StatementTriggers } from './triggers.js'
import { execRename } from './rename-ddl.js'
import { execAlterCompositeType, execRenameAttribute } from './composite-alter.js'

/** Runs one statement, then its foreign key actions and checks (statement end). */
export function runInTransaction(stmt: Statement, exec: ExecCtx): StatementResult {
  let skipped: string[] = []
  if (stmt.kind === 'pg') {
    // Names in a user schema never reach code that resolves by the last name only.
    const checked = checkUserSchemaNames(stmt.node, exec.tx, { path: sessionSearchPath(exec), userFunction: (name) => exec.functions(name) !== undefined })
    if (checked.skippedCommand !== null) return utility(checked.skippedCommand, checked.notices)
    if (checked.node !== stmt.node) stmt = { ...stmt, node: checked.node }
    skipped = checked.notices
  }
  checkAccess(stmt, { tx: exec.tx, current: exec.role, roles: () => exec.roles(), functions: exec.functions, bodyReads: privilegeCheckedQueries })
  // PL/pgSQL's RAISE NOTICE (at any depth) collects here; the outermost statement sends them.
  const notices = (exec.notices ??= [])
  const start = notices.length
  notices.push(...skipped)
  const calls = exec.pausable
  if (calls === undefined || exec.depth > 0) return endStatement(stmt, exec, runStatement(stmt, exec), start)
  // Its top-level PL/pgSQL call may pause: the rest of the call, then the statement run
  // again with the call's value, come in later steps (runtime/run-pauses.ts).
  let paused: PausedCall
  try {
    return endStatement(stmt, exec, runStatement(stmt, exec), start)
  } catch (e) {
    if (!(e instanceof PausedCall)) throw e
    paused = e
  }
  const resume = (): StatementResult | null => {
    try {
      exec.budget.resumed()
      if (!calls.resume(paused.steps)) return null
      return endStatement(stmt, exec, runStatement(stmt, exec), start)
    } catch (e) {
      if (!(e instanceof PausedCall)) throw e
      paused = e
      return null
    }
  }
  return { ...utility('PAUSED'), paused: { resume } }
}

/** A statement's end: what it created is owned, its foreign keys are checked, its notices go first. */
function endStatement(stmt: Statement, exec: ExecCtx, result: StatementResult, start: number): StatementResult {
  const notices = exec.notices!
  trackOwnership(stmt, exec.tx, exec.role.oid)
  exec.foreignKeys.finish(exec.deferred?.defer)
  const named = withRegNames(result, exec)
  if (exec.depth > 0 || notices.length === start) return named
  const raised = notices.splice(start)
  return { ...named, notices: [...raised, ...(named.notices ?? [])] }
}

/**
 * OID alias columns (regclass ..) leave as their objects' names, as PostgreSQL prints
 * them: looked up here, where the statement's transaction still shows its catalog.
 */
function withRegNames(result: StatementResult, exec: ExecCtx): StatementResult {
  const reg = result.columns.map((c) => isRegType(c.type))
  if (!reg.includes(true)) return result
  const names = { catalog: () => exec.catalog(), user: exec.settings.user }
  const rows = result.rows.map((row) => row.map((v, i) => (reg[i] && typeof v === 'number' ? regOutput(result.columns[i]!.type, v, names) : v)))
  return { ...result, rows }
}

/** The plan cache's target-row plans for an UPDATE or DELETE, where this statement may use them (as a SELECT may). */
function targetRowPlans(tree: { UpdateStmt: UpdateStmt } | { DeleteStmt: DeleteStmt }, exec: ExecCtx, p: PlanCtx): TargetRowPlans | undefined {
  const cache = exec.planCache
  if (cache === undefined || p.shardLocation || p.tableOid) return undefined
  // A cached plan is planned over a root context: one with the statement's WITH would not
  // see its CTEs (a subquery of the WHERE naming one failed with 42P01).
  const dml = 'UpdateStmt' in tree ? tree.UpdateStmt : tree.DeleteStmt
  if ((dml.withClause?.ctes?.length ?? 0) > 0) return undefined
  return (plan) => cache.targetRows(tree, exec, (e) => plan(rootPlanCtx(e)))
}

function runStatement(stmt: Statement, exec: ExecCtx): StatementResult {
  const p = rootPlanCtx(exec, stmt.kind === 'pg' && mentionsColumn(stmt.node, 'shard_location'), stmt.kind === 'pg' && mentionsColumn(stmt.node, 'tableoid'))
  if (stmt.kind === 'createRegion') {
    const existing = exec.tx.getCatalog('region', stmt.name)
    if (existing !== undefined && existing !== null) {
      if (stmt.ifNotExists) return utility('CREATE REGION', [`region "${stmt.name}" already exists, skipping`])
      throw new SqlError(SqlState.duplicateObject, `region "${stmt.name}" already exists`)
    }
    const record = { name: stmt.name, roles: stmt.roles.map((r) => r.toUpperCase()) }
    exec.tx.setCatalog('region', stmt.name, record)
    noteReplicaRegion(exec.tx, stmt.name, record, exec.allTables(), exec.hlc())
    return utility('CREATE REGION')
  }
  if (stmt.kind !== 'pg') throw new SqlError(SqlState.featureNotSupported, `${stmt.kind.toUpperCase()} is not supported yet`)
  const node = stmt.node
  const roles = roleStatement(node, { tx: exec.tx, current: exec.role })
  if (roles !== null) return roles
  if ('SelectStmt' in node && node.SelectStmt.intoClause) {
    const { intoClause, ...query } = node.SelectStmt
    return execCreateTableAs(intoClause, query, false, p)
  }
  checkCollations(node, stmt.text)
  if (hasNestedLockingClause(node)) {
    throw new SqlError(SqlState.featureNotSupported, 'FOR UPDATE / FOR SHARE is supported only on the top-level SELECT of a statement', {
      hint: 'Lock the rows first (SELECT .. FROM t WHERE .. FOR UPDATE), then run the statement in the same transaction.',
    })
  }
  if ('SelectStmt' in node && node.SelectStmt.lockingClause?.length) return execLockingSelect(node.SelectStmt, p)
  if ('SelectStmt' in node) {
    // Scans decode only the columns the statement reads (parser/column-use.ts).
    p.columnUse = columnUseOf(node)
    const planFor = (e: ExecCtx): Relation => planSelect(node.SelectStmt, e === exec ? p : { ...rootPlanCtx(e, p.shardLocation), columnUse: p.columnUse }, null)
    const rel = exec.planCache && !p.shardLocation ? exec.planCache.select(node, exec, planFor) : planFor(exec)
    const rows = rel.rows(null)
    return { command: 'SELECT', rowCount: rows.length, columns: rel.columns, rows }
  }
  if ('InsertStmt' in node) return execInsert(node.InsertStmt, withCte(node.InsertStmt.withClause, p))
  if ('UpdateStmt' in node) return execUpdate(node.UpdateStmt, withCte(node.UpdateStmt.withClause, p), targetRowPlans(node, exec, p))
  if ('DeleteStmt' in node) return execDelete(node.DeleteStmt, withCte(node.DeleteStmt.withClause, p), targetRowPlans(node, exec, p))
  if ('MergeStmt' in node) return execMerge(node.MergeStmt, p)
  if ('CreateStmt' in node) return execCreateTable(node.CreateStmt, p)
  if ('CreateEnumStmt' in node) return execCreateEnum(node.CreateEnumStmt, exec)
  if ('AlterEnumStmt' in node) return execAlterEnum(node.AlterEnumStmt, exec)
  if ('CompositeTypeStmt' in node) return execCreateComposite(node.CompositeTypeStmt, exec)
  if ('CreateDomainStmt' in node) return execCreateDomain(node.CreateDomainStmt, p)
  if ('CreateSeqStmt' in node) return execCreateSequence(node.CreateSeqStmt, exec)
  if ('AlterSeqStmt' in node) return execAlterSequence(node.AlterSeqStmt, exec)
  if ('DropStmt' in node && node.DropStmt.removeType === 'OBJECT_TRIGGER') return execDropTrigger(node.DropStmt, p)
  if ('DropStmt' in node) return execDrop(node.DropStmt, p)
  if ('AlterTableStmt' in node && node.AlterTableStmt.objtype === 'OBJECT_TYPE') return execAlterCompositeType(node.AlterTableStmt, exec, typeUsers)
  if ('RenameStmt' in node && node.RenameStmt.renameType === 'OBJECT_ATTRIBUTE') return execRenameAttribute(node.RenameStmt, exec, typeUsers)
  if ('AlterTableStmt' in node) return execAlterTable(node.AlterTableStmt, p)
  if ('RenameStmt' in node) return execRename(node.RenameStmt, p)
  if ('IndexStmt' in node) return execCreateIndex(node.IndexStmt, p)
  if ('CreateFunctionStmt' in node) return execCreateFunction(node.CreateFunctionStmt, p, stmt.text)
  if ('DoStmt' in node) return execDo(node.DoStmt, exec, stmt.text)
  if ('CreateTrigStmt' in node) return execCreateTrigger(node.CreateTrigStmt, p)
  if ('AlterFunctionStmt' in node) return execAlterFunction(node.AlterFunctionStmt, p)
  if ('TruncateStmt' in node) {
    const rels = (node.TruncateStmt.relations ?? []).map((r) => ('RangeVar' in r ? r.RangeVar : { relname: '' }))
    const names = rels.map((r) => r.relname!)
    for (const name of names) if (!exec.tx.table(name)) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    // Without ONLY, an inheritance parent's descendants are truncated with it.
    for (const r of rels) {
      if (r.inh !== true) continue
      for (const d of inheritanceDescendants(exec.allTables(), r.relname!)) if (!names.includes(d.name)) names.push(d.name)
    }
    // Every table referencing a truncated one is truncated with it, so no key can break.
    const { tables, notices } = truncateTargets(p, names, node.TruncateStmt.behavior === 'DROP_CASCADE')
    if (node.TruncateStmt.restart_seqs === true) restartOwnedSequences(exec, tables)
    const triggers = tables.map((name) => StatementTriggers.of(p, exec.tx.table(name), 'TRUNCATE', []))
    for (const t of triggers) t?.beforeStatement()
    for (const name of tables) {
      const t = exec.tx.table(name)!
      // A partition's rows are stored in its parent: truncate the parent's rows that route to it.
      const cat = partitionCatalog(p)
      const store = partitionRoot(t, cat)
      const cols = tableColumns(store, store.name)
      const keep = store !== t ? partitionFilter(cat, t, cols) : null
      const rows = [...exec.rows.scan(store.name)].filter((row) => keep === null || keep(decodeRow(row, cols)))
      for (const row of rows) exec.rows.delete(store.name, store.primaryKey.map((c) => row[c] ?? null))
    }
    for (const t of triggers) t?.finish()
    return utility('TRUNCATE TABLE', notices)
  }
  if ('CreatePublicationStmt' in node) return execCreatePublication(node.CreatePublicationStmt, exec.tx, exec.nodeId)
  if ('AlterPublicationStmt' in node) return execAlterPublication(node.AlterPublicationStmt, exec.tx, exec.nodeId)
  if ('VacuumStmt' in node) {
    // Nothing to reclaim or gather: storage compaction runs by itself (generations) and
    // the planner keeps no statistics. The named tables must exist, as in PostgreSQL.
    for (const r of node.VacuumStmt.rels ?? []) {
      const name = 'VacuumRelation' in r ? r.VacuumRelation.relation?.relname : undefined
      if (name !== undefined && !exec.tx.table(name)) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
    }
    return utility(node.VacuumStmt.is_vacuumcmd ? 'VACUUM' : 'ANALYZE')
  }
  if ('ReindexStmt' in node) return execReindex(node.ReindexStmt, p)
  if ('CommentStmt' in node) return execComment(node.CommentStmt, exec)
  if ('ExplainStmt' in node) throw new SqlError(SqlState.featureNotSupported, 'EXPLAIN is not supported')
  if ('CreateSchemaStmt' in node) return execCreateSchema(node.CreateSchemaStmt, p)
  if ('ViewStmt' in node) return execCreateView(node.ViewStmt, p, stmt.text)
  if ('CreateTableAsStmt' in node) {
    const c = node.CreateTableAsStmt
    if (c.objtype === 'OBJECT_MATVIEW') throw new SqlError(SqlState.featureNotSupported, 'materialized views are not supported')
    const query = c.query && 'SelectStmt' in c.query ? c.query.SelectStmt : null
    if (!query || !c.into) throw new SqlError(SqlState.featureNotSupported, 'CREATE TABLE AS supports a SELECT (or VALUES) query only')
    return execCreateTableAs(c.into, query, !!c.if_not_exists, p)
  }
  throw new SqlError(SqlState.featureNotSupported, `statement ${Object.keys(node)[0]} is not supported`)
}

/** DO: an anonymous PL/pgSQL block, run as a function of no arguments. */
function execDo(d: DoStmt, exec: ExecCtx, text: string): StatementResult {
  let language = 'plpgsql'
  let body = ''
  for (const a of d.args ?? []) {
    if (!('DefElem' in a)) continue
    const v = a.DefElem.arg
    const str = v && 'String' in v ? v.String.sval ?? '' : ''
    if (a.DefElem.defname === 'language') language = str.toLowerCase()
    else if (a.DefElem.defname === 'as') body = str
  }
  if (language !== 'plpgsql') throw new SqlError(SqlState.featureNotSupported, `language "${language}" is not supported in DO; only plpgsql is`)
  exec.callUserFunction(exec, { name: 'inline_code_block', args: [], returns: T.void, body, language, source: text }, [], [], T.void)
  return utility('DO')
}

function withCte(w: WithClause | undefined, p: PlanCtx): PlanCtx {
  return w && (w.ctes?.length ?? 0) > 0 ? planWithClause(w, p, null) : p
}
