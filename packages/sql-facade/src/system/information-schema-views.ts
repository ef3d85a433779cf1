/**
 * The SQL standard's information_schema over the catalog model: schemata, tables,
 * columns and the constraint views that ORMs and migration tools read. Columns are
 * PostgreSQL's, in its order, with its spellings (`data_type` is `character varying`,
 * `ARRAY`, `timestamp with time zone`; yes/no columns are 'YES' / 'NO').
 */
import type { ForeignKeyAction } from '../catalog/table-meta.js'
import { elementType, T, typeName, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { CatalogModel, ConstraintModel } from '../catalog/catalog-model.js'
import { view, type SystemView, type ViewCtx } from '../runtime/system-view.js'

const id = T.name
const text = T.text
const int4 = T.int4

const catalog = (ctx: ViewCtx): CatalogModel => ctx.exec.catalog()
const yes = (b: boolean): string => (b ? 'YES' : 'NO')

/** information_schema's data_type: the type's SQL name without modifiers, 'ARRAY' for arrays. */
function dataType(t: SqlType): string {
  if (t.array) return 'ARRAY'
  if (t.id === 'bpchar') return 'character'
  return typeName({ id: t.id })
}

/** pg_type.typname of the column's type (`int4`, `_text`). */
function udtName(t: SqlType): string {
  const base = elementType(t).id
  const typname = base === 'char' ? 'char' : base
  return t.array ? `_${typname}` : typname
}

const INT_PRECISION: Partial<Record<SqlType['id'], number>> = { int2: 16, int4: 32, int8: 64, float4: 24, float8: 53 }

function numericFacts(t: SqlType): [RtValue, RtValue, RtValue] {
  if (t.array) return [null, null, null]
  const bits = INT_PRECISION[t.id]
  if (bits !== undefined) return [bits, 2, t.id === 'float4' || t.id === 'float8' ? null : 0]
  if (t.id === 'numeric') return [t.precision ?? null, 10, t.precision !== undefined ? t.scale ?? 0 : null]
  return [null, null, null]
}

function datetimePrecision(t: SqlType): RtValue {
  if (t.array) return null
  if (t.id === 'date') return 0
  return t.id === 'time' || t.id === 'timestamp' || t.id === 'timestamptz' || t.id === 'interval' ? 6 : null
}

const schemata = view(
  [['catalog_name', id], ['schema_name', id], ['schema_owner', id], ['default_character_set_catalog', id], ['default_character_set_schema', id], ['default_character_set_name', id], ['sql_path', text]],
  (ctx) => [
    ...['information_schema', 'pg_catalog', 'public'].map((s) => [ctx.exec.database, s, ctx.exec.settings.user, null, null, null, null]),
    ...ctx.exec.catalog().schemas.map((s) => [ctx.exec.database, s.name, s.owner, null, null, null, null]),
  ],
)

const tables = view(
  [
    ['table_catalog', id], ['table_schema', id], ['table_name', id], ['table_type', text], ['self_referencing_column_name', id],
    ['reference_generation', text], ['user_defined_type_catalog', id], ['user_defined_type_schema', id], ['user_defined_type_name', id],
    ['is_insertable_into', text], ['is_typed', text], ['commit_action', text],
  ],
  (ctx) => {
    const m = catalog(ctx)
    const db = ctx.exec.database
    return [
      ...m.tables.map((t) => [db, 'public', t.name, 'BASE TABLE', null, null, null, null, null, 'YES', 'NO', null]),
      ...m.views.map((v) => [db, v.namespace, v.name, 'VIEW', null, null, null, null, null, 'NO', 'NO', null]),
    ]
  },
)

/** Views: Concord's are read-only, so none is updatable or insertable into. */
const views = view(
  [
    ['table_catalog', id], ['table_schema', id], ['table_name', id], ['view_definition', text], ['check_option', text], ['is_updatable', text],
    ['is_insertable_into', text], ['is_trigger_updatable', text], ['is_trigger_deletable', text], ['is_trigger_insertable_into', text],
  ],
  (ctx) => {
    const db = ctx.exec.database
    return catalog(ctx).views.map((v) => [db, v.namespace, v.name, v.definition, 'NONE', 'NO', 'NO', 'NO', 'NO', 'NO'])
  },
)

const columns = view(
  [
    ['table_catalog', id], ['table_schema', id], ['table_name', id], ['column_name', id], ['ordinal_position', int4], ['column_default', text],
    ['is_nullable', text], ['data_type', text], ['character_maximum_length', int4], ['character_octet_length', int4], ['numeric_precision', int4],
    ['numeric_precision_radix', int4], ['numeric_scale', int4], ['datetime_precision', int4], ['interval_type', text], ['interval_precision', int4],
    ['character_set_catalog', id], ['character_set_schema', id], ['character_set_name', id], ['collation_catalog', id], ['collation_schema', id],
    ['collation_name', id], ['domain_catalog', id], ['domain_schema', id], ['domain_name', id],
    ['udt_catalog', id], ['udt_schema', id], ['udt_name', id], ['scope_catalog', id], ['scope_schema', id], ['scope_name', id],
    ['maximum_cardinality', int4], ['dtd_identifier', id], ['is_self_referencing', text], ['is_identity', text],
    ['identity_generation', text], ['identity_start', text], ['identity_increment', text], ['identity_maximum', text], ['identity_minimum', text],
    ['identity_cycle', text], ['is_generated', text], ['generation_expression', text], ['is_updatable', text],
  ],
  (ctx) => {
    const db = ctx.exec.database
    const m = catalog(ctx)
    // Tables' columns, then user views' (read-only: not updatable).
    const relations = [...m.tables.map((t) => ({ ...t, updatable: 'YES' })), ...m.views.filter((v) => v.namespace === 'public').map((v) => ({ ...v, updatable: 'NO' }))]
    return relations.flatMap((t) =>
      t.attributes.map((a, i) => {
        const length = !a.type.array && (a.type.id === 'varchar' || a.type.id === 'bpchar') ? a.type.precision ?? null : null
        const octets = !a.type.array && (a.type.id === 'varchar' || a.type.id === 'bpchar' || a.type.id === 'text') ? (length === null ? 1073741824 : length * 4) : null
        return [
          db, 'public', t.name, a.name, i + 1, a.generated ? null : a.default, yes(!a.notNull), dataType(a.type), length, octets, ...numericFacts(a.type),
          datetimePrecision(a.type), null, null, null, null, null, null, null, null, null, null, null,
          db, 'pg_catalog', udtName(a.type), null, null, null, null, String(i + 1), 'NO', 'NO', null, null, null, null, null, 'NO',
          a.generated ? 'ALWAYS' : 'NEVER', a.generated ? a.default : null, t.updatable,
        ]
      }))
  },
)

const CONSTRAINT_TYPE = { p: 'PRIMARY KEY', u: 'UNIQUE', c: 'CHECK', f: 'FOREIGN KEY' } as const

const tableConstraints = view(
  [
    ['constraint_catalog', id], ['constraint_schema', id], ['constraint_name', id], ['table_catalog', id], ['table_schema', id], ['table_name', id],
    ['constraint_type', text], ['is_deferrable', text], ['initially_deferred', text], ['enforced', text], ['nulls_distinct', text],
  ],
  (ctx) => {
    const db = ctx.exec.database
    return catalog(ctx).constraints.map((c) => [db, 'public', c.name, db, 'public', c.tableName, CONSTRAINT_TYPE[c.type], yes(c.deferrable), yes(c.deferred), 'YES', c.type === 'u' ? 'YES' : null])
  },
)

/** The primary key or unique constraint of `table` over exactly `columns` (what a foreign key references). */
function referencedKey(m: CatalogModel, fk: ConstraintModel): ConstraintModel | undefined {
  const parent = m.table(fk.refTableOid)
  const wanted = [...fk.refColumns].sort().join('\u0000')
  return parent?.constraints.find((c) => (c.type === 'p' || c.type === 'u') && [...c.columns].sort().join('\u0000') === wanted)
}

const keyColumnUsage = view(
  [
    ['constraint_catalog', id], ['constraint_schema', id], ['constraint_name', id], ['table_catalog', id], ['table_schema', id], ['table_name', id],
    ['column_name', id], ['ordinal_position', int4], ['position_in_unique_constraint', int4],
  ],
  (ctx) => {
    const m = catalog(ctx)
    const db = ctx.exec.database
    return m.constraints.filter((c) => c.type !== 'c').flatMap((c) => {
      const key = c.type === 'f' ? referencedKey(m, c) : undefined
      return c.columns.map((col, i) => [db, 'public', c.name, db, 'public', c.tableName, col, i + 1, key ? key.columns.indexOf(c.refColumns[i]!) + 1 : null])
    })
  },
)

/**
 * The columns each constraint uses: a key's own columns, a CHECK's columns, and for a
 * foreign key the referenced (parent) columns, as PostgreSQL lists them.
 */
const constraintColumnUsage = view(
  [['table_catalog', id], ['table_schema', id], ['table_name', id], ['column_name', id], ['constraint_catalog', id], ['constraint_schema', id], ['constraint_name', id]],
  (ctx) => {
    const db = ctx.exec.database
    return catalog(ctx).constraints.flatMap((c) => {
      const [table, cols] = c.type === 'f' ? [c.refTableName, c.refColumns] : [c.tableName, c.columns]
      return table === null ? [] : cols.map((col) => [db, 'public', table, col, db, 'public', c.name])
    })
  },
)

const RULE: Record<ForeignKeyAction, string> = { no_action: 'NO ACTION', restrict: 'RESTRICT', cascade: 'CASCADE', set_null: 'SET NULL', set_default: 'SET DEFAULT' }

const referentialConstraints = view(
  [
    ['constraint_catalog', id], ['constraint_schema', id], ['constraint_name', id], ['unique_constraint_catalog', id], ['unique_constraint_schema', id],
    ['unique_constraint_name', id], ['match_option', text], ['update_rule', text], ['delete_rule', text],
  ],
  (ctx) => {
    const m = catalog(ctx)
    const db = ctx.exec.database
    return m.constraints.filter((c) => c.type === 'f').map((c) => [
      db, 'public', c.name, db, 'public', referencedKey(m, c)?.name ?? null, c.matchFull ? 'FULL' : 'NONE', RULE[c.onUpdate ?? 'no_action'], RULE[c.onDelete ?? 'no_action'],
    ])
  },
)

export const INFORMATION_SCHEMA_VIEWS: Record<string, SystemView> = {
  schemata,
  tables,
  views,
  columns,
  table_constraints: tableConstraints,
  key_column_usage: keyColumnUsage,
  constraint_column_usage: constraintColumnUsage,
  referential_constraints: referentialConstraints,
}
