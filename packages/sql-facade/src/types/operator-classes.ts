/**
 * The default btree operator class of each column type, with PostgreSQL 15's OIDs and
 * names: what `pg_index.indclass` names for an index's key columns and `pg_opclass`
 * lists, so a client reading an index's operator classes (drizzle-kit, pg_dump-like
 * tools) joins them as it does on PostgreSQL. Concord's indexes compare values by type;
 * these rows describe that, they choose nothing. A partition key may name only its type's
 * class here (exec/ddl.ts): another one would route rows otherwise.
 */
import type { SqlType, TypeId } from './sql-type.js'

export interface OperatorClass {
  oid: number
  name: string
  /** pg_opfamily OID. */
  family: number
  /** The input type's OID (opcintype). */
  inputType: number
}

const BY_TYPE: Partial<Record<TypeId, OperatorClass>> = {
  int4: { oid: 1978, name: 'int4_ops', family: 1976, inputType: 23 },
  int2: { oid: 1979, name: 'int2_ops', family: 1976, inputType: 21 },
  int8: { oid: 3124, name: 'int8_ops', family: 1976, inputType: 20 },
  oid: { oid: 1981, name: 'oid_ops', family: 1989, inputType: 26 },
  date: { oid: 3122, name: 'date_ops', family: 434, inputType: 1082 },
  float8: { oid: 3123, name: 'float8_ops', family: 1970, inputType: 701 },
  float4: { oid: 10012, name: 'float4_ops', family: 1970, inputType: 700 },
  numeric: { oid: 3125, name: 'numeric_ops', family: 1988, inputType: 1700 },
  text: { oid: 3126, name: 'text_ops', family: 1994, inputType: 25 },
  // varchar has no operator class of its own: its values are compared as text.
  varchar: { oid: 3126, name: 'text_ops', family: 1994, inputType: 25 },
  timestamptz: { oid: 3127, name: 'timestamptz_ops', family: 434, inputType: 1184 },
  timestamp: { oid: 3128, name: 'timestamp_ops', family: 434, inputType: 1114 },
  bool: { oid: 10003, name: 'bool_ops', family: 424, inputType: 16 },
  bpchar: { oid: 10004, name: 'bpchar_ops', family: 426, inputType: 1042 },
  bytea: { oid: 10006, name: 'bytea_ops', family: 428, inputType: 17 },
  char: { oid: 10007, name: 'char_ops', family: 429, inputType: 18 },
  interval: { oid: 10022, name: 'interval_ops', family: 1982, inputType: 1186 },
  name: { oid: 10028, name: 'name_ops', family: 1994, inputType: 19 },
  time: { oid: 10038, name: 'time_ops', family: 1996, inputType: 1083 },
  uuid: { oid: 10065, name: 'uuid_ops', family: 2968, inputType: 2950 },
  jsonb: { oid: 10088, name: 'jsonb_ops', family: 4033, inputType: 3802 },
}

const ARRAY_OPS: OperatorClass = { oid: 10000, name: 'array_ops', family: 397, inputType: 2277 }

/** The default btree operator class of a column of `type`; null for a type without one (json). */
export function operatorClassOf(type: SqlType): OperatorClass | null {
  if (type.array) return ARRAY_OPS
  return BY_TYPE[type.id] ?? null
}

/** Every operator class, once each (pg_opclass). */
export function operatorClasses(): OperatorClass[] {
  const seen = new Map<number, OperatorClass>()
  for (const c of [...Object.values(BY_TYPE), ARRAY_OPS]) if (c !== undefined) seen.set(c.oid, c)
  return [...seen.values()].sort((a, b) => a.oid - b.oid)
}
