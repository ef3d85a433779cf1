/**
 * Names qualified by a user schema (`s.t` after `CREATE SCHEMA s`, or `nosuch.t`).
 * Concord keeps every relation, type and function in `public` (catalog/schema-def.ts), and
 * the statement code below this guard looks objects up by their last name only. Without
 * this guard `CREATE TABLE s.t` created `public.t` and `DROP TABLE s.t` dropped it: a
 * qualified name must never reach that code with a schema it would ignore.
 *
 * Rules, as PostgreSQL answers for an empty schema:
 * - creating an object in a user schema: 0A000 (the schema exists) or 3F000 (it does not);
 * - reading or writing a relation there: 42P01 `relation "s.t" does not exist`;
 * - calling a function or naming a type there: 3F000 / 42883 / 42704;
 * - DROP: 3F000 / 42P01, or with IF EXISTS the object is skipped with PostgreSQL's notice.
 *
 * A tree that passes unchanged passes whatever the catalog holds (the catalog is read only
 * to word a refusal), and so does every tree of its literal template (literals name no
 * relation, function or type): such trees are remembered by their template's tree, so a
 * statement run again is not walked again.
 */
import type { DropStmt, Node, RangeVar } from 'libpg-query'
import type { TableInfo } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { schemaExists, type SchemaSource } from '../catalog/schema-def.js'
import type { SearchPath } from '../catalog/search-path.js'
import { tableMeta } from '../catalog/table-meta.js'
import { readView } from '../catalog/view-def.js'
import { decodeSequence, SEQUENCE_KIND } from '../sequences/sequence-definition.js'
import { DOMAIN_KIND } from '../types/domain-type.js'
import { COMPOSITE_KIND } from '../types/row-type.js'
import { ENUM_KIND } from '../types/enum-type.js'
import { sharedNode } from '../parser/literal-template.js'

/** Schemas whose names the statement code resolves itself. */
const RESOLVED = new Set(['public', 'pg_catalog', 'information_schema', 'pg_temp'])

function userSchema(schema: string | undefined): schema is string {
  return schema !== undefined && !RESOLVED.has(schema) && !schema.startsWith('pg_temp_')
}

function stringsOf(list: Node[] | undefined): string[] | null {
  if (!list) return null
  const out: string[] = []
  for (const item of list) {
    if (!('String' in item)) return null
    out.push(item.String.sval ?? '')
  }
  return out
}

function refuseCreate(tx: SchemaSource, schema: string): never {
  if (!schemaExists(tx, schema)) throw new SqlError(SqlState.invalidSchemaName, `schema "${schema}" does not exist`)
  throw new SqlError(SqlState.featureNotSupported, `objects in schema "${schema}" are not supported: Concord keeps relations, types and functions in public`)
}

/** The qualified name an object of a CREATE statement takes, when the statement names one. */
function createdSchema(node: Node): string | undefined {
  const relation = createdRelation(node)
  if (relation !== undefined) return relation.schemaname
  const parts = createdObjectNames(node)
  return parts && parts.length > 1 ? parts[parts.length - 2] : undefined
}

/** The name, as its parts, of a type or function a CREATE statement makes (`s.f` is [s, f]). */
function createdObjectNames(node: Node): string[] | null {
  const names = 'CreateEnumStmt' in node ? node.CreateEnumStmt.typeName
    : 'CreateDomainStmt' in node ? node.CreateDomainStmt.domainname
      : 'CreateFunctionStmt' in node ? node.CreateFunctionStmt.funcname
        : 'DefineStmt' in node ? node.DefineStmt.defnames
          : undefined
  return stringsOf(names)
}

/** The RangeVar of a CREATE of a relation, when the statement makes one. */
function createdRelation(node: Node): RangeVar | undefined {
  if ('CreateStmt' in node) return node.CreateStmt.relation
  if ('ViewStmt' in node) return node.ViewStmt.view
  if ('CreateSeqStmt' in node) return node.CreateSeqStmt.sequence
  if ('CreateTableAsStmt' in node) return node.CreateTableAsStmt.into?.rel
  if ('SelectStmt' in node) return node.SelectStmt.intoClause?.rel
  if ('CompositeTypeStmt' in node) return node.CompositeTypeStmt.typevar
  return undefined
}

