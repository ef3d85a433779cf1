/**
 * PostgreSQL's system catalogs (schema pg_catalog) over the catalog model: what psql's
 * backslash commands, drivers and ORMs read to learn a database's schema. Columns carry
 * PostgreSQL's names and types (`"char"`, `name`, `oid`, `regproc` ..) in PostgreSQL's
 * order, so a client's query plans and prints as it would against PostgreSQL.
 *
 * Catalogs of features Concord lacks (row security policies, rules, triggers, extended
 * statistics, comments) exist with their columns and no rows: a client's query over
 * them runs and finds nothing, as it would on a PostgreSQL database that uses none.
 * To answer another client's probe, add its catalog here with PostgreSQL's columns.
 */
import { SqlArray } from '../types/array.js'
import { arrayOf, elementType, OIDS, T, typeModifier, typeOid, typeSize, type SqlType, type TypeId } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import {
  BTREE_AM_OID, DATABASE_OID, FIRST_USER_OID, HEAP_AM_OID, indexDef, NAMESPACE_OIDS, objectOid, OWNER_OID,
  type AttributeModel, type CatalogModel, type IndexModel, type TableModel,
} from '../catalog/catalog-model.js'
import { view, type SystemView, type ViewCtx } from '../runtime/system-view.js'
import { columnAcl, relationAcl, relationOwner, roleName } from '../auth/role-views.js'
import { operatorClasses, operatorClassOf } from '../types/operator-classes.js'

const text = T.text
const name = T.name
const oid = T.oid
const bool = T.bool
const char = T.char
const int2 = T.int2
const int4 = T.int4
const float4 = T.float4
const textArray = arrayOf(T.text)
const oidArray = arrayOf(T.oid)
const int2Array = arrayOf(T.int2)

/** PostgreSQL's default collation (pg_collation "default"). */
const DEFAULT_COLLATION = 100
const C_COLLATION = 950
const DEFAULT_TABLESPACE = 1663

const catalog = (ctx: ViewCtx): CatalogModel => ctx.exec.catalog()

/** An int2vector or oidvector: zero-based, as PostgreSQL subscripts them (`indkey[0]`). */
function vector(items: number[]): SqlArray {
  return items.length === 0 ? SqlArray.EMPTY : new SqlArray([items.length], [0], items)
}

function attnums(t: TableModel, columns: string[]): number[] {
  return columns.map((c) => t.attributes.findIndex((a) => a.name === c) + 1)
}

/** pg_index.indclass of a key column: its type's default btree operator class. */
function opclassOid(t: TableModel, column: string): number {
  const a = t.attributes.find((x) => x.name === column)
  return a === undefined ? 0 : operatorClassOf(a.type)?.oid ?? 0
}

const pgOpclass = view(
  [['oid', oid], ['opcmethod', oid], ['opcname', name], ['opcnamespace', oid], ['opcowner', oid], ['opcfamily', oid], ['opcintype', oid], ['opcdefault', bool], ['opckeytype', oid]],
  () => operatorClasses().map((c) => [c.oid, BTREE_AM_OID, c.name, NAMESPACE_OIDS.pg_catalog, OWNER_OID, c.family, c.inputType, true, 0]),
)

/** Procedural languages: the OIDs PostgreSQL 15 gives them. Concord runs LANGUAGE sql functions. */
const LANGUAGES: Array<[number, string]> = [[12, 'internal'], [13, 'c'], [14, 'sql'], [13563, 'plpgsql']]

const pgLanguage = view(
  [['oid', oid], ['lanname', name], ['lanowner', oid], ['lanispl', bool], ['lanpltrusted', bool], ['lanplcallfoid', oid], ['laninline', oid], ['lanvalidator', oid], ['lanacl', textArray]],
  () => LANGUAGES.map(([o, n]) => [o, n, OWNER_OID, n === 'plpgsql', n === 'sql' || n === 'plpgsql', 0, 0, 0, null]),
)

/** The pseudo-type `trigger` (pg_type), the result type of trigger functions. */
const TRIGGER_TYPE_OID = 2279

