/**
 * CREATE SEQUENCE, ALTER SEQUENCE and DROP SEQUENCE over the catalog object
 * `('sequence', name)` (sequences/sequence-definition.ts). A sequence shares the
 * relation namespace with tables and indexes (42P07 on a clash), as in PostgreSQL.
 * RESTART, and a change of INCREMENT, bounds or type, begin a new epoch: RESTART at its
 * value; the others continue from the last value this node drew, as PostgreSQL
 * continues from the sequence's last value.
 */
import type { AlterSeqStmt, CreateSeqStmt } from 'libpg-query'
import { columnMeta, metaToJson, tableMeta } from '../catalog/table-meta.js'
import { forgetRelation } from '../auth/relation-ownership.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { applySequenceOptions, decodeSequence, encodeSequence, SEQUENCE_KIND } from '../sequences/sequence-definition.js'
import type { ExecCtx } from '../runtime/context.js'
import { utility, type StatementResult } from '../runtime/result.js'

function relationExists(exec: ExecCtx, name: string): boolean {
  const index = exec.tx.getCatalog('index', name)
  const seq = exec.tx.getCatalog(SEQUENCE_KIND, name)
  // A SERIAL column's implicit sequence holds its name too, as in PostgreSQL.
  const serial = exec.catalog().sequences.some((q) => q.name === name && q.serial !== undefined)
  return exec.tx.table(name) !== undefined || (index !== undefined && index !== null) || (seq !== undefined && seq !== null) || serial
}

/** Whether the session has a temporary relation named `name` (table, view or sequence). */
function temporaryRelationExists(exec: ExecCtx, name: string): boolean {
  const t = exec.tx.table(name)
  if (t !== undefined && tableMeta(t).temporary === true) return true
  if (decodeSequence(exec.tx.getCatalog(SEQUENCE_KIND, name))?.temporary === true) return true
  const v = exec.tx.getCatalog('view', name)
  return typeof v === 'object' && v !== null && !Array.isArray(v) && v['temporary'] === true
}

export function execCreateSequence(stmt: CreateSeqStmt, exec: ExecCtx): StatementResult {
  const name = stmt.sequence?.relname ?? ''
  const temporary = stmt.sequence?.relpersistence === 't'
  if (temporary) {
    if (stmt.sequence?.schemaname !== undefined && stmt.sequence.schemaname !== 'pg_temp') {
      throw new SqlError(SqlState.invalidTableDefinition, 'cannot create temporary relation in non-temporary schema')
    }
    if (!exec.temporaryRelations) throw new SqlError(SqlState.internalError, 'a temporary sequence outside a session that holds temporary relations')
  }
  // A temporary sequence may take a permanent relation's name (it shadows it), not another temporary one's.
  if (temporary ? temporaryRelationExists(exec, name) : relationExists(exec, name)) {
    if (stmt.if_not_exists) return utility('CREATE SEQUENCE', [`relation "${name}" already exists, skipping`])
    throw new SqlError(SqlState.duplicateTable, `relation "${name}" already exists`)
  }
  const { def } = applySequenceOptions(null, stmt.options, exec.hlc())
  if (def.ownedBy !== null) checkOwner(exec, def.ownedBy)
  exec.tx.setCatalog(SEQUENCE_KIND, name, encodeSequence(temporary ? { ...def, temporary } : def))
  return utility('CREATE SEQUENCE')
}

