/**
 * The objects a PostgreSQL client sees in pg_catalog and information_schema, built from
 * the replicated catalog: user tables (relkind 'r', or 'p' when partitioned) with their
 * columns, defaults, constraints and indexes ('i': the primary key, every UNIQUE
 * constraint and every catalog index object), user views and the SQL layer's own
 * system views ('v'). The catalog views (pg-catalog-views.ts, information-schema-views.ts) and the
 * catalog functions (functions/catalog-functions.ts) read this one model, so they agree.
 *
 * Invariants: an OID is a pure function of what it names (a relation by its kind and
 * name, a constraint by its table and name), so every node and every connection reports
 * the same OID for the same object, and an OID a client read in one query finds the same
 * object in the next; system views take OIDs below the user range in the registry's
 * order, also the same everywhere. Hidden columns (`_rowid`) and hidden primary keys
 * never appear.
 */
import { listSchemas } from './schema-def.js'
import type { Json, TableInfo } from '@concord/core'
import { columnMeta, tableMeta, ROWID, type ForeignKey, type ForeignKeyAction } from './table-meta.js'
import { typeName, userTypeOid, type SqlType } from '../types/sql-type.js'
import { decodeLabels, ENUM_KIND, type EnumLabel } from '../types/enum-type.js'
import { COMPOSITE_KIND, decodeFields } from '../types/row-type.js'
import { exprText, indexKeyText } from './expr-text.js'
import { listViews } from './view-def.js'
import { decodeSequence, SEQUENCE_KIND, type SequenceDef } from '../sequences/sequence-definition.js'
import { functionFromCatalog } from './function-def.js'

/** Where the model reads tables and catalog objects (a transaction, or the replica). */
export interface CatalogSource {
  tables(): readonly TableInfo[]
  listCatalog(kind: string): Array<[string, Json]>
}

/** A system view as the registry lists it. */
export interface SystemRelationInfo {
  namespace: Namespace
  name: string
  columns: Array<{ name: string; type: SqlType }>
}

export type Namespace = 'pg_catalog' | 'public' | 'information_schema'

/** PostgreSQL's OIDs for the schemas, so clients that hard-code them (11, 2200) agree. */
export const NAMESPACE_OIDS: Record<Namespace, number> = { pg_catalog: 11, public: 2200, information_schema: 13183 }
/** The one role: every object's owner (PostgreSQL's bootstrap superuser OID). */
export const OWNER_OID = 10
export const DATABASE_OID = 5
export const HEAP_AM_OID = 2
export const BTREE_AM_OID = 403
export const FIRST_USER_OID = 16384
const FIRST_SYSTEM_VIEW_OID = 12000
/**
 * PostgreSQL 15's OIDs of its catalog tables (`SELECT relname, oid FROM pg_class WHERE
 * relnamespace = 11 AND relkind = 'r'`): clients join on them (`classoid =
 * 'pg_class'::regclass`, pg_description, pg_depend), so the views of those names take
 * them. Other system views are numbered from FIRST_SYSTEM_VIEW_OID.
 */
const CATALOG_TABLE_OIDS: Readonly<Record<string, number>> = {
  pg_default_acl: 826, pg_tablespace: 1213, pg_shdepend: 1214, pg_type: 1247, pg_attribute: 1249, pg_proc: 1255, pg_class: 1259,
  pg_authid: 1260, pg_auth_members: 1261, pg_database: 1262, pg_foreign_server: 1417, pg_user_mapping: 1418, pg_sequence: 2224,
  pg_foreign_data_wrapper: 2328, pg_shdescription: 2396, pg_aggregate: 2600, pg_am: 2601, pg_amop: 2602, pg_amproc: 2603,
  pg_attrdef: 2604, pg_cast: 2605, pg_constraint: 2606, pg_conversion: 2607, pg_depend: 2608, pg_description: 2609, pg_index: 2610,
  pg_inherits: 2611, pg_language: 2612, pg_largeobject: 2613, pg_namespace: 2615, pg_opclass: 2616, pg_operator: 2617,
  pg_rewrite: 2618, pg_statistic: 2619, pg_trigger: 2620, pg_opfamily: 2753, pg_db_role_setting: 2964, pg_largeobject_metadata: 2995,
  pg_extension: 3079, pg_foreign_table: 3118, pg_policy: 3256, pg_partitioned_table: 3350, pg_statistic_ext: 3381, pg_init_privs: 3394,
  pg_statistic_ext_data: 3429, pg_collation: 3456, pg_event_trigger: 3466, pg_enum: 3501, pg_range: 3541, pg_transform: 3576,
  pg_shseclabel: 3592, pg_seclabel: 3596, pg_ts_dict: 3600, pg_ts_parser: 3601, pg_ts_config: 3602, pg_ts_config_map: 3603,
  pg_ts_template: 3764, pg_replication_origin: 6000, pg_subscription: 6100, pg_subscription_rel: 6102, pg_publication: 6104,
  pg_publication_rel: 6106, pg_publication_namespace: 6237, pg_parameter_acl: 6243,
}
const OID_SPAN = 2 ** 31 - FIRST_USER_OID