/** The name of a permanent object the statement creates unqualified (it goes to the path's creation schema). */
function unqualifiedCreated(node: Node): string | undefined {
  const relation = createdRelation(node)
  if (relation !== undefined) return relation.schemaname === undefined && relation.relpersistence !== 't' ? relation.relname : undefined
  const parts = createdObjectNames(node)
  return parts?.length === 1 ? parts[0] : undefined
}

/** An unqualified CREATE under a path whose first schema is not public: where PostgreSQL would put it, Concord cannot. */
function refuseCreationSchema(tx: SchemaSource, path: SearchPath, name: string): never {
  if (path.creation === null) throw new SqlError(SqlState.invalidSchemaName, 'no schema has been selected to create in')
  if (path.creation === 'pg_catalog') throw new SqlError(SqlState.insufficientPrivilege, `permission denied to create "pg_catalog.${name}"`)
  refuseCreate(tx, path.creation)
}

/** The catalog as the path check reads it: relations by name, with their persistence. */
export interface NameSource extends SchemaSource {
  table(name: string): TableInfo | undefined
}

/** What a statement's unqualified names are checked against when the path is not plain. */
export interface PathCheck {
  path: SearchPath
  /** Whether a user function of this name exists (it lives in public). */
  userFunction(name: string): boolean
}

/** A relation of public (not a session's temporary one) by this name. */
function publicRelation(tx: NameSource, name: string): boolean {
  const t = tx.table(name)
  if (t !== undefined) return tableMeta(t).temporary !== true
  const view = readView(tx, name)
  if (view !== undefined) return view.temporary !== true
  const seq = decodeSequence(tx.getCatalog(SEQUENCE_KIND, name))
  return seq !== null && seq.temporary !== true
}

function publicType(tx: NameSource, name: string): boolean {
  return [ENUM_KIND, DOMAIN_KIND, COMPOSITE_KIND].some((kind) => tx.getCatalog(kind, name) !== undefined)
}

/** Every CTE name of the statement: an unqualified name may be one. */
function cteNames(value: unknown, into: Set<string>): Set<string> {
  if (value === null || typeof value !== 'object') return into
  if (Array.isArray(value)) {
    for (const v of value) cteNames(v, into)
    return into
  }
  const o = value as Record<string, unknown>
  if (typeof o['ctename'] === 'string') into.add(o['ctename'])
  for (const key in o) cteNames(o[key], into)
  return into
}

/**
 * A path without public: the public objects an unqualified name would reach in Concord's
 * lookup are not found, as in PostgreSQL (42P01, 42883, 42704). A CTE, a temporary
 * relation and a built-in still are.
 */
function refuseUnsearchedPublic(value: unknown, tx: NameSource, check: PathCheck, ctes: Set<string>, created: RangeVar | undefined): void {
  if (value === null || typeof value !== 'object') return
  if (Array.isArray(value)) {
    for (const v of value) refuseUnsearchedPublic(v, tx, check, ctes, created)
    return
  }
  const o = value as Record<string, unknown>
  const relname = o['relname']
  if (typeof relname === 'string' && o !== created && o['schemaname'] === undefined && !ctes.has(relname) && publicRelation(tx, relname)) {
    throw new SqlError(SqlState.undefinedTable, `relation "${relname}" does not exist`)
  }
  const fn = stringsOf((o['FuncCall'] as { funcname?: Node[] } | undefined)?.funcname)
  if (fn && fn.length === 1 && check.userFunction(fn[0]!)) throw new SqlError(SqlState.undefinedFunction, `function ${fn[0]!}() does not exist`)
  const tn = Array.isArray(o['names']) && 'typemod' in o ? stringsOf(o['names'] as Node[]) : null
  if (tn && tn.length === 1 && publicType(tx, tn[0]!)) throw new SqlError(SqlState.undefinedObject, `type "${tn[0]!}" does not exist`)
  for (const key in o) refuseUnsearchedPublic(o[key], tx, check, ctes, created)
}