export function execAlterSequence(stmt: AlterSeqStmt, exec: ExecCtx): StatementResult {
  const name = stmt.sequence?.relname ?? ''
  const current = decodeSequence(exec.tx.getCatalog(SEQUENCE_KIND, name))
  if (!current) {
    if (exec.tx.table(name)) throw new SqlError(SqlState.wrongObjectType, `"${name}" is not a sequence`)
    if (stmt.missing_ok) return utility('ALTER SEQUENCE', [`relation "${name}" does not exist, skipping`])
    throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  }
  const { def, restart } = applySequenceOptions(current, stmt.options, exec.hlc())
  if (def.ownedBy !== null && def.ownedBy !== current.ownedBy) checkOwner(exec, def.ownedBy)
  let next = def
  if (restart !== null) {
    next = { ...def, base: restart, epoch: exec.hlc() }
  } else if (def.increment !== current.increment || def.min !== current.min || def.max !== current.max || def.type !== current.type) {
    const last = exec.sequences.lastDrawn(name, current)
    next = { ...def, base: last === null ? current.base : last + def.increment, epoch: exec.hlc() }
  }
  exec.tx.setCatalog(SEQUENCE_KIND, name, encodeSequence(next))
  return utility('ALTER SEQUENCE')
}

/**
 * TRUNCATE .. RESTART IDENTITY: the sequences owned by a column of `tables` (OWNED BY)
 * start again at their START, as ALTER SEQUENCE .. RESTART does. A table with a SERIAL or
 * identity column fails with 0A000: its ids are drawn per node, with no cluster-wide
 * counter to restart (as setval of its sequence fails); RESTART IDENTITY was accepted
 * there and the ids went on.
 */
export function restartOwnedSequences(exec: ExecCtx, tables: readonly string[]): void {
  for (const name of tables) {
    const t = exec.tx.table(name)
    const drawn = t?.columns.find((c) => {
      const m = columnMeta(c)
      // A table without a primary key keeps its rows under a hidden row id: no column of the user's.
      return m.hidden !== true && (m.serial === true || m.identity !== undefined)
    })
    if (drawn !== undefined) {
      throw new SqlError(SqlState.featureNotSupported, `TRUNCATE .. RESTART IDENTITY is not supported for table "${name}": its column "${drawn.name}" draws ids per node, with no cluster-wide counter to restart`, {
        hint: 'TRUNCATE without RESTART IDENTITY empties the table and the ids go on.',
      })
    }
  }
  const owners = new Set(tables)
  for (const [seq, v] of exec.tx.listCatalog(SEQUENCE_KIND)) {
    const d = decodeSequence(v)
    if (d === null || d.ownedBy === null || !owners.has(d.ownedBy.slice(0, d.ownedBy.lastIndexOf('.')))) continue
    exec.tx.setCatalog(SEQUENCE_KIND, seq, encodeSequence({ ...d, base: d.start, epoch: exec.hlc() }))
  }
}

/** Whether a column default calls nextval on sequence `name` given as a regclass constant (`nextval('s')`), which depends on it. */
function readsSequence(node: unknown, name: string): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some((x) => readsSequence(x, name))
  const o = node as Record<string, unknown>
  const call = o['FuncCall'] as { funcname?: Array<{ String?: { sval?: string } }>; args?: unknown[] } | undefined
  if (call && call.funcname?.[call.funcname.length - 1]?.String?.sval === 'nextval' && call.args?.length === 1) {
    const arg = call.args[0] as Record<string, unknown>
    const cast = arg['TypeCast'] as { arg?: Record<string, unknown>; typeName?: { names?: Array<{ String?: { sval?: string } }> } } | undefined
    const lit = (cast && cast.typeName?.names?.[cast.typeName.names.length - 1]?.String?.sval === 'regclass' ? cast.arg : arg)?.['A_Const'] as { sval?: { sval?: string } } | undefined
    // A text argument ('s'::text) is looked up at each call: no dependency, as in PostgreSQL.
    if (lit?.sval?.sval === name) return true
  }
  return Object.values(o).some((v) => readsSequence(v, name))
}

/** The columns whose DEFAULT depends on sequence `name`. */
function dependentDefaults(exec: ExecCtx, name: string): Array<{ table: string; column: string }> {
  const out: Array<{ table: string; column: string }> = []
  for (const t of exec.allTables()) {
    for (const c of t.columns) {
      const d = columnMeta(c).default
      if (d !== undefined && d !== null && readsSequence(d, name)) out.push({ table: t.name, column: c.name })
    }
  }
  return out
}