/** User functions (CREATE FUNCTION), as pg_proc rows in schema public. */
const pgProc = view(
  [
    ['oid', oid], ['proname', name], ['pronamespace', oid], ['proowner', oid], ['prolang', oid], ['procost', float4], ['prorows', float4],
    ['provariadic', oid], ['prosupport', T.regproc], ['prokind', char], ['prosecdef', bool], ['proleakproof', bool], ['proisstrict', bool],
    ['proretset', bool], ['provolatile', char], ['proparallel', char], ['pronargs', int2], ['pronargdefaults', int2], ['prorettype', oid],
    ['proargtypes', oidArray], ['proallargtypes', oidArray], ['proargmodes', arrayOf(char)], ['proargnames', textArray], ['proargdefaults', text],
    ['protrftypes', oidArray], ['prosrc', text], ['probin', text], ['prosqlbody', text], ['proconfig', textArray], ['proacl', textArray],
  ],
  (ctx) => catalog(ctx).functions.map((f) => {
    const lang = LANGUAGES.find(([, n]) => n === f.language)?.[0] ?? 14
    const names = f.args.some((a) => a.name !== null) ? SqlArray.of(f.args.map((a) => a.name ?? '')) : null
    return [
      f.oid, f.name, NAMESPACE_OIDS.public, OWNER_OID, lang, 100, f.setof ? 1000 : 0, 0, 0, 'f', false, false, f.strict, f.setof, f.volatility, 'u', f.args.length, 0, f.trigger ? TRIGGER_TYPE_OID : typeOid(f.returns),
      vector(f.args.map((a) => typeOid(a.type))), null, null, names, null, null, f.body, null, null, null, null,
    ]
  }),
)

/** Index usage statistics: Concord keeps none, so every count is 0. */
const pgStatUserIndexes = view(
  [['relid', oid], ['indexrelid', oid], ['schemaname', name], ['relname', name], ['indexrelname', name], ['idx_scan', T.int8], ['idx_tup_read', T.int8], ['idx_tup_fetch', T.int8]],
  (ctx) => catalog(ctx).indexes.map((ix) => [ix.tableOid, ix.oid, 'public', ix.tableName, ix.name, 0n, 0n, 0n]),
)

function collationOf(type: SqlType): number {
  const id = elementType(type).id
  return id === 'text' || id === 'varchar' || id === 'bpchar' ? DEFAULT_COLLATION : id === 'name' ? C_COLLATION : 0
}

/** How PostgreSQL stores values of the type (pg_attribute.attstorage): plain for fixed sizes. */
function storageOf(type: SqlType): string {
  if (type.array) return 'x'
  if (typeSize(type) > 0) return 'p'
  return type.id === 'numeric' ? 'm' : 'x'
}

