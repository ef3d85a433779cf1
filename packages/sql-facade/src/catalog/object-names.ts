/**
 * Names and OIDs of catalog objects, both ways, for the OID alias types: `'orders'::regclass`
 * is the table's OID and a regclass value prints as the table's name (likewise regtype,
 * regnamespace, regrole, regproc). Lookups read the statement's catalog model, so a table
 * created earlier in the same transaction is found.
 *
 * Input follows PostgreSQL: a number is taken as the OID itself; a name is an identifier,
 * folded to lower case unless quoted, optionally qualified by its schema; a name that
 * names nothing is an error (42P01, 42704, 3F000, 42883).
 */
import { userTypes } from './user-type.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { resolveTypeName, typeFromOid, typeName, typeOid, type SqlType } from '../types/sql-type.js'
import type { Json } from '@concord/core'
import { encodeEnum, ENUM_KIND } from '../types/enum-type.js'
import { COMPOSITE_KIND, encodeFields } from '../types/row-type.js'
import { NAMESPACE_OIDS, OWNER_OID, type CatalogModel, type Namespace } from './catalog-model.js'

/** What name lookups need: the catalog and who the session is. */
export interface NameContext {
  catalog(): CatalogModel
  readonly user: string
}

/** Splits `schema.name` / `"Quoted".name` into identifiers, folding unquoted ones to lower case. */
function identifiers(text: string): string[] {
  const out: string[] = []
  const re = /\s*(?:"((?:[^"]|"")*)"|([^."\s]+))\s*(\.|$)/y
  let m: RegExpExecArray | null
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!.toLowerCase())
    if (m[3] === '') break
  }
  return out
}

function namespaceOf(parts: string[]): Namespace | undefined | null {
  if (parts.length < 2) return undefined
  const ns = parts[parts.length - 2]!
  return ns === 'public' || ns === 'pg_catalog' || ns === 'information_schema' ? ns : null
}

/** A user type's catalog object as the catalog model holds it (for name lookups). */
function userTypeObject(m: CatalogModel, kind: string, name: string): Json | undefined {
  const t = m.types.find((x) => x.name === name && (kind === ENUM_KIND ? x.typtype === 'e' : kind === COMPOSITE_KIND && x.typtype === 'c'))
  if (!t) return undefined
  const own = m.userType(t.oid)
  return t.typtype === 'e' ? encodeEnum(t.labels) : encodeFields(own?.fields ?? [])
}

/** The OID a value of reg type `type` given as text stands for. */
export function regInput(type: SqlType, text: string, names: NameContext): number {
  const s = text.trim()
  if (/^\d+$/.test(s)) return Number(s)
  const parts = identifiers(s)
  const last = parts[parts.length - 1] ?? s
  switch (type.id) {
    case 'regclass': {
      const ns = namespaceOf(parts)
      const oid = ns === null ? undefined : names.catalog().relationOid(last, ns)
      if (oid === undefined) throw new SqlError(SqlState.undefinedTable, `relation "${s}" does not exist`)
      return oid
    }
    case 'regtype':
      return typeOid(resolveTypeName(parts.length ? parts : [s], [], false, userTypes({ getCatalog: (kind, name) => userTypeObject(names.catalog(), kind, name) })))
    case 'regnamespace': {
      const oid = (NAMESPACE_OIDS[last as Namespace] as number | undefined) ?? names.catalog().schemas.find((x) => x.name === last)?.oid
      if (oid === undefined) throw new SqlError(SqlState.invalidSchemaName, `schema "${s}" does not exist`)
      return oid
    }
    case 'regrole':
      if (last !== names.user) throw new SqlError(SqlState.undefinedObject, `role "${s}" does not exist`)
      return OWNER_OID
    case 'regproc': {
      const f = namespaceOf(parts) === 'pg_catalog' ? undefined : names.catalog().functions.find((x) => x.name === last)
      if (f === undefined) throw new SqlError(SqlState.undefinedFunction, `function "${s}" does not exist`)
      return f.oid
    }
    default:
      throw new SqlError(SqlState.undefinedFunction, `function "${s}" does not exist`)
  }
}

/** How a value of reg type `type` prints: the object's name, or the number when nothing has that OID. */
export function regOutput(type: SqlType, oid: number, names: NameContext): string {
  switch (type.id) {
    case 'regclass':
      return names.catalog().relationName(oid) ?? String(oid)
    case 'regtype': {
      const t = typeFromOid(oid) ?? names.catalog().userType(oid)
      return t ? typeName(t) : String(oid)
    }
    case 'regnamespace':
      return (Object.keys(NAMESPACE_OIDS) as Namespace[]).find((n) => NAMESPACE_OIDS[n] === oid) ?? names.catalog().schemas.find((x) => x.oid === oid)?.name ?? String(oid)
    case 'regrole':
      return oid === OWNER_OID ? names.user : String(oid)
    case 'regproc':
      return oid === 0 ? '-' : names.catalog().function(oid)?.name ?? String(oid)
    default:
      return oid === 0 ? '-' : String(oid)
  }
}