/** DROP SEQUENCE [IF EXISTS] names [CASCADE]: a column DEFAULT calling nextval on one blocks it (2BP01) unless CASCADE, which drops the default. */
export function execDropSequences(names: string[], missingOk: boolean, exec: ExecCtx, cascade = false): StatementResult {
  const notices: string[] = []
  for (const n of names) {
    if (decodeSequence(exec.tx.getCatalog(SEQUENCE_KIND, n)) !== null) {
      const deps = dependentDefaults(exec, n)
      if (deps.length > 0 && !cascade) {
        throw new SqlError(SqlState.dependentObjectsStillExist, `cannot drop sequence ${n} because other objects depend on it`, {
          detail: deps.map((d) => `default value for column ${d.column} of table ${d.table} depends on sequence ${n}`).join('\n'),
          hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
        })
      }
      for (const d of deps) {
        const col = exec.tx.table(d.table)!.columns.find((c) => c.name === d.column)!
        const meta = { ...columnMeta(col) }
        delete meta.default
        exec.tx.alterColumn(d.table, d.column, { meta: metaToJson(meta) })
      }
      if (deps.length === 1) notices.push(`drop cascades to default value for column ${deps[0]!.column} of table ${deps[0]!.table}`)
      else if (deps.length > 1) notices.push(`drop cascades to ${deps.length} other objects`)
    }
    if (decodeSequence(exec.tx.getCatalog(SEQUENCE_KIND, n)) === null) {
      if (exec.tx.table(n)) throw new SqlError(SqlState.wrongObjectType, `"${n}" is not a sequence`, { hint: 'Use DROP TABLE to remove a table.' })
      const serial = exec.catalog().sequences.find((q) => q.name === n)?.serial
      if (serial !== undefined) {
        throw new SqlError(SqlState.dependentObjectsStillExist, `cannot drop sequence ${n} because other objects depend on it`, {
          detail: `default value for column ${serial.column} of table ${serial.table} depends on sequence ${n}`,
          hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
        })
      }
      if (missingOk) {
        notices.push(`sequence "${n}" does not exist, skipping`)
        continue
      }
      throw new SqlError(SqlState.undefinedTable, `sequence "${n}" does not exist`)
    }
  }
  for (const n of names) dropSequence(exec, n)
  return utility('DROP SEQUENCE', notices)
}

function dropSequence(exec: ExecCtx, name: string): void {
  const def = decodeSequence(exec.tx.getCatalog(SEQUENCE_KIND, name))
  if (def === null) return
  exec.tx.setCatalog(SEQUENCE_KIND, name, null)
  // Its owner and grants go with it (a sequence created again with the name starts with none).
  forgetRelation(exec.tx, name)
  exec.sequences.dropped(name, def.temporary === true)
}

/** Drops the sequences OWNED BY a column of `table` (DROP TABLE drops them with it). */
export function dropOwnedSequences(exec: ExecCtx, table: string): void {
  for (const [name, v] of exec.tx.listCatalog(SEQUENCE_KIND)) {
    const d = decodeSequence(v)
    if (d?.ownedBy?.startsWith(`${table}.`)) dropSequence(exec, name)
  }
}

function checkOwner(exec: ExecCtx, ownedBy: string): void {
  const dot = ownedBy.indexOf('.')
  const table = exec.tx.table(ownedBy.slice(0, dot))
  if (!table) throw new SqlError(SqlState.undefinedTable, `relation "${ownedBy.slice(0, dot)}" does not exist`)
  const column = ownedBy.slice(dot + 1)
  if (!table.columns.some((c) => c.name === column)) throw new SqlError(SqlState.undefinedColumn, `column "${column}" of relation "${table.name}" does not exist`)
}