/** One pg_class row per relation: tables, indexes and the system views. */
const pgClass = view(
  [
    ['oid', oid], ['relname', name], ['relnamespace', oid], ['reltype', oid], ['reloftype', oid], ['relowner', oid], ['relam', oid],
    ['relfilenode', oid], ['reltablespace', oid], ['relpages', int4], ['reltuples', float4], ['relallvisible', int4], ['reltoastrelid', oid],
    ['relhasindex', bool], ['relisshared', bool], ['relpersistence', char], ['relkind', char], ['relnatts', int2], ['relchecks', int2],
    ['relhasrules', bool], ['relhastriggers', bool], ['relhassubclass', bool], ['relrowsecurity', bool], ['relforcerowsecurity', bool],
    ['relispopulated', bool], ['relreplident', char], ['relispartition', bool], ['relrewrite', oid], ['relacl', textArray],
    ['reloptions', textArray], ['relpartbound', text],
  ],
  (ctx) => {
    const m = catalog(ctx)
    const rows: RtValue[][] = []
    const row = (o: number, relname: string, ns: number, am: number, kind: string, natts: number, r: Partial<Record<'hasIndex' | 'triggers' | 'subclass' | 'partition', boolean>> & { checks?: number; options?: string[] | null; bound?: string | null; owner?: string }): RtValue[] => [
      o, relname, ns, 0, 0, r.owner === undefined ? OWNER_OID : relationOwner(ctx.exec, r.owner), am, o, 0, 0, -1, 0, 0,
      r.hasIndex ?? false, false, 'p', kind, natts, r.checks ?? 0,
      false, r.triggers ?? false, r.subclass ?? false, false, false,
      true, kind === 'v' || kind === 'i' || kind === 'I' ? 'n' : 'd', r.partition ?? false, 0, r.owner === undefined || kind === 'i' || kind === 'I' ? null : relationAcl(ctx.exec, r.owner),
      r.options ? SqlArray.of(r.options) : null, r.bound ?? null,
    ]
    for (const t of m.tables) {
      rows.push(row(t.oid, t.name, NAMESPACE_OIDS.public, t.kind === 'p' ? 0 : HEAP_AM_OID, t.kind, t.attributes.length, {
        hasIndex: t.indexes.length > 0,
        checks: t.constraints.filter((c) => c.type === 'c').length,
        triggers: t.hasTriggers,
        subclass: m.tables.some((c) => c.partitionOf === t.name || c.inherits.includes(t.name)),
        partition: t.partitionOf !== null,
        options: t.regions ? [`replication_regions=${t.regions.join(',')}`] : null,
        bound: t.partitionBound,
        owner: t.name,
      }))
    }
    for (const ix of m.indexes) rows.push(row(ix.oid, ix.name, NAMESPACE_OIDS.public, BTREE_AM_OID, ix.kind, ix.columns.length, { owner: ix.tableName }))
    for (const v of m.views) rows.push(row(v.oid, v.name, NAMESPACE_OIDS[v.namespace], 0, 'v', v.attributes.length, v.namespace === 'public' ? { owner: v.name } : {}))
    // A user sequence has an owner and grants of its own; a SERIAL column's follows its table.
    for (const s of m.sequences) rows.push(row(s.oid, s.name, NAMESPACE_OIDS.public, 0, 'S', 3, s.serial === undefined ? { owner: s.name } : {}))
    return rows
  },
)

const pgNamespace = view([['oid', oid], ['nspname', name], ['nspowner', oid], ['nspacl', textArray]], (ctx) => [
  ...(['pg_catalog', 'public', 'information_schema'] as const).map((n) => [NAMESPACE_OIDS[n], n, OWNER_OID, null]),
  ...catalog(ctx).schemas.map((s) => [s.oid, s.name, ctx.exec.roles().role(s.owner)?.oid ?? OWNER_OID, null]),
])

/**
 * `inherited(name)`: how many inheritance parents have the column (pg_attribute.attinhcount);
 * `acl(name)`: its column privileges (attacl).
 */
function attributeRows(
  relid: number, attributes: AttributeModel[], inherited: (name: string) => number = () => 0, acl: (name: string) => RtValue = () => null,
): RtValue[][] {
  return attributes.map((a, i) => [
    relid, a.name, typeOid(a.type), -1, typeSize(a.type), i + 1, a.type.array ? 1 : 0, -1, typeModifier(a.type),
    typeSize(a.type) > 0 && typeSize(a.type) <= 8, 'i', storageOf(a.type), '', a.notNull, a.default !== null,
    false, '', a.generated ? 's' : '', false, inherited(a.name) === 0, inherited(a.name), collationOf(a.type), acl(a.name), null, null,
  ])
}

/** How many of `t`'s inheritance parents have a column / an inheritable CHECK named `name`. */
function parentCount(m: CatalogModel, t: TableModel, has: (parent: TableModel) => boolean): number {
  return t.inherits.filter((pn) => {
    const parent = m.tableNamed(pn)
    return parent !== undefined && has(parent)
  }).length
}

function indexAttributes(m: CatalogModel, ix: IndexModel): AttributeModel[] {
  const t = m.table(ix.tableOid)
  return ix.columns.map((c) => {
    const a = t?.attributes.find((x) => x.name === c)
    return { name: c, type: a?.type ?? T.text, notNull: false, default: null, generated: false, comment: null }
  })
}

