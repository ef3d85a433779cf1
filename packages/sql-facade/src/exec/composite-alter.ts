/**
 * ALTER TYPE .. ADD / DROP / ALTER ATTRIBUTE and RENAME ATTRIBUTE of a composite type.
 *
 * Invariants: a composite type's fields change only while nothing stores or embeds a
 * value of it (no column, no other type's field, no domain over it): stored row values
 * are positional, so a change under them would reinterpret data. With a user, the change
 * is refused as PostgreSQL refuses it for columns (0A000), and CASCADE, which PostgreSQL
 * would follow into typed tables, is 0A000 as well.
 */
import type { AlterTableStmt, RenameStmt } from 'libpg-query'
import { userTypes } from '../catalog/user-type.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { COMPOSITE_KIND, decodeFields, encodeFields, MAX_FIELDS, type RowField } from '../types/row-type.js'
import { typeFromTypeName } from '../types/sql-type.js'
import type { ExecCtx } from '../runtime/context.js'
import { utility, type StatementResult } from '../runtime/result.js'

/** What uses a type: columns (table.column) and other types' fields or domains (type.field / domain). */
export type TypeUsers = (exec: ExecCtx, name: string) => string[]

function fieldsOf(exec: ExecCtx, name: string): RowField[] {
  const fields = decodeFields(exec.tx.getCatalog(COMPOSITE_KIND, name))
  if (fields === null) throw new SqlError(SqlState.undefinedTable, `relation "${name}" does not exist`)
  return fields
}

function refuseIfUsed(exec: ExecCtx, name: string, users: TypeUsers, cascade: boolean): void {
  const used = users(exec, name)
  if (used.length === 0) return
  if (cascade) throw new SqlError(SqlState.featureNotSupported, `ALTER TYPE .. CASCADE is not supported (type "${name}" is used by ${used[0]})`)
  throw new SqlError(SqlState.featureNotSupported, `cannot alter type "${name}" because column "${used[0]}" uses it`)
}

export function execAlterCompositeType(stmt: AlterTableStmt, exec: ExecCtx, users: TypeUsers): StatementResult {
  const rv = stmt.relation
  const name = rv?.schemaname === 'public' || !rv?.schemaname ? rv?.relname ?? '' : `${rv.schemaname}.${rv.relname}`
  let fields = fieldsOf(exec, name).slice()
  const notices: string[] = []
  let cascade = false
  for (const c of stmt.cmds ?? []) {
    if (!('AlterTableCmd' in c)) continue
    const cmd = c.AlterTableCmd
    if (cmd.behavior === 'DROP_CASCADE') cascade = true
    switch (cmd.subtype) {
      case 'AT_AddColumn': {
        const def = cmd.def && 'ColumnDef' in cmd.def ? cmd.def.ColumnDef : undefined
        const fname = def?.colname ?? ''
        if (fields.some((f) => f.name === fname)) throw new SqlError(SqlState.duplicateColumn, `column "${fname}" of relation "${name}" already exists`)
        const type = typeFromTypeName(def?.typeName ?? {}, userTypes(exec.tx))
        if (type.name === name) throw new SqlError(SqlState.invalidTableDefinition, `composite type ${name} cannot be made a member of itself`)
        fields.push({ name: fname, type })
        break
      }
      case 'AT_DropColumn': {
        const fname = cmd.name ?? ''
        if (!fields.some((f) => f.name === fname)) {
          if (cmd.missing_ok) {
            notices.push(`column "${fname}" of relation "${name}" does not exist, skipping`)
            break
          }
          throw new SqlError(SqlState.undefinedColumn, `column "${fname}" of relation "${name}" does not exist`)
        }
        fields = fields.filter((f) => f.name !== fname)
        break
      }
      case 'AT_AlterColumnType': {
        const fname = cmd.name ?? ''
        const i = fields.findIndex((f) => f.name === fname)
        if (i < 0) throw new SqlError(SqlState.undefinedColumn, `column "${fname}" of relation "${name}" does not exist`)
        const def = cmd.def && 'ColumnDef' in cmd.def ? cmd.def.ColumnDef : undefined
        fields[i] = { name: fname, type: typeFromTypeName(def?.typeName ?? {}, userTypes(exec.tx)) }
        break
      }
      default:
        throw new SqlError(SqlState.featureNotSupported, `ALTER TYPE .. ${cmd.subtype ?? ''} is not supported`)
    }
  }
  refuseIfUsed(exec, name, users, cascade)
  if (fields.length > MAX_FIELDS) throw new SqlError(SqlState.tooManyColumns, `tables can have at most ${MAX_FIELDS} columns`)
  exec.tx.setCatalog(COMPOSITE_KIND, name, encodeFields(fields))
  return utility('ALTER TYPE', notices)
}

/** ALTER TYPE .. RENAME ATTRIBUTE a TO b. */
export function execRenameAttribute(stmt: RenameStmt, exec: ExecCtx, users: TypeUsers): StatementResult {
  const name = stmt.relation?.relname ?? ''
  const fields = fieldsOf(exec, name).slice()
  const from = stmt.subname ?? ''
  const to = stmt.newname ?? ''
  const i = fields.findIndex((f) => f.name === from)
  if (i < 0) throw new SqlError(SqlState.undefinedColumn, `column "${from}" does not exist`)
  if (fields.some((f) => f.name === to)) throw new SqlError(SqlState.duplicateColumn, `column "${to}" of relation "${name}" already exists`)
  refuseIfUsed(exec, name, users, stmt.behavior === 'DROP_CASCADE')
  fields[i] = { name: to, type: fields[i]!.type }
  exec.tx.setCatalog(COMPOSITE_KIND, name, encodeFields(fields))
  return utility('ALTER TYPE')
}
