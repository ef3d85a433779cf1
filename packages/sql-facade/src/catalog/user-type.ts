/**
 * Resolving the names of user-defined types (enums, composite types, domains) against
 * the catalog a statement sees, for `typeFromTypeName` / `resolveTypeName`: built-in
 * names resolve first there (pg_catalog leads the search path), then these.
 */
import { decodeDomain, DOMAIN_KIND } from '../types/domain-type.js'
import { decodeLabels, ENUM_KIND, type UserTypeSource } from '../types/enum-type.js'
import { COMPOSITE_KIND, decodeFields } from '../types/row-type.js'
import type { SqlType, TypeLookup } from '../types/sql-type.js'
import type { TableInfo } from '@concord/core'
import { columnMeta } from './table-meta.js'

/** Where user types are found: catalog objects, and tables (each has a row type of its name). */
export interface TypeSource extends UserTypeSource {
  table?(name: string): TableInfo | undefined
}

/** The user types of `source` (a transaction, the replica, a catalog model's objects). */
export function userTypes(source: TypeSource): TypeLookup {
  return (name): SqlType | undefined => {
    const table = source.table?.(name)
    if (table) {
      const fields = table.columns.map((c) => ({ c, m: columnMeta(c) })).filter((x) => !x.m.hidden).map((x) => ({ name: x.c.name, type: x.m.t }))
      return { id: 'record', name, fields }
    }
    const labels = decodeLabels(source.getCatalog(ENUM_KIND, name))
    if (labels) return { id: 'enum', name, labels }
    const fields = decodeFields(source.getCatalog(COMPOSITE_KIND, name))
    if (fields) return { id: 'record', name, fields }
    return decodeDomain(source.getCatalog(DOMAIN_KIND, name))
  }
}