const pgAttribute = view(
  [
    ['attrelid', oid], ['attname', name], ['atttypid', oid], ['attstattarget', int4], ['attlen', int2], ['attnum', int2], ['attndims', int4],
    ['attcacheoff', int4], ['atttypmod', int4], ['attbyval', bool], ['attalign', char], ['attstorage', char], ['attcompression', char],
    ['attnotnull', bool], ['atthasdef', bool], ['atthasmissing', bool], ['attidentity', char], ['attgenerated', char], ['attisdropped', bool],
    ['attislocal', bool], ['attinhcount', int4], ['attcollation', oid], ['attacl', textArray], ['attoptions', textArray], ['attfdwoptions', textArray],
  ],
  (ctx) => {
    const m = catalog(ctx)
    return [
      ...m.tables.flatMap((t) => attributeRows(
        t.oid, t.attributes, (name) => parentCount(m, t, (parent) => parent.attributes.some((x) => x.name === name)), (column) => columnAcl(ctx.exec, t.name, column),
      )),
      ...m.indexes.flatMap((ix) => attributeRows(ix.oid, indexAttributes(m, ix))),
      ...m.views.flatMap((v) => attributeRows(v.oid, v.attributes, undefined, v.namespace === 'public' ? (column) => columnAcl(ctx.exec, v.name, column) : undefined)),
    ]
  },
)

/** Defaults and generation expressions; `adbin` holds the expression's text (pg_get_expr returns it). */
const pgAttrdef = view([['oid', oid], ['adrelid', oid], ['adnum', int2], ['adbin', text]], (ctx) =>
  catalog(ctx).tables.flatMap((t) => t.attributes.flatMap((a, i) => (a.default === null ? [] : [[objectOid('default', `${t.name}\u0000${a.name}`), t.oid, i + 1, a.default]]))))

const pgIndex = view(
  [
    ['indexrelid', oid], ['indrelid', oid], ['indnatts', int2], ['indnkeyatts', int2], ['indisunique', bool], ['indnullsnotdistinct', bool],
    ['indisprimary', bool], ['indisexclusion', bool], ['indimmediate', bool], ['indisclustered', bool], ['indisvalid', bool],
    ['indcheckxmin', bool], ['indisready', bool], ['indislive', bool], ['indisreplident', bool], ['indkey', int2Array],
    ['indcollation', oidArray], ['indclass', oidArray], ['indoption', int2Array], ['indexprs', text], ['indpred', text],
  ],
  (ctx) => {
    const m = catalog(ctx)
    return m.indexes.map((ix) => {
      const t = m.table(ix.tableOid)!
      const keys = attnums(t, ix.columns)
      return [
        ix.oid, ix.tableOid, keys.length, keys.length, ix.unique, false, ix.primary, false, true, false, true, false, true, true, false,
        vector(keys), vector(ix.columns.map(() => 0)), vector(ix.columns.map((c) => opclassOid(t, c))), vector(ix.columns.map(() => 0)), null, null,
      ]
    })
  },
)

const ACTION_CODE = { no_action: 'a', restrict: 'r', cascade: 'c', set_null: 'n', set_default: 'd' } as const

