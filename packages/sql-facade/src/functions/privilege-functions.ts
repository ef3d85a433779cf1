/**
 * PostgreSQL's access privilege inquiry functions over the roles catalog:
 * has_table_privilege([role,] table, privileges), has_schema_privilege([role,] schema,
 * 'CREATE' | 'USAGE'), has_column_privilege (the table's or view's privilege, or the
 * column's own, each optionally WITH GRANT OPTION), pg_has_role([role,] role, 'MEMBER' |
 * 'USAGE' | 'SET'). A role is given by name or OID, a table by name (optionally `public.`)
 * or OID. Catalog relations (pg_catalog, information_schema) are readable by everyone,
 * as PostgreSQL grants SELECT on them to PUBLIC.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { ExecCtx } from '../runtime/context.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import { grantTarget } from '../catalog/grant-target.js'
import { readView } from '../catalog/view-def.js'
import { BOOTSTRAP, BOOTSTRAP_OID, type RoleRecord } from '../catalog/role-record.js'
import { privilegeList } from '../catalog/table-privilege.js'
import type { ScalarImpl, ScalarResolver } from './scalar-impl.js'

function role(exec: ExecCtx, v: RtValue): RoleRecord {
  if (typeof v === 'number') {
    if (v === exec.role.oid) return exec.role
    const r = exec.roles().roleByOid(v)
    if (!r) throw new SqlError(SqlState.undefinedObject, `role with OID ${v} does not exist`)
    return r
  }
  const name = String(v)
  if (name === exec.role.name) return exec.role
  const r = exec.roles().role(name)
  if (!r) throw new SqlError(SqlState.undefinedObject, `role "${name}" does not exist`)
  return r.oid === BOOTSTRAP_OID ? BOOTSTRAP : r
}

/** The privileges `who` has on a relation, or undefined for a catalog relation (readable by all). */
function tableAllows(exec: ExecCtx, who: RoleRecord, table: RtValue, privileges: string): boolean {
  const wanted = privilegeList(privileges)
  const letters = wanted.map((w) => w.letter)
  let relname: string
  if (typeof table === 'number') {
    const r = exec.catalog().relation(table)
    if (!r) return false
    if (r.kind === 'view' && r.view.namespace !== 'public') return who.superuser || letters.every((l) => l === 'r')
    relname = r.kind === 'table' ? r.table.name : r.kind === 'sequence' ? r.sequence.name : r.kind === 'index' ? r.index.tableName : r.view.name
  } else {
    const text = String(table)
    const parts = text.split('.')
    const schema = parts.length > 1 ? parts[0]! : 'public'
    relname = parts[parts.length - 1]!.replace(/^"(.*)"$/, '$1')
    if (schema === 'pg_catalog' || schema === 'information_schema' || (schema === 'public' && grantTarget(exec.tx, relname) === undefined && exec.systemView(null, relname) !== null)) {
      return who.superuser || letters.every((l) => l === 'r')
    }
  }
  const target = grantTarget(exec.tx, relname)
  if (!target) {
    // Sequences are not privilege-checked: everyone may use them.
    if (exec.catalog().sequences.some((s) => s.name === relname)) return true
    throw new SqlError(SqlState.undefinedTable, `relation "${relname}" does not exist`)
  }
  if (who.superuser) return true
  const have = exec.roles().privileges(who.oid, target)
  const grantable = wanted.some((w) => w.grantOption) ? exec.roles().grantable(who.oid, target) : new Set()
  return wanted.some((w) => (w.grantOption ? grantable : have).has(w.letter))
}

const textish = (t: SqlType): SqlType => (t.id === 'unknown' ? T.text : t)

function resolver(min: number, fn: (args: RtValue[], exec: ExecCtx) => RtValue): ScalarResolver {
  return (ts) => (ts.length === min || ts.length === min + 1 ? ({ args: ts.map(textish), result: T.bool, fn } satisfies ScalarImpl) : null)
}

/** has_column_privilege: the table's privilege, or the column's own (GRANT SELECT (a) ON t). */
function columnAllows(exec: ExecCtx, who: RoleRecord, table: RtValue, column: RtValue, privileges: string): boolean {
  if (tableAllows(exec, who, table, privileges)) return true
  const relname = typeof table === 'number' ? exec.catalog().table(table)?.name : String(table).split('.').pop()!.replace(/^"(.*)"$/, '$1')
  const target = relname === undefined ? undefined : grantTarget(exec.tx, relname)
  if (target === undefined) return false
  const columns = exec.tx.table(target.name)?.columns ?? readView(exec.tx, target.name)?.columns
  const name = typeof column === 'number' ? columns?.[column - 1]?.name : String(column)
  if (name === undefined) return false
  const roles = exec.roles()
  return privilegeList(privileges).some((w) => (w.grantOption ? roles.columnGrantable(who.oid, target, w.letter, name) : roles.columnPrivileges(who.oid, target, w.letter).has(name)))
}

/** has_schema_privilege: USAGE on the three schemas is everyone's; CREATE on public is granted (role-directory.ts). */
function schemaAllows(exec: ExecCtx, who: RoleRecord, schema: RtValue, privileges: string): boolean {
  const name = typeof schema === 'number' ? ({ 11: 'pg_catalog', 2200: 'public', 13183: 'information_schema' } as Record<number, string>)[schema] : String(schema)
  if (name !== 'public' && name !== 'pg_catalog' && name !== 'information_schema') throw new SqlError(SqlState.invalidSchemaName, `schema "${String(schema)}" does not exist`)
  return privileges.split(',').some((p) => {
    const priv = p.trim().replace(/\s+with\s+grant\s+option$/i, '').toLowerCase()
    if (priv === 'usage') return true
    if (priv === 'create') return who.superuser || (name === 'public' && exec.roles().mayCreate(who.oid))
    throw new SqlError(SqlState.invalidParameterValue, `unrecognized privilege type: "${p.trim()}"`)
  })
}

export const PRIVILEGE_FUNCTIONS: Record<string, ScalarResolver> = {
  has_schema_privilege: resolver(2, (a, exec) => (a.length === 2 ? schemaAllows(exec, exec.role, a[0]!, String(a[1])) : schemaAllows(exec, role(exec, a[0]!), a[1]!, String(a[2])))),
  has_table_privilege: resolver(2, (a, exec) => (a.length === 2 ? tableAllows(exec, exec.role, a[0]!, String(a[1])) : tableAllows(exec, role(exec, a[0]!), a[1]!, String(a[2])))),
  has_column_privilege: resolver(3, (a, exec) => (a.length === 3
    ? columnAllows(exec, exec.role, a[0]!, a[1]!, String(a[2]))
    : columnAllows(exec, role(exec, a[0]!), a[1]!, a[2]!, String(a[3])))),
  pg_has_role: resolver(2, (a, exec) => {
    const [who, target, mode] = a.length === 2 ? [exec.role, role(exec, a[0]!), String(a[1])] : [role(exec, a[0]!), role(exec, a[1]!), String(a[2])]
    if (!/^\s*(member|usage|set)(\s+with\s+(admin|grant)\s+option)?\s*$/i.test(mode)) throw new SqlError(SqlState.invalidParameterValue, `unrecognized privilege type: "${mode}"`)
    if (who.superuser || who.oid === target.oid) return true
    return exec.roles().memberOf(who.oid, /usage/i.test(mode)).has(target.oid)
  }),
}
