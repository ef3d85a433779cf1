/**
 * User-defined types: CREATE TYPE .. AS ENUM, ALTER TYPE .. ADD VALUE / RENAME VALUE,
 * CREATE TYPE .. AS (fields) (composite types) and DROP TYPE, as replicated catalog
 * writes inside the caller's core transaction.
 *
 * Invariants: every column of an enum type holds a copy of the type's labels equal to
 * the type object's after each of these statements (ALTER TYPE rewrites the copies in
 * the same transaction), so a column's type converts and compares exactly as the type
 * does; a composite type's fields change only while nothing uses it (composite-alter.ts). A
 * type used by a column is never dropped (2BP01; CASCADE is 0A000), so no column is left
 * of a type that no longer exists.
 */
import { userTypes } from '../catalog/user-type.js'
import type { AlterEnumStmt, CompositeTypeStmt, CreateDomainStmt, CreateEnumStmt, Node } from 'libpg-query'
import type { Json } from '@concord/core'
import { DOMAIN_KIND, decodeDomain, encodeDomain, type DomainInfo } from '../types/domain-type.js'
import { compileExpr } from '../expr/compile.js'
import { compileDomainCheck } from '../expr/domain-check.js'
import { makeCompileCtx, type PlanCtx } from '../plan/plan-context.js'
import { Scope } from '../relation/scope.js'
import type { TableInfo } from '@concord/core'
import { columnMeta, metaToJson } from '../catalog/table-meta.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import { addLabel, decodeLabels, encodeEnum, ENUM_KIND, newLabels, type EnumLabel } from '../types/enum-type.js'
import { COMPOSITE_KIND, decodeFields, encodeFields, MAX_FIELDS, type RowField } from '../types/row-type.js'
import { resolveTypeName, typeFromTypeName, typeName } from '../types/sql-type.js'
import type { ExecCtx } from '../runtime/context.js'
import { utility, type StatementResult } from '../runtime/result.js'

/** The type name of a parse tree's qualified name (`public.` allowed; other schemas do not exist). */
function enumName(names: string[]): string {
  const parts = names[0] === 'public' && names.length === 2 ? names.slice(1) : names
  if (parts.length !== 1) throw new SqlError(SqlState.invalidSchemaName, `schema "${parts[0]}" does not exist`)
  return parts[0]!
}

function labelsOf(exec: ExecCtx, name: string): EnumLabel[] | null {
  return decodeLabels(exec.tx.getCatalog(ENUM_KIND, name))
}

/** Whether `name` is a user type, and of which kind. */
function userTypeExists(exec: ExecCtx, name: string): 'enum' | 'composite' | 'domain' | null {
  if (labelsOf(exec, name) !== null) return 'enum'
  if (decodeFields(exec.tx.getCatalog(COMPOSITE_KIND, name)) !== null) return 'composite'
  return decodeDomain(exec.tx.getCatalog(DOMAIN_KIND, name)) !== undefined ? 'domain' : null
}

const KIND_OF: Record<'enum' | 'composite' | 'domain', string> = { enum: ENUM_KIND, composite: COMPOSITE_KIND, domain: DOMAIN_KIND }

export function execCreateDomain(stmt: CreateDomainStmt, p: PlanCtx): StatementResult {
  const exec = p.exec
  const name = enumName(nameList(stmt.domainname))
  if (userTypeExists(exec, name) !== null || exec.tx.table(name) || isBuiltinType(name)) {
    throw new SqlError(SqlState.duplicateObject, `type "${name}" already exists`)
  }
  const base = typeFromTypeName(stmt.typeName ?? {}, userTypes(exec.tx))
  if ((base.id === 'record' && base.name === undefined) || base.id === 'unknown' || base.id === 'void' || base.id === 'anyelement') {
    throw new SqlError(SqlState.datatypeMismatch, `"${typeName(base)}" is not a valid base type for a domain`)
  }
  // A domain over a domain keeps that one's constraints and default.
  const inherited = base.domain
  const info: DomainInfo = { name, notNull: inherited?.notNull ?? false, default: inherited?.default ?? null, checks: [...(inherited?.checks ?? [])] }
  let own = 0
  for (const c of stmt.constraints ?? []) {
    if (!('Constraint' in c)) continue
    const k = c.Constraint
    switch (k.contype) {
      case 'CONSTR_NOTNULL': info.notNull = true; break
      case 'CONSTR_NULL': info.notNull = false; break
      case 'CONSTR_DEFAULT': info.default = (k.raw_expr ?? null) as unknown as Json; break
      case 'CONSTR_CHECK': {
        const cname = k.conname ?? `${name}_check${own === 0 ? '' : own}`
        if (info.checks.some((x) => x.name === cname)) throw new SqlError(SqlState.duplicateObject, `constraint "${cname}" for domain "${name}" already exists`)
        info.checks.push({ name: cname, expr: k.raw_expr as unknown as Json })
        if (!k.conname) own++
        break
      }
      default:
        throw new SqlError(SqlState.featureNotSupported, `${(k.contype ?? '').replace('CONSTR_', '')} constraints are not supported on domains`)
    }
  }
  const type = { ...base, domain: info }
  // Compiles the constraints and the default now, so a bad one fails at CREATE DOMAIN.
  const cctx = makeCompileCtx(p, new Scope([]))
  compileDomainCheck(type, cctx, compileExpr)
  if (info.default !== null) compileExpr(info.default as unknown as Node, cctx)
  exec.tx.setCatalog(DOMAIN_KIND, name, encodeDomain(base, info))
  return utility('CREATE DOMAIN')
}