const pgConstraint = view(
  [
    ['oid', oid], ['conname', name], ['connamespace', oid], ['contype', char], ['condeferrable', bool], ['condeferred', bool],
    ['convalidated', bool], ['conrelid', oid], ['contypid', oid], ['conindid', oid], ['conparentid', oid], ['confrelid', oid],
    ['confupdtype', char], ['confdeltype', char], ['confmatchtype', char], ['conislocal', bool], ['coninhcount', int4],
    ['connoinherit', bool], ['conkey', int2Array], ['confkey', int2Array], ['conpfeqop', oidArray], ['conppeqop', oidArray],
    ['conffeqop', oidArray], ['confdelsetcols', int2Array], ['conexclop', oidArray], ['conbin', text],
  ],
  (ctx) => {
    const m = catalog(ctx)
    return m.constraints.map((c) => {
      const t = m.table(c.tableOid)!
      const parent = c.type === 'f' ? m.table(c.refTableOid) : undefined
      const fk = c.type === 'f'
      const inh = c.type === 'c' ? parentCount(m, t, (parent) => parent.constraints.some((x) => x.type === 'c' && x.name === c.name && x.noInherit !== true)) : 0
      return [
        c.oid, c.name, NAMESPACE_OIDS.public, c.type, c.deferrable, c.deferred, true, c.tableOid, 0, c.indexOid, 0, c.refTableOid,
        fk ? ACTION_CODE[c.onUpdate ?? 'no_action'] : ' ', fk ? ACTION_CODE[c.onDelete ?? 'no_action'] : ' ', fk ? (c.matchFull ? 'f' : 's') : ' ',
        inh === 0, inh, c.noInherit === true, c.columns.length ? SqlArray.of(attnums(t, c.columns)) : null, parent ? SqlArray.of(attnums(parent, c.refColumns)) : null,
        null, null, null, null, null, c.type === 'c' ? c.def.replace(/^CHECK /, '').replace(/ NO INHERIT$/, '') : null,
      ]
    })
  },
)

/** pg_class's OID: the classoid of a table's comment. */
const PG_CLASS_OID = 1259

/** Comments on tables (objsubid 0) and their columns (objsubid: the attnum), exec/comment-ddl.ts. */
const pgDescription = view([['objoid', oid], ['classoid', oid], ['objsubid', int4], ['description', text]], (ctx) => {
  const rows: RtValue[][] = []
  for (const t of catalog(ctx).tables) {
    if (t.comment !== null) rows.push([t.oid, PG_CLASS_OID, 0, t.comment])
    t.attributes.forEach((a, i) => {
      if (a.comment !== null) rows.push([t.oid, PG_CLASS_OID, i + 1, a.comment])
    })
  }
  return rows
})

const pgInherits = view([['inhrelid', oid], ['inhparent', oid], ['inhseqno', int4], ['inhdetachpending', bool]], (ctx) => {
  const m = catalog(ctx)
  const rows: RtValue[][] = []
  for (const t of m.tables) {
    const parent = t.partitionOf === null ? undefined : m.tableNamed(t.partitionOf)
    if (parent) rows.push([t.oid, parent.oid, 1, false])
    // INHERITS parents, numbered from 1 in declaration order.
    t.inherits.forEach((name, i) => {
      const p = m.tableNamed(name)
      if (p) rows.push([t.oid, p.oid, i + 1, false])
    })
  }
  return rows
})

const pgPartitionedTable = view(
  [['partrelid', oid], ['partstrat', char], ['partnatts', int2], ['partdefid', oid], ['partattrs', int2Array], ['partclass', oidArray], ['partcollation', oidArray], ['partexprs', text]],
  (ctx) => {
    const m = catalog(ctx)
    return m.tables.filter((t) => t.partitionStrategy !== null).map((t) => {
      const keys = attnums(t, t.partitionColumns)
      const def = m.tables.find((c) => c.partitionOf === t.name && c.partitionBound === 'DEFAULT')
      return [t.oid, t.partitionStrategy, keys.length, def?.oid ?? 0, vector(keys), vector(keys.map(() => 0)), vector(keys.map(() => 0)), null]
    })
  },
)

