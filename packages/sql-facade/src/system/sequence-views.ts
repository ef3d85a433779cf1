/**
 * The views that list user sequences: pg_catalog.pg_sequence (psql's `\d seq`),
 * pg_catalog.pg_sequences and information_schema.sequences, over the catalog model's
 * sequences (the definitions; pg_class lists them as relkind 'S'). pg_sequences'
 * last_value is NULL: no node knows the cluster's last value (docs/compatibility.md).
 */
import type { CatalogModel } from '../catalog/catalog-model.js'
import { sequenceTypeName, type SequenceDef } from '../sequences/sequence-definition.js'
import { OIDS, T } from '../types/sql-type.js'
import { view, type SystemView, type ViewCtx } from '../runtime/system-view.js'

const catalog = (ctx: ViewCtx): CatalogModel => ctx.exec.catalog()
const PRECISION = { int2: 16, int4: 32, int8: 64 } as const
const typeOf = (d: SequenceDef): number => OIDS[d.type]

export const pgSequence: SystemView = view(
  [['seqrelid', T.oid], ['seqtypid', T.oid], ['seqstart', T.int8], ['seqincrement', T.int8], ['seqmax', T.int8], ['seqmin', T.int8], ['seqcache', T.int8], ['seqcycle', T.bool]],
  (ctx) => catalog(ctx).sequences.map((s) => [s.oid, typeOf(s.def), s.def.start, s.def.increment, s.def.max, s.def.min, s.def.cache, s.def.cycle]),
)

export const pgSequences: SystemView = view(
  [
    ['schemaname', T.name], ['sequencename', T.name], ['sequenceowner', T.name], ['data_type', T.regtype], ['start_value', T.int8], ['min_value', T.int8],
    ['max_value', T.int8], ['increment_by', T.int8], ['cycle', T.bool], ['cache_size', T.int8], ['last_value', T.int8],
  ],
  (ctx) => catalog(ctx).sequences.map((s) => [
    'public', s.name, ctx.exec.settings.user, typeOf(s.def), s.def.start, s.def.min, s.def.max, s.def.increment, s.def.cycle, s.def.cache, null,
  ]),
)

export const informationSchemaSequences: SystemView = view(
  [
    ['sequence_catalog', T.name], ['sequence_schema', T.name], ['sequence_name', T.name], ['data_type', T.text], ['numeric_precision', T.int4],
    ['numeric_precision_radix', T.int4], ['numeric_scale', T.int4], ['start_value', T.text], ['minimum_value', T.text], ['maximum_value', T.text],
    ['increment', T.text], ['cycle_option', T.text],
  ],
  (ctx) => catalog(ctx).sequences.map((s) => [
    ctx.exec.database, 'public', s.name, sequenceTypeName(s.def.type), PRECISION[s.def.type], 2, 0,
    String(s.def.start), String(s.def.min), String(s.def.max), String(s.def.increment), s.def.cycle ? 'YES' : 'NO',
  ]),
)
