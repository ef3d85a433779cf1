/**
 * The catalog is itself replicated state: a system table `$catalog (kind, name, value)`
 * in its own shard, written through the same row machinery as user tables, so DDL
 * replicates, survives partitions and converges exactly like data.
 *
 * - `('table', T)`: table-level definition (JSON). Its causal length is the table's
 *   incarnation: DROP deletes the row, CREATE after DROP re-inserts it with a new causal
 *   length, so rows written to the old incarnation (kept in its own shards) never show up
 *   in the new one. Concurrent CREATEs of one name land in the same incarnation, and both
 *   sides' rows stay.
 * - `('column', T U+0000 incarnation U+0000 C)`: one row per column, so concurrent
 *   ADD COLUMNs on two nodes both survive. Column order is (creation HLC, position).
 * - Any other kind belongs to the layers above (settings, functions, indexes, regions).
 *   `('policy', 'default')` holds the cluster's default conflict policy.
 *
 * Table and column definitions are tagged (`$def`) and carry where they come from
 * (`created` / `pos`: the CREATE or ADD COLUMN) and when each attribute last changed
 * (`changed`), so concurrent definitions of one object merge by the DDL rules in
 * definition-merge.ts instead of last-write-wins. Other catalog values stay
 * last-write-wins. Untagged definitions (older data) merge last-write-wins as before.
 */
import type { ColumnInfo, ColumnKind, Json, TableInfo } from '../types.js'
import { MAX_COLUMN_EPOCHS } from '../merge/column-epochs.js'
import { parsePolicy } from '../merge/policy.js'

export const CATALOG_TABLE: TableInfo = {
  name: '$catalog',
  incarnation: 1,
  columns: [
    { name: 'kind', type: 'text', kind: 'register', policy: null, meta: null },
    { name: 'name', type: 'text', kind: 'register', policy: null, meta: null },
    { name: 'value', type: 'text', kind: 'register', policy: null, meta: null },
  ],
  primaryKey: ['kind', 'name'],
  policy: 'last_write_wins',
  regions: null,
  partitioning: null,
  options: {},
  meta: null,
}

/**
 * The secrets: `(kind, name, value)` as the catalog, in the shard `secrets`, which peer
 * scopes never serve (docs/decisions/0034-role-secrets-off-browsers.md). Values are
 * opaque strings, last writer wins. Its name holds U+0000, so no table can take it.
 */
export const SECRETS_TABLE: TableInfo = { ...CATALOG_TABLE, name: '\u0000secrets' }

/** Marks a catalog value as a table or column definition (merged by the DDL rules). */
export const DEFINITION_TAG = '$def'

/** Per attribute (`policy`, `meta.default` ..): HLC of the write that last changed it; absent: unchanged since created. */
export type ChangeStamps = Record<string, number>

/** What a `('table', T)` catalog row stores: a TableInfo without what the row's key and causal length give. */
export interface TableDefinition extends Omit<TableInfo, 'name' | 'incarnation' | 'columns' | 'storage'> {
  /** HLC of the CREATE this definition descends from (0 for data written before it was recorded). */
  created: number
  changed: ChangeStamps
  /**
   * Set by a rename: the name and incarnation the table's shards and column rows are
   * stored under (absent: this row's own name and causal length). Stamped `changed.name`.
   */
  storage?: [string, number]
}

/** What a `('column', ..)` catalog row stores: a ColumnInfo without its name, plus its creation order. */
export interface ColumnDefinition extends Omit<ColumnInfo, 'name'> {
  /** Creation order: [hlc, position in its statement]; also identifies the CREATE or ADD COLUMN it descends from. */
  pos: [number, number]
  changed: ChangeStamps
}

export function encodeTableDefinition(def: TableDefinition): string {
  return JSON.stringify({ [DEFINITION_TAG]: 'table', ...def })
}

export function encodeColumnDefinition(def: ColumnDefinition): string {
  return JSON.stringify({ [DEFINITION_TAG]: 'column', ...def })
}

function changeStamps(v: unknown): ChangeStamps {
  const o = asObject(v)
  if (o === null) return {}
  const out: ChangeStamps = {}
  for (const [k, t] of Object.entries(o)) if (typeof t === 'number' && Number.isFinite(t)) out[k] = t
  return out
}

/** Where a table whose catalog row is `name`, at causal length `cl`, keeps its shards and column rows. */
export function tableStorage(name: string, cl: number, def: TableDefinition): { storage: string; incarnation: number } {
  return def.storage !== undefined ? { storage: def.storage[0], incarnation: def.storage[1] } : { storage: name, incarnation: cl }
}

/** The name a table's shards and column rows are stored under. */
export function storageName(info: TableInfo): string {
  return info.storage ?? info.name
}

export function columnCatalogName(table: string, incarnation: number, column: string): string {
  return `${table}\u0000${incarnation}\u0000${column}`
}

export function splitColumnCatalogName(name: string): [table: string, incarnation: number, column: string] | null {
  const a = name.indexOf('\u0000')
  const b = name.indexOf('\u0000', a + 1)
  if (a < 0 || b < 0) return null
  const inc = Number(name.slice(a + 1, b))
  if (!Number.isSafeInteger(inc)) return null
  return [name.slice(0, a), inc, name.slice(b + 1)]
}

