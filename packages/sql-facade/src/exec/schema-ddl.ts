/**
 * `CREATE SCHEMA [IF NOT EXISTS] name [AUTHORIZATION role]` and `DROP SCHEMA [IF EXISTS]
 * name, .. [CASCADE | RESTRICT]` over the catalog's user schemas (catalog/schema-def.ts).
 * Schema elements (`CREATE SCHEMA s CREATE TABLE ..`) would put objects in the schema,
 * which Concord does not build: refused with 0A000, nothing created.
 */
import type { CreateSchemaStmt, DropStmt } from 'libpg-query'
import { BUILT_IN_SCHEMAS, readSchema, SCHEMA_KIND, schemaExists, type SchemaDef } from '../catalog/schema-def.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { utility, type StatementResult } from '../runtime/result.js'

export function execCreateSchema(stmt: CreateSchemaStmt, p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const owner = stmt.authrole?.rolename ?? p.exec.settings.user
  const name = stmt.schemaname ?? owner
  if ((stmt.schemaElts ?? []).length > 0) {
    throw new SqlError(SqlState.featureNotSupported, 'CREATE SCHEMA with schema elements is not supported: objects in schemas other than public are not supported')
  }
  if (schemaExists(tx, name) || name === 'pg_temp') {
    if (stmt.if_not_exists === true) return utility('CREATE SCHEMA', [`schema "${name}" already exists, skipping`])
    throw new SqlError(SqlState.duplicateSchema, `schema "${name}" already exists`)
  }
  if (name.startsWith('pg_')) {
    throw new SqlError(SqlState.reservedName, `unacceptable schema name "${name}"`, { detail: 'The prefix "pg_" is reserved for system schemas.' })
  }
  if (stmt.authrole?.rolename !== undefined && p.exec.roles().role(owner) === undefined && owner !== p.exec.settings.user) {
    throw new SqlError(SqlState.undefinedObject, `role "${owner}" does not exist`)
  }
  const def: SchemaDef = { name, owner }
  tx.setCatalog(SCHEMA_KIND, name, { ...def })
  return utility('CREATE SCHEMA')
}

/** DROP SCHEMA: a user schema is always empty, so RESTRICT and CASCADE both drop it. */
export function execDropSchema(stmt: DropStmt, names: string[], p: PlanCtx): StatementResult {
  const tx = p.exec.tx
  const notices: string[] = []
  for (const name of names) {
    if ((BUILT_IN_SCHEMAS as readonly string[]).includes(name)) {
      throw new SqlError(SqlState.featureNotSupported, `dropping schema ${name} is not supported`)
    }
    if (readSchema(tx, name) === undefined) {
      if (stmt.missing_ok === true) {
        notices.push(`schema "${name}" does not exist, skipping`)
        continue
      }
      throw new SqlError(SqlState.invalidSchemaName, `schema "${name}" does not exist`)
    }
  }
  for (const name of names) if (readSchema(tx, name) !== undefined) tx.setCatalog(SCHEMA_KIND, name, null)
  return utility('DROP SCHEMA', notices)
}