/**
 * Walks the tree for relation, function and type names in a user schema. libpg-query's
 * JSON wraps a node in its type name where the field is any Node (`{ RangeVar: .. }` in
 * FROM) but not where the field has one type (InsertStmt.relation, ColumnDef.typeName):
 * those are recognised by their fields.
 */
function refuseReferences(value: unknown, tx: SchemaSource): void {
  if (value === null || typeof value !== 'object') return
  if (Array.isArray(value)) {
    for (const v of value) refuseReferences(v, tx)
    return
  }
  const o = value as Record<string, unknown>
  // A literal names nothing (a bulk INSERT's VALUES rows are thousands of them).
  if (o['A_Const'] !== undefined) return
  if (typeof o['relname'] === 'string' && userSchema(o['schemaname'] as string | undefined)) {
    throw new SqlError(SqlState.undefinedTable, `relation "${o['schemaname'] as string}.${o['relname']}" does not exist`)
  }
  const call = o['FuncCall'] as { funcname?: Node[] } | undefined
  const fn = stringsOf(call?.funcname)
  if (fn && fn.length > 1 && userSchema(fn[fn.length - 2])) {
    const schema = fn[fn.length - 2]!
    if (!schemaExists(tx, schema)) throw new SqlError(SqlState.invalidSchemaName, `schema "${schema}" does not exist`)
    throw new SqlError(SqlState.undefinedFunction, `function ${fn.join('.')} does not exist`)
  }
  const tn = Array.isArray(o['names']) && 'typemod' in o ? stringsOf(o['names'] as Node[]) : null
  if (tn && tn.length > 1 && userSchema(tn[tn.length - 2])) {
    throw new SqlError(SqlState.undefinedObject, `type "${tn.join('.')}" does not exist`)
  }
  for (const key in o) refuseReferences(o[key], tx)
}

function objectKind(removeType: string | undefined): string {
  return (removeType ?? 'OBJECT_TABLE').replace(/^OBJECT_/, '').replace(/_/g, ' ').toLowerCase()
}

/** Objects named after their table (`DROP TRIGGER x ON s.t` is the list s, t, x; `COMMENT ON COLUMN s.t.c` s, t, c). */
const ON_TABLE = new Set(['OBJECT_TRIGGER', 'OBJECT_RULE', 'OBJECT_POLICY', 'OBJECT_TABCONSTRAINT', 'OBJECT_COLUMN'])

/** The schema part of one DROP or COMMENT object (`s.t`, a type name, a function with arguments). */
function dropObjectSchema(object: Node, objectType: string | undefined): { schema: string; name: string } | undefined {
  const parts = 'List' in object ? stringsOf(object.List.items)
    : 'TypeName' in object ? stringsOf(object.TypeName.names)
      : 'ObjectWithArgs' in object ? stringsOf(object.ObjectWithArgs.objname)
        : null
  const named = parts && ON_TABLE.has(objectType ?? '') ? parts.slice(0, -1) : parts
  if (!named || named.length < 2) return undefined
  const schema = named[named.length - 2]!
  return userSchema(schema) ? { schema, name: named[named.length - 1]! } : undefined
}

/** Relation and type kinds of DROP whose unqualified names a path without public does not reach. */
const PUBLIC_DROPPED: Record<string, (tx: NameSource, name: string) => boolean> = {
  OBJECT_TABLE: publicRelation,
  OBJECT_VIEW: publicRelation,
  OBJECT_MATVIEW: publicRelation,
  OBJECT_SEQUENCE: publicRelation,
  OBJECT_TYPE: publicType,
  OBJECT_DOMAIN: publicType,
}

/** An unqualified object of a DROP that a path without public does not reach. */
function unreachedObject(object: Node, stmt: DropStmt, tx: NameSource, check: PathCheck | undefined): string | undefined {
  const found = PUBLIC_DROPPED[stmt.removeType ?? '']
  if (check === undefined || check.path.searchesPublic || found === undefined) return undefined
  const parts = 'List' in object ? stringsOf(object.List.items) : 'TypeName' in object ? stringsOf(object.TypeName.names) : null
  return parts?.length === 1 && found(tx, parts[0]!) ? parts[0] : undefined
}

