/**
 * User schemas (`CREATE SCHEMA name`) as the replicated catalog stores them: catalog kind
 * `schema`, keyed by name, so every node that has the catalog lists them (pg_namespace,
 * information_schema.schemata). Concord's relations, types and functions all live in
 * `public` today: a user schema is a name space that stays empty (creating an object in
 * it fails with 0A000), which DROP SCHEMA [CASCADE] can therefore always remove.
 *
 * Invariants: a user schema never takes a built-in schema's name (public, pg_catalog,
 * information_schema, pg_temp) nor a `pg_` name; two masters creating one name
 * concurrently end with one schema (the catalog keeps one value per key).
 */
import type { Json } from '@concord/core'

export const SCHEMA_KIND = 'schema'

/** The schemas every database has; user schemas may not take these names. */
export const BUILT_IN_SCHEMAS = ['pg_catalog', 'public', 'information_schema'] as const

export interface SchemaDef {
  name: string
  /** The owning role's name (AUTHORIZATION, else the creating user). */
  owner: string
}

export interface SchemaSource {
  getCatalog(kind: string, name: string): Json | undefined
  listCatalog(kind: string): Array<[string, Json]>
}

function asSchema(v: Json | undefined): SchemaDef | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof v['name'] !== 'string') return undefined
  return { name: v['name'], owner: typeof v['owner'] === 'string' ? v['owner'] : '' }
}

export function readSchema(source: SchemaSource, name: string): SchemaDef | undefined {
  return asSchema(source.getCatalog(SCHEMA_KIND, name))
}

export function listSchemas(source: Pick<SchemaSource, 'listCatalog'>): SchemaDef[] {
  return source.listCatalog(SCHEMA_KIND).flatMap(([, v]) => asSchema(v) ?? [])
}

/** Whether `name` is a schema of this database: built-in or created. */
export function schemaExists(source: SchemaSource, name: string): boolean {
  return (BUILT_IN_SCHEMAS as readonly string[]).includes(name) || readSchema(source, name) !== undefined
}