/** PostgreSQL's type names (pg_type.typname) and categories for the types Concord has. */
const TYPE_ROWS: Array<{ id: TypeId; typname: string; category: string; pseudo?: boolean }> = [
  { id: 'bool', typname: 'bool', category: 'B' }, { id: 'bytea', typname: 'bytea', category: 'U' }, { id: 'char', typname: 'char', category: 'Z' },
  { id: 'name', typname: 'name', category: 'S' }, { id: 'int8', typname: 'int8', category: 'N' }, { id: 'int2', typname: 'int2', category: 'N' },
  { id: 'int4', typname: 'int4', category: 'N' }, { id: 'regproc', typname: 'regproc', category: 'N' }, { id: 'text', typname: 'text', category: 'S' },
  { id: 'oid', typname: 'oid', category: 'N' }, { id: 'json', typname: 'json', category: 'U' }, { id: 'float4', typname: 'float4', category: 'N' },
  { id: 'float8', typname: 'float8', category: 'N' }, { id: 'unknown', typname: 'unknown', category: 'X', pseudo: true },
  { id: 'bpchar', typname: 'bpchar', category: 'S' }, { id: 'varchar', typname: 'varchar', category: 'S' }, { id: 'date', typname: 'date', category: 'D' },
  { id: 'time', typname: 'time', category: 'D' }, { id: 'timetz', typname: 'timetz', category: 'D' },
  { id: 'timestamp', typname: 'timestamp', category: 'D' },
  { id: 'timestamptz', typname: 'timestamptz', category: 'D' }, { id: 'interval', typname: 'interval', category: 'T' },
  { id: 'numeric', typname: 'numeric', category: 'N' }, { id: 'regclass', typname: 'regclass', category: 'N' },
  { id: 'regtype', typname: 'regtype', category: 'N' }, { id: 'record', typname: 'record', category: 'P', pseudo: true },
  { id: 'void', typname: 'void', category: 'P', pseudo: true }, { id: 'anyelement', typname: 'anyelement', category: 'P', pseudo: true },
  { id: 'uuid', typname: 'uuid', category: 'U' }, { id: 'jsonb', typname: 'jsonb', category: 'U' },
  { id: 'regnamespace', typname: 'regnamespace', category: 'N' }, { id: 'regrole', typname: 'regrole', category: 'N' },
  { id: 'point', typname: 'point', category: 'G' }, { id: 'lseg', typname: 'lseg', category: 'G' }, { id: 'path', typname: 'path', category: 'G' },
  { id: 'box', typname: 'box', category: 'G' }, { id: 'polygon', typname: 'polygon', category: 'G' }, { id: 'line', typname: 'line', category: 'G' },
  { id: 'circle', typname: 'circle', category: 'G' }, { id: 'money', typname: 'money', category: 'N' },
  { id: 'inet', typname: 'inet', category: 'I' }, { id: 'cidr', typname: 'cidr', category: 'I' },
]

const pgType = view(
  [
    ['oid', oid], ['typname', name], ['typnamespace', oid], ['typowner', oid], ['typlen', int2], ['typbyval', bool], ['typtype', char],
    ['typcategory', char], ['typispreferred', bool], ['typisdefined', bool], ['typdelim', char], ['typrelid', oid], ['typelem', oid],
    ['typarray', oid], ['typalign', char], ['typstorage', char], ['typnotnull', bool], ['typbasetype', oid], ['typtypmod', int4],
    ['typndims', int4], ['typcollation', oid], ['typdefault', text], ['typacl', textArray],
  ],
  (ctx) => {
    const rows: RtValue[][] = []
    for (const u of catalog(ctx).types) {
      if (u.typtype === 'e') rows.push([u.oid, u.name, NAMESPACE_OIDS.public, OWNER_OID, 4, true, 'e', 'E', false, true, ',', 0, 0, u.arrayOid, 'i', 'p', false, 0, -1, 0, 0, null, null])
      else rows.push([u.oid, u.name, NAMESPACE_OIDS.public, OWNER_OID, -1, false, 'c', 'C', false, true, ',', 0, 0, u.arrayOid, 'd', 'x', false, 0, -1, 0, 0, null, null])
      rows.push([u.arrayOid, `_${u.name}`, NAMESPACE_OIDS.public, OWNER_OID, -1, false, 'b', 'A', false, true, ',', 0, u.oid, 0, 'i', 'x', false, 0, -1, 0, 0, null, null])
    }
    for (const r of TYPE_ROWS) {
      const t: SqlType = { id: r.id }
      const size = typeSize(t)
      const array = r.pseudo ? 0 : typeOid(arrayOf(t))
      rows.push([OIDS[r.id], r.typname, NAMESPACE_OIDS.pg_catalog, OWNER_OID, size, size > 0 && size <= 8, r.pseudo ? 'p' : 'b', r.category, r.id === 'text' || r.id === 'float8' || r.id === 'bool' || r.id === 'timestamptz' || r.id === 'oid', true, ',', 0, 0, array, size === 8 || size === 64 ? 'd' : size === 2 ? 's' : size === 1 ? 'c' : 'i', size > 0 ? 'p' : 'x', false, 0, -1, 0, collationOf(t), null, null])
      if (array !== 0) rows.push([array, `_${r.typname}`, NAMESPACE_OIDS.pg_catalog, OWNER_OID, -1, false, 'b', 'A', false, true, ',', 0, OIDS[r.id], 0, size === 8 ? 'd' : 'i', 'x', false, 0, -1, 0, collationOf(t), null, null])
    }
    return rows
  },
)