/** DROP [IF EXISTS] of objects named in a user schema (or not reached by the path): refused, or skipped with a notice. */
function dropWithoutUserSchemas(stmt: DropStmt, tx: NameSource, notices: string[], check: PathCheck | undefined): DropStmt {
  if (stmt.removeType === 'OBJECT_SCHEMA') return stmt
  const kept: Node[] = []
  for (const object of stmt.objects ?? []) {
    const unreached = unreachedObject(object, stmt, tx, check)
    const q = unreached !== undefined ? { schema: 'public', name: unreached } : dropObjectSchema(object, stmt.removeType)
    if (!q) {
      kept.push(object)
      continue
    }
    const exists = schemaExists(tx, q.schema)
    const message = exists ? `${objectKind(stmt.removeType)} "${q.name}" does not exist` : `schema "${q.schema}" does not exist`
    const missing = stmt.removeType === 'OBJECT_TYPE' || stmt.removeType === 'OBJECT_DOMAIN' ? SqlState.undefinedObject : SqlState.undefinedTable
    if (stmt.missing_ok !== true) throw new SqlError(exists ? missing : SqlState.invalidSchemaName, message)
    notices.push(`${message}, skipping`)
  }
  return kept.length === (stmt.objects ?? []).length ? stmt : { ...stmt, objects: kept }
}

export interface SchemaCheckedStatement {
  /** The statement to run: the same node, or a DROP without the objects it skipped. */
  node: Node
  /** PostgreSQL's "does not exist, skipping" notices for skipped DROP objects. */
  notices: string[]
  /** Every object of a DROP was skipped, nothing is left to run: the command tag to answer with. */
  skippedCommand: string | null
}

/** Trees (by their template's tree, see sharedNode) that passed unchanged: they pass again. */
const passed = new WeakSet<object>()

/**
 * Refuses (or, for DROP IF EXISTS, skips) every name the statement qualifies by a user
 * schema, and, under a search_path that is not `public` first (`check`), every
 * unqualified name the path would put or look for elsewhere.
 */
export function checkUserSchemaNames(node: Node, tx: NameSource, check?: PathCheck): SchemaCheckedStatement {
  const plain = check === undefined || check.path.plain
  const shape = sharedNode(node)
  if (plain && passed.has(shape)) return { node, notices: [], skippedCommand: null }
  const checked = checkNames(node, tx, plain ? undefined : check)
  if (plain && checked.node === node && checked.notices.length === 0 && checked.skippedCommand === null) passed.add(shape)
  return checked
}

function checkNames(node: Node, tx: NameSource, check: PathCheck | undefined): SchemaCheckedStatement {
  const created = createdSchema(node)
  if (userSchema(created)) refuseCreate(tx, created)
  if (check !== undefined && check.path.creation !== 'public') {
    const name = unqualifiedCreated(node)
    if (name !== undefined) refuseCreationSchema(tx, check.path, name)
  }
  if ('DropStmt' in node) {
    const notices: string[] = []
    const drop = dropWithoutUserSchemas(node.DropStmt, tx, notices, check)
    if (drop === node.DropStmt) return { node, notices, skippedCommand: null }
    const skippedCommand = (drop.objects ?? []).length === 0 ? `DROP ${objectKind(drop.removeType).toUpperCase()}` : null
    return { node: { DropStmt: drop }, notices, skippedCommand }
  }
  if ('CreateSchemaStmt' in node || 'AlterObjectSchemaStmt' in node) return { node, notices: [], skippedCommand: null }
  const commented = 'CommentStmt' in node && node.CommentStmt.object ? dropObjectSchema(node.CommentStmt.object, node.CommentStmt.objtype) : undefined
  if (commented) {
    if (!schemaExists(tx, commented.schema)) throw new SqlError(SqlState.invalidSchemaName, `schema "${commented.schema}" does not exist`)
    throw new SqlError(SqlState.undefinedTable, `relation "${commented.schema}.${commented.name}" does not exist`)
  }
  refuseReferences(node, tx)
  if (check !== undefined && !check.path.searchesPublic) refuseUnsearchedPublic(node, tx, check, cteNames(node, new Set()), createdRelation(node))
  return { node, notices: [], skippedCommand: null }
}