export interface AttributeModel {
  name: string
  type: SqlType
  notNull: boolean
  /** Default or generation expression text, or null. */
  default: string | null
  generated: boolean
  /** A SERIAL column's implicit sequence (`t_c_seq`). */
  serialSequence?: string
  /** COMMENT ON COLUMN; null without one. */
  comment: string | null
}

export interface IndexModel {
  oid: number
  name: string
  tableOid: number
  tableName: string
  /** 'I' for the index of a partitioned table. */
  kind: 'i' | 'I'
  columns: string[]
  primary: boolean
  unique: boolean
  /** The PRIMARY KEY or UNIQUE constraint the index backs. */
  constraint: ConstraintModel | null
}

export interface ConstraintModel {
  oid: number
  name: string
  /** p primary key, u unique, c check, f foreign key (pg_constraint.contype). */
  type: 'p' | 'u' | 'c' | 'f'
  tableOid: number
  tableName: string
  columns: string[]
  /** pg_get_constraintdef's text: `PRIMARY KEY (id)`, `CHECK (price >= 0)`, `FOREIGN KEY ..`. */
  def: string
  /** The index of a primary key or unique constraint; 0 otherwise. */
  indexOid: number
  /** Foreign keys: the referenced table and columns. */
  refTableOid: number
  refTableName: string | null
  refColumns: string[]
  deferrable: boolean
  deferred: boolean
  onUpdate: ForeignKeyAction | null
  onDelete: ForeignKeyAction | null
  matchFull: boolean
  /** A CHECK marked NO INHERIT (pg_constraint.connoinherit). */
  noInherit?: boolean
}

export interface TableModel {
  oid: number
  name: string
  kind: 'r' | 'p'
  attributes: AttributeModel[]
  indexes: IndexModel[]
  /** Every constraint of the table: primary key, unique, check, foreign key. */
  constraints: ConstraintModel[]
  /** 'HASH (customer_id)' for a partitioned table. */
  partitionKey: string | null
  partitionColumns: string[]
  partitionStrategy: 'h' | 'l' | 'r' | null
  partitionOf: string | null
  /** 'FOR VALUES WITH (modulus 2, remainder 0)' for a partition. */
  partitionBound: string | null
  /** INHERITS parents, in order (catalog/table-inheritance.ts). */
  inherits: string[]
  regions: string[] | null
  /** Referenced by a foreign key, or has one (PostgreSQL keeps RI triggers on both sides). */
  hasTriggers: boolean
  /** COMMENT ON TABLE; null without one. */
  comment: string | null
}

export interface SystemViewModel {
  oid: number
  name: string
  namespace: Namespace
  attributes: AttributeModel[]
  /** A user view's query text (pg_get_viewdef); null for the SQL layer's system views. */
  definition: string | null
}

/**
 * A sequence (pg_class relkind 'S'): a user sequence, or a SERIAL column's implicit one
 * (`serial`), which draws the column's node-unique ids (nextval) and has no state of
 * its own to read or set.
 */
export interface SequenceModel {
  oid: number
  name: string
  def: SequenceDef
  serial?: { table: string; column: string }
}

/** The implicit sequence of SERIAL column `column` of `table`, named as PostgreSQL names it. */
export function serialSequenceName(table: string, column: string): string {
  return `${table}_${column}_seq`
}