/** Enum labels: one row per label, OIDs a pure function of type and label id. */
const pgEnum = view([['oid', oid], ['enumtypid', oid], ['enumsortorder', T.float4], ['enumlabel', name]], (ctx) =>
  catalog(ctx).types.filter((t) => t.typtype === 'e').flatMap((t) => t.labels.map((l) => [FIRST_USER_OID + (l.id % (2 ** 31 - FIRST_USER_OID)), t.oid, l.order, l.label])))

const pgAm = view([['oid', oid], ['amname', name], ['amhandler', T.regproc], ['amtype', char]], () => [[HEAP_AM_OID, 'heap', 0, 't'], [BTREE_AM_OID, 'btree', 0, 'i']])

const pgDatabase = view(
  [
    ['oid', oid], ['datname', name], ['datdba', oid], ['encoding', int4], ['datlocprovider', char], ['datistemplate', bool], ['datallowconn', bool],
    ['datconnlimit', int4], ['dattablespace', oid], ['datcollate', text], ['datctype', text], ['daticulocale', text], ['datcollversion', text], ['datacl', textArray],
  ],
  (ctx) => [[DATABASE_OID, ctx.exec.database, OWNER_OID, 6, 'c', false, true, -1, DEFAULT_TABLESPACE, 'C', 'C', null, null, null]],
)

const pgCollation = view(
  [
    ['oid', oid], ['collname', name], ['collnamespace', oid], ['collowner', oid], ['collprovider', char], ['collisdeterministic', bool],
    ['collencoding', int4], ['collcollate', text], ['collctype', text], ['colliculocale', text], ['collversion', text],
  ],
  () => [
    [DEFAULT_COLLATION, 'default', NAMESPACE_OIDS.pg_catalog, OWNER_OID, 'd', true, -1, null, null, null, null],
    [C_COLLATION, 'C', NAMESPACE_OIDS.pg_catalog, OWNER_OID, 'c', true, -1, 'C', 'C', null, null],
    [951, 'POSIX', NAMESPACE_OIDS.pg_catalog, OWNER_OID, 'c', true, -1, 'POSIX', 'POSIX', null, null],
  ],
)

const pgTablespace = view([['oid', oid], ['spcname', name], ['spcowner', oid], ['spcacl', textArray], ['spcoptions', textArray]], () => [
  [DEFAULT_TABLESPACE, 'pg_default', OWNER_OID, null, null],
  [1664, 'pg_global', OWNER_OID, null, null],
])

const pgTables = view(
  [['schemaname', name], ['tablename', name], ['tableowner', name], ['tablespace', name], ['hasindexes', bool], ['hasrules', bool], ['hastriggers', bool], ['rowsecurity', bool]],
  (ctx) => catalog(ctx).tables.map((t) => ['public', t.name, roleName(ctx.exec, relationOwner(ctx.exec, t.name)), null, t.indexes.length > 0, false, t.hasTriggers, false]),
)

/** Every view with its query text (user views; the system views have none here), as tools list them (missing until 2026-12-03). */
const pgViews = view([['schemaname', name], ['viewname', name], ['viewowner', name], ['definition', text]], (ctx) =>
  catalog(ctx).views.map((v) => [v.namespace, v.name, roleName(ctx.exec, v.namespace === 'public' ? relationOwner(ctx.exec, v.name) : OWNER_OID), v.definition]))

