/**
 * Row resolution: from the writer entries of one life of a row to the row a reader sees.
 * Key columns come from the row key; every other column from its merge rule: the
 * multi-value register and the column's policy, the counter sum, the text, or, for a
 * column whose kind changed, the fold over its epochs (merge/). Pure over its inputs:
 * every replica holding the same entries resolves the same row.
 */
import { decodeRowKey } from '../codec/row-key.js'
import { scanEntry, validDeps, type WriterEntry } from '../codec/writer-entry.js'
import type { TableView } from '../catalog/table-view.js'
import { foldEpochs, hasEpochs } from '../merge/column-epochs.js'
import { sumCounter } from '../merge/counter.js'
import { resolve, type ResolverLookup } from '../merge/policy.js'
import { concurrentValues, registerConflict } from '../merge/register.js'
import type { ColumnInfo, ConflictRecord, Row, Value } from '../types.js'

/** What resolving needs besides the entries. */
export interface ResolveContext {
  resolvers: ResolverLookup
  /** The current content of a text column's Y.Text (row, column entry key, causal length). */
  text(rowKey: string, skey: string, cl: number): string
  /** Sees each conflict a policy decided (see registerConflict); absent: nobody listens. */
  onConflict?: (conflict: ConflictRecord) => void
}

/**
 * The row from the entries carrying its causal length `cl` (odd, live), at least one.
 * With one writer and only plain registers, its values are the row: nothing to resolve.
 */
export function resolveLiveRow(rowKey: string, cl: number, entries: Array<[string, WriterEntry]>, view: TableView, ctx: ResolveContext): Row {
  const row: Row = {}
  const info = view.info
  const pk = info.primaryKey
  const keyValues = decodeRowKey(rowKey, pk.length)
  if (entries.length === 1 && !view.special) {
    // One writer: every value is its own, nothing to resolve.
    const cols = entries[0]![1].cols
    for (const c of view.layout) row[c.name] = c.pkAt >= 0 ? keyValues[c.pkAt]! : cols.get(c.skey)?.value ?? null
    return row
  }
  for (let i = 0; i < info.columns.length; i++) {
    const col = info.columns[i]!
    const pkAt = pk.indexOf(col.name)
    if (pkAt >= 0) {
      row[col.name] = keyValues[pkAt]!
      continue
    }
    const skey = view.storageKeys.get(col.name) ?? col.name
    row[col.name] = resolveColumn(rowKey, cl, col, skey, entries, view, keyValues, ctx)
  }
  return row
}

function resolveColumn(rowKey: string, cl: number, col: ColumnInfo, skey: string, entries: Array<[string, WriterEntry]>, view: TableView, keyValues: Value[], ctx: ResolveContext): Value {
  if (hasEpochs(col)) return foldColumn(col, skey, entries, view, col.epochs!.length, ctx.resolvers)
  if (col.kind === 'counter') return sumCounter(entries, skey)
  const candidates = concurrentValues(entries, skey)
  const policy = col.kind === 'text' ? 'last_write_wins' : view.policies.get(col.name) ?? 'last_write_wins'
  const v = resolve(policy, candidates, ctx.resolvers, { table: view.info.name, column: col })
  if (col.kind === 'text' && v !== null) return ctx.text(rowKey, skey, cl)
  if (candidates.length > 1 && col.kind === 'register' && ctx.onConflict !== undefined) {
    const decided = registerConflict(entries, skey, candidates, policy, v)
    if (decided !== null) ctx.onConflict({ table: view.info.name, key: keyValues, column: col.name, ...decided })
  }
  return v
}

/** A column whose kind changed, from its epochs 0..upto (merge/column-epochs.ts). */
export function foldColumn(col: ColumnInfo, skey: string, entries: Array<[string, WriterEntry]>, view: TableView, upto: number, resolvers: ResolverLookup): Value {
  const policy = view.policies.get(col.name) ?? 'last_write_wins'
  return foldEpochs(
    col,
    skey,
    upto,
    (key) => {
      const candidates = concurrentValues(entries, key)
      return candidates.length === 0 ? undefined : resolve(policy, candidates, resolvers, { table: view.info.name, column: col })
    },
    (key) => sumCounter(entries, key),
  )
}

/**
 * The row of a single-writer shard straight from its one raw entry, without intermediate
 * objects (the cold catch-up path). Null when the row is absent or deleted; undefined
 * when the entry is malformed.
 */
export function readSingleWriterRow(raw: unknown, rowKey: string, view: TableView): Row | null | undefined {
  if (raw === undefined) return null
  const row: Row = {}
  const keyValues = decodeRowKey(rowKey, view.info.primaryKey.length)
  for (const c of view.layout) row[c.name] = c.pkAt >= 0 ? keyValues[c.pkAt]! : null
  const head = scanEntry(raw, (skey, value, _hlc, depsStart, depsEnd) => {
    if (depsEnd > depsStart && !validDeps(raw as string, depsStart, depsEnd)) return false
    const name = view.nameByStorageKey.get(skey)
    if (name !== undefined) row[name] = value
    return true
  })
  if (head === null) return undefined
  return head.cl % 2 === 1 ? row : null
}