export function execCreateComposite(stmt: CompositeTypeStmt, exec: ExecCtx): StatementResult {
  const rv = stmt.typevar!
  const name = enumName(rv.schemaname ? [rv.schemaname, rv.relname!] : [rv.relname!])
  if (userTypeExists(exec, name) !== null || exec.tx.table(name) || isBuiltinType(name)) {
    throw new SqlError(SqlState.duplicateObject, `type "${name}" already exists`)
  }
  const fields: RowField[] = []
  for (const el of stmt.coldeflist ?? []) {
    if (!('ColumnDef' in el)) continue
    const d = el.ColumnDef
    const fname = d.colname ?? ''
    if (fields.some((f) => f.name === fname)) throw new SqlError(SqlState.duplicateColumn, `column "${fname}" specified more than once`)
    const type = typeFromTypeName(d.typeName ?? {}, userTypes(exec.tx))
    if (type.id === 'record' && type.name === undefined) throw new SqlError(SqlState.invalidTableDefinition, `column "${fname}" has pseudo-type record`)
    if (type.id === 'unknown') throw new SqlError(SqlState.invalidTableDefinition, `column "${fname}" has pseudo-type unknown`)
    fields.push({ name: fname, type })
  }
  if (fields.length > MAX_FIELDS) throw new SqlError(SqlState.tooManyColumns, `tables can have at most ${MAX_FIELDS} columns`)
  exec.tx.setCatalog(COMPOSITE_KIND, name, encodeFields(fields))
  return utility('CREATE TYPE')
}

/** Whether `name` is a built-in type's name (those resolve first, as pg_catalog leads the search path). */
function isBuiltinType(name: string): boolean {
  try {
    resolveTypeName([name], [])
    return true
  } catch {
    return false
  }
}

export function execCreateEnum(stmt: CreateEnumStmt, exec: ExecCtx): StatementResult {
  const name = enumName(nameList(stmt.typeName))
  if (userTypeExists(exec, name) !== null || exec.tx.table(name) || isBuiltinType(name)) {
    throw new SqlError(SqlState.duplicateObject, `type "${name}" already exists`)
  }
  const labels = (stmt.vals ?? []).map((v: Node) => ('String' in v ? v.String.sval ?? '' : ''))
  exec.tx.setCatalog(ENUM_KIND, name, encodeEnum(newLabels(name, labels)))
  return utility('CREATE TYPE')
}

/** The columns (table, column) whose type is the user type `name` or an array of it. */
function dependentColumns(exec: ExecCtx, name: string): Array<{ table: TableInfo; column: string }> {
  const out: Array<{ table: TableInfo; column: string }> = []
  for (const t of exec.allTables()) {
    for (const c of t.columns) {
      const m = columnMeta(c)
      if (((m.t.id === 'enum' || m.t.id === 'record') && m.t.name === name) || m.t.domain?.name === name) out.push({ table: t, column: c.name })
    }
  }
  return out
}

/** Everything that stores or embeds a value of type `name`: `table.column`s, then other types. */
export function typeUsers(exec: ExecCtx, name: string): string[] {
  return [...dependentColumns(exec, name).map((d) => `${d.table.name}.${d.column}`), ...dependentTypes(exec, name)]
}

/** The composite types with a field of type `name` (or an array of it). */
function dependentTypes(exec: ExecCtx, name: string): string[] {
  const composites = exec.tx.listCatalog(COMPOSITE_KIND).filter(([, v]) => decodeFields(v)?.some((f) => f.type.name === name || f.type.domain?.name === name)).map(([n]) => n)
  // A domain over an enum or composite type names it as its base.
  const domains = exec.tx.listCatalog(DOMAIN_KIND).filter(([n, v]) => n !== name && decodeDomain(v)?.name === name).map(([n]) => n)
  return [...composites, ...domains]
}