/** An identifier as PostgreSQL prints it in an expression (quoted unless plain lower case). */
function quotedName(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`
}

const SERIAL_MAX: Record<string, bigint> = { int2: 32767n, int4: 2147483647n, int8: 9223372036854775807n }

/** A user function (CREATE FUNCTION): pg_proc, psql's \df. */
export interface FunctionModel {
  oid: number
  name: string
  args: Array<{ name: string | null; type: SqlType }>
  returns: SqlType
  language: string
  body: string
  /** STRICT, RETURNS SETOF / TABLE, RETURNS trigger (catalog/function-def.ts). */
  strict: boolean
  setof: boolean
  trigger: boolean
  /** pg_proc.provolatile: 'i' IMMUTABLE, 's' STABLE, 'v' VOLATILE. */
  volatility: 'i' | 's' | 'v'
}

/** A user-defined type (pg_type typtype 'e' for an enum, 'c' for a composite type), with its array type. */
export interface UserTypeModel {
  oid: number
  arrayOid: number
  name: string
  typtype: 'e' | 'c'
  /** An enum's labels (empty for a composite type). */
  labels: EnumLabel[]
}

/** Any relation by OID: what regclass output and the pg_get_* functions need. */
export type RelationModel =
  | { kind: 'table'; table: TableModel }
  | { kind: 'sequence'; sequence: SequenceModel }
  | { kind: 'index'; index: IndexModel }
  | { kind: 'view'; view: SystemViewModel }

/** A user schema (catalog/schema-def.ts): always empty today. */
export interface SchemaModel {
  oid: number
  name: string
  owner: string
}

export interface CatalogModel {
  /** User tables in name order. */
  readonly tables: TableModel[]
  /** User schemas (CREATE SCHEMA) in name order. */
  readonly schemas: SchemaModel[]
  readonly indexes: IndexModel[]
  readonly constraints: ConstraintModel[]
  readonly views: SystemViewModel[]
  /** User sequences in name order. */
  readonly sequences: SequenceModel[]
  /** User types (enums) in name order. */
  readonly types: UserTypeModel[]
  /** The SqlType of a user type's OID (or its array type's), or undefined. */
  userType(oid: number): SqlType | undefined
  /** User functions in name order. */
  readonly functions: FunctionModel[]
  function(oid: number): FunctionModel | undefined
  relation(oid: number): RelationModel | undefined
  /** The OID of a relation by name: user tables and indexes first, then system views. */
  relationOid(name: string, namespace?: Namespace): number | undefined
  relationName(oid: number): string | undefined
  table(oid: number): TableModel | undefined
  tableNamed(name: string): TableModel | undefined
  constraint(oid: number): ConstraintModel | undefined
}

/** FNV-1a of the kind and name, mapped into the user OID range. */
/** What pg_get_function_result prints for a function's result: `trigger`, `SETOF type` or the type. */
export function functionResultName(f: Pick<FunctionModel, 'returns' | 'setof' | 'trigger'>): string {
  if (f.trigger) return 'trigger'
  const t = f.setof && f.returns.id === 'record' && f.returns.fields ? 'record' : typeName(f.returns)
  return f.setof ? `SETOF ${t}` : t
}

export function objectOid(kind: 'table' | 'index' | 'constraint' | 'default' | 'sequence' | 'role' | 'function' | 'schema', name: string): number {
  let h = 0x811c9dc5
  const s = `${kind}\u0000${name}`
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return FIRST_USER_OID + (h % OID_SPAN)
}

function record(v: Json | undefined): Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : {}
}

function boundText(bound: Json | undefined): string | null {
  const b = record(bound)
  if (typeof b['modulus'] === 'number') return `FOR VALUES WITH (modulus ${b['modulus']}, remainder ${String(b['remainder'] ?? 0)})`
  const lit = (v: Json): string => (v === null ? 'NULL' : typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v))
  const list = (v: Json | undefined): string => (Array.isArray(v) ? v.map(lit).join(', ') : lit(v ?? null))
  if (b['values'] !== undefined) return `FOR VALUES IN (${list(b['values'])})`
  if (b['from'] !== undefined || b['to'] !== undefined) return `FOR VALUES FROM (${list(b['from'])}) TO (${list(b['to'])})`
  if (b['default'] === true) return 'DEFAULT'
  return null
}

const ACTION_TEXT: Record<ForeignKeyAction, string> = { no_action: 'NO ACTION', restrict: 'RESTRICT', cascade: 'CASCADE', set_null: 'SET NULL', set_default: 'SET DEFAULT' }

/** `FOREIGN KEY (a) REFERENCES p(id) ON DELETE CASCADE`, as pg_get_constraintdef prints it. */
function foreignKeyDef(fk: ForeignKey): string {
  let s = `FOREIGN KEY (${fk.columns.join(', ')}) REFERENCES ${fk.refTable}(${fk.refColumns.join(', ')})`
  if (fk.match === 'full') s += ' MATCH FULL'
  if (fk.onUpdate !== 'no_action') s += ` ON UPDATE ${ACTION_TEXT[fk.onUpdate]}`
  if (fk.onDelete !== 'no_action') {
    s += ` ON DELETE ${ACTION_TEXT[fk.onDelete]}`
    if (fk.deleteSetColumns?.length) s += ` (${fk.deleteSetColumns.join(', ')})`
  }
  if (fk.deferrable) s += fk.initiallyDeferred ? ' DEFERRABLE INITIALLY DEFERRED' : ' DEFERRABLE'
  return s
}

function constraint(table: { oid: number; name: string }, c: Partial<ConstraintModel> & Pick<ConstraintModel, 'name' | 'type' | 'columns' | 'def'>): ConstraintModel {
  return {
    oid: objectOid('constraint', `${table.name}\u0000${c.name}`),
    tableOid: table.oid,
    tableName: table.name,
    indexOid: 0,
    refTableOid: 0,
    refTableName: null,
    refColumns: [],
    deferrable: false,
    deferred: false,
    onUpdate: null,
    onDelete: null,
    matchFull: false,
    ...c,
  }
}

function tableModel(t: TableInfo, indexObjects: Array<Record<string, Json>>): TableModel {
  const meta = tableMeta(t)
  const oid = objectOid('table', t.name)
  const attributes: AttributeModel[] = []
  for (const c of t.columns) {
    const m = columnMeta(c)
    if (m.hidden) continue
    const generated = m.generated !== undefined && m.generated !== null
    const serial = m.serial === true && (m.default === undefined || m.default === null) && !generated ? serialSequenceName(t.name, c.name) : undefined
    const def = generated ? exprText(m.generated) : m.default !== undefined && m.default !== null ? exprText(m.default) : serial !== undefined ? `nextval('${quotedName(serial).replaceAll("'", "''")}'::regclass)` : null
    attributes.push({ name: c.name, type: m.t, notNull: m.notNull === true || t.primaryKey.includes(c.name), default: def, generated, ...(serial !== undefined ? { serialSequence: serial } : {}), comment: m.comment ?? null })
  }
  const visible = new Set(attributes.map((a) => a.name))
  const partitioned = t.partitioning !== null && t.partitioning !== undefined
  const indexKind = partitioned ? 'I' : 'i'
  const self = { oid, name: t.name }
  const indexes: IndexModel[] = []
  const constraints: ConstraintModel[] = []
  const addIndex = (name: string, columns: string[], primary: boolean, unique: boolean, backs: 'p' | 'u' | null): void => {
    const ixOid = objectOid('index', name)
    let con: ConstraintModel | null = null
    if (backs) {
      con = constraint(self, { name, type: backs, columns, indexOid: ixOid, def: `${backs === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} (${columns.join(', ')})` })
      constraints.push(con)
    }
    indexes.push({ oid: ixOid, name, tableOid: oid, tableName: t.name, kind: indexKind, columns, primary, unique, constraint: con })
  }
  if (t.primaryKey.length > 0 && !(t.primaryKey.length === 1 && t.primaryKey[0] === ROWID) && t.primaryKey.every((k) => visible.has(k))) {
    addIndex(`${t.name}_pkey`, [...t.primaryKey], true, true, 'p')
  }
  const uniques = meta.uniques.filter(Array.isArray).map((u) => u.map(String))
  const seen = new Set<string>()
  for (const ix of indexObjects) {
    if (ix['table'] !== t.name || typeof ix['name'] !== 'string') continue
    const exprs = Array.isArray(ix['exprs']) ? ix['exprs'] : []
    // An expression key shows as its text (exec/expression-index.ts).
    const columns = Array.isArray(ix['columns']) ? ix['columns'].map((c, i) => (c === '' && exprs[i] ? indexKeyText(exprs[i]) : String(c))) : []
    const unique = ix['unique'] === true
    const isConstraint = unique && uniques.some((u) => u.join('\u0000') === columns.join('\u0000'))
    if (isConstraint) seen.add(columns.join('\u0000'))
    addIndex(ix['name'], columns, false, unique, isConstraint ? 'u' : null)
  }
  for (const u of uniques) {
    if (seen.has(u.join('\u0000'))) continue
    addIndex(`${t.name}_${u.join('_')}_key`, u, false, true, 'u')
  }
  for (const c of meta.checks) {
    constraints.push(constraint(self, { name: String(c.name ?? `${t.name}_check`), type: 'c', columns: [], def: `CHECK (${exprText(c.expr)})${c.noInherit === true ? ' NO INHERIT' : ''}`, ...(c.noInherit === true ? { noInherit: true } : {}) }))
  }
  for (const fk of meta.foreignKeys) {
    constraints.push(constraint(self, {
      name: fk.name, type: 'f', columns: fk.columns, def: foreignKeyDef(fk),
      refTableOid: objectOid('table', fk.refTable), refTableName: fk.refTable, refColumns: fk.refColumns,
      deferrable: fk.deferrable === true, deferred: fk.initiallyDeferred === true, onUpdate: fk.onUpdate, onDelete: fk.onDelete, matchFull: fk.match === 'full',
    }))
  }
  const p = t.partitioning
  return {
    oid,
    name: t.name,
    kind: partitioned ? 'p' : 'r',
    attributes,
    indexes,
    constraints,
    partitionKey: p ? `${p.method.toUpperCase()} (${p.columns.join(', ')})` : null,
    partitionColumns: p ? [...p.columns] : [],
    partitionStrategy: p ? (p.method === 'hash' ? 'h' : p.method === 'list' ? 'l' : 'r') : null,
    partitionOf: meta.partitionOf ?? null,
    partitionBound: boundText(meta.bound),
    inherits: meta.inherits ?? [],
    regions: t.regions,
    hasTriggers: meta.foreignKeys.length > 0,
    comment: meta.comment ?? null,
  }
}