function asObject(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
}

/** A JSON object from stored text; null for anything else (never throws). */
function parseJsonObject(text: unknown): Record<string, unknown> | null {
  if (typeof text !== 'string') return null
  try {
    return asObject(JSON.parse(text))
  } catch {
    return null
  }
}

function stringArray(v: unknown): string[] | null {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null
}

/** Parses a stored table definition; null if malformed (a definition from a broken peer is ignored). */
export function parseTableDefinition(text: unknown): TableDefinition | null {
  const o = parseJsonObject(text)
  if (o === null) return null
  const primaryKey = stringArray(o.primaryKey)
  if (primaryKey === null) return null
  const regions = o.regions === null || o.regions === undefined ? null : stringArray(o.regions)
  const options = asObject(o.options) ?? {}
  const part = asObject(o.partitioning)
  return {
    primaryKey,
    policy: parsePolicy(o.policy),
    regions: regions && regions.length > 0 ? regions : null,
    partitioning:
      part && (part.method === 'hash' || part.method === 'range' || part.method === 'list') && stringArray(part.columns)
        ? { method: part.method, columns: stringArray(part.columns)!, meta: (part.meta ?? null) as Json }
        : null,
    options: Object.fromEntries(Object.entries(options).filter(([, v]) => typeof v === 'string')) as Record<string, string>,
    meta: (o.meta ?? null) as Json,
    created: typeof o.created === 'number' && Number.isFinite(o.created) ? o.created : 0,
    changed: changeStamps(o.changed),
    ...(storedAt(o.storage) ?? {}),
  }
}

/** A rename's storage reference; null if absent or malformed. */
function storedAt(v: unknown): { storage: [string, number] } | null {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || v[0].length === 0 || v[0].includes('\u0000')) return null
  return Number.isSafeInteger(v[1]) && (v[1] as number) >= 1 ? { storage: [v[0], v[1] as number] } : null
}

export function parseColumnDefinition(text: unknown): ColumnDefinition | null {
  const o = parseJsonObject(text)
  if (o === null || typeof o.type !== 'string') return null
  const kind = o.kind === 'counter' || o.kind === 'text' ? o.kind : 'register'
  const pos = Array.isArray(o.pos) && o.pos.length === 2 && o.pos.every((x) => typeof x === 'number') ? (o.pos as [number, number]) : [0, 0]
  const def: ColumnDefinition = { type: o.type, kind, policy: parsePolicy(o.policy), meta: (o.meta ?? null) as Json, pos: pos as [number, number], changed: changeStamps(o.changed) }
  if (Array.isArray(o.epochs) && o.epochs.length > 0) {
    // A definition from a broken peer with bad epochs is ignored rather than half-read.
    if (o.epochs.length > MAX_COLUMN_EPOCHS || !o.epochs.every((k) => k === 'register' || k === 'counter')) return null
    def.epochs = o.epochs as ColumnKind[]
  }
  if (typeof o.skey === 'string' && o.skey.length > 0 && !o.skey.includes('\u0000')) def.skey = o.skey
  return def
}

/**
 * Of columns renamed concurrently from one column (they share its entry key), the one
 * renamed last (HLC of the rename, then name) stays; the others are not shown.
 */
function oneColumnPerKey(columns: Array<[string, ColumnDefinition]>): Array<[string, ColumnDefinition]> {
  const winner = new Map<string, [string, ColumnDefinition]>()
  for (const c of columns) {
    if (c[1].skey === undefined) continue
    const w = winner.get(c[1].skey)
    const later = w === undefined || (c[1].changed.name ?? 0) - (w[1].changed.name ?? 0) > 0 || ((c[1].changed.name ?? 0) === (w[1].changed.name ?? 0) && c[0] > w[0])
    if (later) winner.set(c[1].skey, c)
  }
  return columns.filter((c) => c[1].skey === undefined || winner.get(c[1].skey) === c)
}

/** A table's info from its catalog row (`name`, causal length `cl`) and its column rows. */
export function buildTableInfo(name: string, cl: number, def: TableDefinition, columns: Array<[string, ColumnDefinition]>): TableInfo {
  const sorted = oneColumnPerKey(columns).sort((a, b) => a[1].pos[0] - b[1].pos[0] || a[1].pos[1] - b[1].pos[1] || (a[0] < b[0] ? -1 : 1))
  const infos: ColumnInfo[] = sorted.map(([n, c]) => ({ name: n, type: c.type, kind: c.kind, policy: c.policy, meta: c.meta, ...(c.epochs ? { epochs: c.epochs } : {}), ...(c.skey !== undefined ? { skey: c.skey } : {}) }))
  const { storage, incarnation } = tableStorage(name, cl, def)
  return {
    name,
    incarnation,
    ...(storage !== name ? { storage } : {}),
    columns: infos,
    primaryKey: def.primaryKey,
    policy: def.policy,
    regions: def.regions,
    partitioning: def.partitioning,
    options: def.options,
    meta: def.meta,
  }
}