function storeLabels(exec: ExecCtx, name: string, labels: EnumLabel[]): void {
  exec.tx.setCatalog(ENUM_KIND, name, encodeEnum(labels))
  for (const { table, column } of dependentColumns(exec, name)) {
    const c = table.columns.find((x) => x.name === column)!
    const m = columnMeta(c)
    exec.tx.alterColumn(table.name, column, { meta: metaToJson({ ...m, t: { ...m.t, labels } }) })
  }
}

export function execAlterEnum(stmt: AlterEnumStmt, exec: ExecCtx): StatementResult {
  const name = enumName(nameList(stmt.typeName))
  const labels = labelsOf(exec, name)
  if (labels === null) {
    if (isBuiltinType(name)) throw new SqlError(SqlState.wrongObjectType, `${typeName(resolveTypeName([name], []))} is not an enum`)
    throw new SqlError(SqlState.undefinedObject, `type "${name}" does not exist`)
  }
  const newVal = stmt.newVal ?? ''
  if (stmt.oldVal !== undefined && stmt.oldVal !== null && stmt.oldVal !== '') {
    const at = labels.findIndex((l) => l.label === stmt.oldVal)
    if (at < 0) throw new SqlError(SqlState.invalidParameterValue, `"${stmt.oldVal}" is not an existing enum label`)
    if (labels.some((l) => l.label === newVal)) throw new SqlError(SqlState.duplicateObject, `enum label "${newVal}" already exists`)
    const renamed = newLabels(name, [newVal])[0]!
    storeLabels(exec, name, labels.map((l, i) => (i === at ? { ...l, label: renamed.label } : l)))
    return utility('ALTER TYPE')
  }
  if (labels.some((l) => l.label === newVal)) {
    if (stmt.skipIfNewValExists) return utility('ALTER TYPE', [`enum label "${newVal}" already exists, skipping`])
    throw new SqlError(SqlState.duplicateObject, `enum label "${newVal}" already exists`)
  }
  const neighbor = stmt.newValNeighbor !== undefined && stmt.newValNeighbor !== '' ? stmt.newValNeighbor : null
  storeLabels(exec, name, addLabel(name, labels, newVal, neighbor, stmt.newValIsAfter === true))
  return utility('ALTER TYPE')
}

/** DROP TYPE of enum types. */
export function execDropTypes(objects: Node[], missingOk: boolean, cascade: boolean, exec: ExecCtx, tag = 'DROP TYPE'): StatementResult {
  const notices: string[] = []
  const names: string[] = []
  for (const o of objects) {
    const n = enumName('TypeName' in o ? nameList(o.TypeName.names) : 'List' in o ? nameList(o.List.items) : [])
    if (userTypeExists(exec, n) === null) {
      if (isBuiltinType(n)) throw new SqlError(SqlState.dependentObjectsStillExist, `cannot drop type ${n} because it is required by the database system`)
      if (missingOk) {
        notices.push(`type "${n}" does not exist, skipping`)
        continue
      }
      throw new SqlError(SqlState.undefinedObject, `type "${n}" does not exist`)
    }
    names.push(n)
  }
  for (const n of names) {
    const users = dependentTypes(exec, n).filter((u) => !names.includes(u))
    if (users.length > 0) {
      if (cascade) throw new SqlError(SqlState.featureNotSupported, `DROP TYPE .. CASCADE of a type in use is not supported (type ${users[0]} uses type ${n})`)
      throw new SqlError(SqlState.dependentObjectsStillExist, `cannot drop type ${n} because other objects depend on it`, {
        detail: users.map((u) => `type ${u} depends on type ${n}`).join('\n'),
        hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
      })
    }
    const deps = dependentColumns(exec, n)
    if (deps.length > 0) {
      const d = deps[0]!
      if (cascade) throw new SqlError(SqlState.featureNotSupported, `DROP TYPE .. CASCADE of a type in use is not supported (column ${d.column} of table ${d.table.name} uses type ${n})`)
      throw new SqlError(SqlState.dependentObjectsStillExist, `cannot drop type ${n} because other objects depend on it`, {
        detail: deps.map((x) => `column ${x.column} of table ${x.table.name} depends on type ${n}`).join('\n'),
        hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
      })
    }
    exec.tx.setCatalog(KIND_OF[userTypeExists(exec, n)!], n, null)
  }
  return utility(tag, notices)
}