/** `CREATE UNIQUE INDEX name ON public.table USING btree (cols)`, as pg_get_indexdef prints it. */
export function indexDef(ix: IndexModel): string {
  return `CREATE ${ix.unique ? 'UNIQUE ' : ''}INDEX ${ix.name} ON ${ix.kind === 'I' ? 'ONLY ' : ''}public.${ix.tableName} USING btree (${ix.columns.join(', ')})`
}

/** The model of the catalog `source` holds, with the registry's system views. */
export function buildCatalogModel(source: CatalogSource, systemViews: SystemRelationInfo[]): CatalogModel {
  const indexObjects = source.listCatalog('index').map(([, v]) => record(v))
  const tables = source
    .tables()
    .map((t) => tableModel(t, indexObjects))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const byName = new Map(tables.map((t) => [t.name, t]))
  // A table a foreign key references keeps RI triggers too.
  for (const t of tables) {
    for (const c of t.constraints) {
      const parent = c.type === 'f' && c.refTableName !== null ? byName.get(c.refTableName) : undefined
      if (parent) parent.hasTriggers = true
    }
  }
  const indexes = tables.flatMap((t) => t.indexes)
  const constraints = tables.flatMap((t) => t.constraints)
  const attributes = (columns: SystemRelationInfo['columns']): AttributeModel[] =>
    columns.map((c) => ({ name: c.name, type: c.type, notNull: false, default: null, generated: false, comment: null }))
  // A user view shares the OID space of tables: views and tables share one name space.
  const userViews: SystemViewModel[] = listViews(source)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((v) => ({ oid: objectOid('table', v.name), name: v.name, namespace: 'public', attributes: attributes(v.columns), definition: ` ${v.definition};` }))
  const views: SystemViewModel[] = [
    ...userViews,
    ...systemViews.map((v, i) => ({ oid: (v.namespace === 'pg_catalog' ? CATALOG_TABLE_OIDS[v.name] : undefined) ?? FIRST_SYSTEM_VIEW_OID + i, name: v.name, namespace: v.namespace, attributes: attributes(v.columns), definition: null })),
  ]
  const sequences: SequenceModel[] = []
  for (const [name, v] of source.listCatalog(SEQUENCE_KIND)) {
    const def = decodeSequence(v)
    if (def) sequences.push({ oid: objectOid('sequence', name), name, def })
  }
  // SERIAL columns' implicit sequences, as PostgreSQL lists them (a user relation of the name hides one).
  const taken = new Set([...sequences.map((q) => q.name), ...tables.map((t) => t.name), ...indexes.map((i) => i.name), ...userViews.map((v) => v.name)])
  for (const t of tables) {
    for (const a of t.attributes) {
      if (a.serialSequence === undefined || taken.has(a.serialSequence)) continue
      const type = a.type.id === 'int2' || a.type.id === 'int8' ? a.type.id : 'int4'
      const def: SequenceDef = { type, increment: 1n, min: 1n, max: SERIAL_MAX[type]!, start: 1n, cache: 1n, cycle: false, ownedBy: `${t.name}.${a.name}`, base: 1n, epoch: 0 }
      sequences.push({ oid: objectOid('sequence', a.serialSequence), name: a.serialSequence, def, serial: { table: t.name, column: a.name } })
      taken.add(a.serialSequence)
    }
  }
  sequences.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const types: UserTypeModel[] = []
  for (const [name, v] of source.listCatalog(ENUM_KIND)) {
    const labels = decodeLabels(v)
    if (labels) types.push({ oid: userTypeOid(name), arrayOid: userTypeOid(name, true), name, typtype: 'e', labels })
  }
  const composites = new Map<string, SqlType>()
  for (const [name, v] of source.listCatalog(COMPOSITE_KIND)) {
    const fields = decodeFields(v)
    if (!fields) continue
    types.push({ oid: userTypeOid(name), arrayOid: userTypeOid(name, true), name, typtype: 'c', labels: [] })
    composites.set(name, { id: 'record', name, fields })
  }
  types.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const typesByOid = new Map<number, SqlType>()
  for (const t of types) {
    const scalar: SqlType = composites.get(t.name) ?? { id: 'enum', name: t.name, labels: t.labels }
    typesByOid.set(t.oid, scalar)
    typesByOid.set(t.arrayOid, { ...scalar, array: true })
  }
  const functions: FunctionModel[] = []
  for (const [, v] of source.listCatalog('function')) {
    const f = functionFromCatalog(v)
    if (f) functions.push({ oid: objectOid('function', f.name), name: f.name, args: f.args, returns: f.returns, language: f.language, body: f.body, strict: !!f.strict, setof: !!f.setof, trigger: !!f.trigger, volatility: f.volatility === 'immutable' ? 'i' : f.volatility === 'stable' ? 's' : 'v' })
  }
  functions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const functionsByOid = new Map(functions.map((f) => [f.oid, f]))
  const relations = new Map<number, RelationModel>()
  for (const v of views) relations.set(v.oid, { kind: 'view', view: v })
  for (const sq of sequences) relations.set(sq.oid, { kind: 'sequence', sequence: sq })
  for (const t of tables) relations.set(t.oid, { kind: 'table', table: t })
  for (const ix of indexes) relations.set(ix.oid, { kind: 'index', index: ix })
  const constraintsByOid = new Map(constraints.map((c) => [c.oid, c]))
  const userNames = new Map<string, number>()
  for (const sq of sequences) userNames.set(sq.name, sq.oid)
  for (const ix of indexes) userNames.set(ix.name, ix.oid)
  for (const t of tables) userNames.set(t.name, t.oid)
  for (const v of userViews) userNames.set(v.name, v.oid)
  return {
    tables,
    indexes,
    constraints,
    views,
    sequences,
    types,
    userType: (oid) => typesByOid.get(oid),
    functions,
    function: (oid) => functionsByOid.get(oid),
    relation: (oid) => relations.get(oid),
    relationOid: (name, namespace) => {
      if (namespace === undefined || namespace === 'public') {
        const own = userNames.get(name)
        if (own !== undefined || namespace === 'public') return own
      }
      return views.find((v) => v.name === name && (namespace === undefined || v.namespace === namespace))?.oid
    },
    relationName: (oid) => {
      const r = relations.get(oid)
      if (!r) return undefined
      if (r.kind === 'table') return r.table.name
      if (r.kind === 'index') return r.index.name
      if (r.kind === 'sequence') return r.sequence.name
      // Views outside the search path print qualified, as regclass does.
      return r.view.namespace === 'information_schema' ? `information_schema.${r.view.name}` : r.view.name
    },
    table: (oid) => {
      const r = relations.get(oid)
      return r?.kind === 'table' ? r.table : undefined
    },
    tableNamed: (name) => byName.get(name),
    constraint: (oid) => constraintsByOid.get(oid),
    schemas: listSchemas(source).map((d) => ({ oid: objectOid('schema', d.name), name: d.name, owner: d.owner })).sort((a, b) => (a.name < b.name ? -1 : 1)),
  }
}
