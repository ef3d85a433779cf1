/**
 * Per-column conflict policies: `ALTER TABLE t ALTER COLUMN c SET
 * (conflict_resolution_policy = ..)` / `RESET (conflict_resolution_policy)`, and counter
 * columns named at CREATE TABLE with `WITH (counter_columns = 'a, b')`.
 *
 * `last_write_wins`, `first_write_wins`, `custom_function` (`custom:name`) set the policy
 * that resolves the column's concurrent values. `counter` makes the column a core counter:
 * concurrent increments (`SET c = c + n`) all add up. Changing between register and
 * counter keeps every value and converges even while other nodes still write under the
 * old kind (core merge/column-epochs.ts). Counters are integer columns
 * (smallint, integer, bigint): sums of floats would differ in their last bits between
 * replicas, and numeric is stored as text that core cannot add.
 */
import type { ColumnKind, PolicySpec, TableInfo } from '@concord/core'
import { foreignKeysOf, referencingKeys } from '../catalog/foreign-key.js'
import { columnMeta, tableMeta } from '../catalog/table-meta.js'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { nameList } from '../parser/name-list.js'
import type { PlanCtx } from '../plan/plan-context.js'
import { typeName } from '../types/sql-type.js'

export const POLICY_OPTION = 'conflict_resolution_policy'
const COUNTER_TYPES = new Set(['int2', 'int4', 'int8'])

/** A table-level policy value (WITH / SET (conflict_resolution_policy = ..)). */
export function policyOption(value: string): PolicySpec {
  const v = value.toLowerCase()
  if (v === 'last_write_wins' || v === 'first_write_wins') return v
  if (v === 'custom_function') return { custom: 'resolve_conflict' }
  if (v.startsWith('custom:') && v.length > 7) return { custom: v.slice(7) }
  if (v === 'counter') {
    throw new SqlError(SqlState.invalidParameterValue, 'conflict_resolution_policy "counter" applies to a column', {
      hint: 'Use ALTER TABLE .. ALTER COLUMN .. SET (conflict_resolution_policy = \'counter\').',
    })
  }
  throw new SqlError(SqlState.invalidParameterValue, `invalid value for conflict_resolution_policy: "${value}"`, {
    hint: 'Valid values are last_write_wins, first_write_wins, custom_function, custom:<function>, and counter for a column.',
  })
}

/** Whether a column of `table` is a counter (its increments merge by adding up). */
export function isCounter(table: TableInfo, column: string): boolean {
  return table.columns.find((c) => c.name === column)?.kind === 'counter'
}

/** Whether a stored expression tree names `column`. */
function mentions(node: unknown, column: string): boolean {
  if (!node || typeof node !== 'object') return false
  if (Array.isArray(node)) return node.some((x) => mentions(x, column))
  const o = node as Record<string, unknown>
  const ref = o.ColumnRef as { fields?: Parameters<typeof nameList>[0] } | undefined
  if (ref && nameList(ref.fields).pop() === column) return true
  return Object.values(o).some((v) => mentions(v, column))
}

/** Refuses a column that cannot be a counter, with the reason (42804 for its type, 0A000 otherwise). */
export function assertCounterable(p: PlanCtx, table: TableInfo, column: string): void {
  const col = table.columns.find((c) => c.name === column)!
  const meta = columnMeta(col)
  if (!COUNTER_TYPES.has(meta.t.id) || meta.t.array) {
    throw new SqlError(SqlState.datatypeMismatch, `column "${column}" is of type ${typeName(meta.t)}; a counter column must be smallint, integer or bigint`)
  }
  const refuse = (why: string) => new SqlError(SqlState.featureNotSupported, `column "${column}" cannot be a counter: ${why}`)
  if (table.primaryKey.includes(column)) throw refuse('it is part of the primary key')
  if (table.partitioning?.columns.includes(column)) throw refuse('it is a partition key column')
  if (meta.generated !== undefined) throw refuse('it is a generated column')
  for (const other of table.columns) {
    const m = columnMeta(other)
    if (m.generated !== undefined && mentions(m.generated, column)) throw refuse(`generated column "${other.name}" is computed from it`)
  }
  if (foreignKeysOf(table).some((f) => f.columns.includes(column)) || referencingKeys(p.exec.allTables(), table.name).some((d) => d.fk.refColumns.includes(column))) {
    throw refuse('it is part of a foreign key')
  }
}

/**
 * ALTER COLUMN .. SET / RESET (conflict_resolution_policy): `value` null resets the column
 * to a register under the table's policy.
 */
export function setColumnPolicy(p: PlanCtx, table: TableInfo, column: string, value: string | null): void {
  const tx = p.exec.tx
  if (tableMeta(table).partitionOf) {
    throw new SqlError(SqlState.featureNotSupported, `set the conflict policy of "${column}" on the partitioned table "${tableMeta(table).partitionOf}", not on partition "${table.name}"`)
  }
  const col = table.columns.find((c) => c.name === column)
  if (!col || columnMeta(col).hidden) throw new SqlError(SqlState.undefinedColumn, `column "${column}" of relation "${table.name}" does not exist`)
  if (col.kind === 'text') throw new SqlError(SqlState.featureNotSupported, `column "${column}" merges as text; its policy cannot change`)
  let kind: ColumnKind = 'register'
  let policy: PolicySpec | null = null
  if (value !== null && value.toLowerCase() === 'counter') {
    assertCounterable(p, table, column)
    kind = 'counter'
  } else if (value !== null) {
    policy = policyOption(value)
  }
  // Partitions carry a copy of their parent's columns: keep them in step.
  for (const t of [table, ...p.exec.allTables().filter((t) => tableMeta(t).partitionOf === table.name)]) {
    tx.alterColumn(t.name, column, { kind, policy })
  }
}

/** `counter_columns` of CREATE TABLE .. WITH (..): the column names it lists. */
export function counterColumnsOption(value: string | undefined): string[] {
  if (value === undefined) return []
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
}