const pgIndexes = view([['schemaname', name], ['tablename', name], ['indexname', name], ['tablespace', name], ['indexdef', text]], (ctx) =>
  catalog(ctx).indexes.map((ix) => ['public', ix.tableName, ix.name, null, indexDef(ix)]))

/** PostgreSQL's columns a client reads, plus `scope`: session, node or cluster. */
const pgSettings = view(
  [['name', text], ['setting', text], ['unit', text], ['category', text], ['short_desc', text], ['context', text], ['vartype', text], ['source', text], ['boot_val', text], ['reset_val', text], ['scope', text]],
  (ctx) => ctx.exec.settings.all().map((r) => [r.name, r.setting, null, r.scope === 'session' ? 'Client Connection Defaults' : r.scope === 'node' ? 'Concord / Node' : 'Concord / Cluster', r.description, r.context, r.vartype, r.source, r.boot, r.reset, r.scope]),
)

const none = (columns: Array<[string, SqlType]>): SystemView => view(columns, () => [])

export const PG_CATALOG_VIEWS: Record<string, SystemView> = {
  pg_tables: pgTables,
  pg_indexes: pgIndexes,
  pg_views: pgViews,
  pg_settings: pgSettings,
  pg_class: pgClass,
  pg_namespace: pgNamespace,
  pg_attribute: pgAttribute,
  pg_attrdef: pgAttrdef,
  pg_index: pgIndex,
  pg_constraint: pgConstraint,
  pg_inherits: pgInherits,
  pg_partitioned_table: pgPartitionedTable,
  pg_type: pgType,
  pg_enum: pgEnum,
  pg_am: pgAm,
  pg_database: pgDatabase,
  pg_collation: pgCollation,
  pg_tablespace: pgTablespace,
  pg_description: pgDescription,
  pg_policy: none([['oid', oid], ['polname', name], ['polrelid', oid], ['polcmd', char], ['polpermissive', bool], ['polroles', oidArray], ['polqual', text], ['polwithcheck', text]]),
  pg_statistic_ext: none([['oid', oid], ['stxrelid', oid], ['stxname', name], ['stxnamespace', oid], ['stxowner', oid], ['stxstattarget', int4], ['stxkeys', int2Array], ['stxkind', arrayOf(char)], ['stxexprs', text]]),
  pg_trigger: none([
    ['oid', oid], ['tgrelid', oid], ['tgparentid', oid], ['tgname', name], ['tgfoid', oid], ['tgtype', int2], ['tgenabled', char], ['tgisinternal', bool],
    ['tgconstrrelid', oid], ['tgconstrindid', oid], ['tgconstraint', oid], ['tgdeferrable', bool], ['tginitdeferred', bool], ['tgnargs', int2],
    ['tgattr', int2Array], ['tgargs', T.bytea], ['tgqual', text], ['tgoldtable', name], ['tgnewtable', name],
  ]),
  pg_rewrite: none([['oid', oid], ['rulename', name], ['ev_class', oid], ['ev_type', char], ['ev_enabled', char], ['is_instead', bool], ['ev_qual', text], ['ev_action', text]]),
  pg_publication_namespace: none([['oid', oid], ['pnpubid', oid], ['pnnspid', oid]]),
  pg_opclass: pgOpclass,
  pg_proc: pgProc,
  pg_language: pgLanguage,
  pg_stat_user_indexes: pgStatUserIndexes,
  pg_policies: none([['schemaname', name], ['tablename', name], ['policyname', name], ['permissive', text], ['roles', arrayOf(T.name)], ['cmd', text], ['qual', text], ['with_check', text]]),
  pg_extension: none([
    ['oid', oid], ['extname', name], ['extowner', oid], ['extnamespace', oid], ['extrelocatable', bool], ['extversion', text],
    ['extconfig', oidArray], ['extcondition', textArray],
  ]),
}
