/**
 * The conflict history of one node (view `concord_conflicts`), as PGD keeps one: every
 * conflict between masters this node resolved, in SQL terms. Core reports the ones it
 * resolves by merge rule (update_update, insert_insert, delete_update); the SQL layer
 * adds the constraint ones it finds after a merge (unique, foreign_key).
 *
 * Invariants: bounded (`limit` entries, the oldest dropped first; the counts by kind go
 * on counting); values are PostgreSQL text, decoded with the column's type; kept in
 * memory, so a restart begins a new history (what was resolved before is not news).
 */
import type { ConflictKind, ConflictRecord, ConflictValue, Replica, TableInfo, Value } from '@concord/core'
import { columnMeta } from '../catalog/table-meta.js'
import { decodeValue } from '../types/storage-codec.js'
import { T, type SqlType } from '../types/sql-type.js'
import { formatText } from '../types/text-format.js'

/** Entries kept by default. */
export const DEFAULT_CONFLICT_HISTORY = 10_000
/** The most a history may be set to keep. */
export const MAX_CONFLICT_HISTORY = 1_000_000

export interface ConflictEntry {
  table: string
  /** The row's primary key as PostgreSQL prints a row: `(1)`, `(7,"a b")`. */
  key: string
  column: string | null
  kind: ConflictKind
  policy: string
  winningValue: string | null
  winningNode: string | null
  losingValues: Array<string | null>
  /** Every node whose write took part, sorted. */
  nodes: string[]
  /** Wall ms when this node resolved it. */
  at: number
}

export const CONFLICT_KINDS: readonly ConflictKind[] = ['update_update', 'insert_insert', 'delete_update', 'unique', 'foreign_key']

export class ConflictLog {
  private entries: ConflictEntry[] = []
  /** Where the oldest entry is once the ring is full. */
  private head = 0
  private max: number
  /** Conflicts recorded since start, by kind (not bounded by `limit`). */
  readonly counts = new Map<ConflictKind, number>(CONFLICT_KINDS.map((k) => [k, 0]))

  constructor(limit = DEFAULT_CONFLICT_HISTORY) {
    this.max = clampLimit(limit)
  }

  get limit(): number {
    return this.max
  }

  /** Keeps at most `n` entries from now on, dropping the oldest beyond it. */
  setLimit(n: number): void {
    const all = this.list()
    this.max = clampLimit(n)
    this.entries = all.slice(Math.max(0, all.length - this.max))
    this.head = 0
  }

  add(e: ConflictEntry): void {
    this.counts.set(e.kind, (this.counts.get(e.kind) ?? 0) + 1)
    if (this.entries.length < this.max) {
      this.entries.push(e)
      return
    }
    this.entries[this.head] = e
    this.head = (this.head + 1) % this.max
  }

  /** Oldest first. */
  list(): ConflictEntry[] {
    return this.head === 0 ? this.entries.slice() : [...this.entries.slice(this.head), ...this.entries.slice(0, this.head)]
  }

  /** Adds what core resolved, in SQL text. */
  addRecords(replica: Replica, records: ConflictRecord[]): void {
    const now = replica.now()
    for (const r of records) {
      const info = replica.table(r.table)
      const type = info === undefined || r.column === null ? T.text : columnType(info, r.column)
      const text = (v: ConflictValue | null) => (v === null ? null : r.kind === 'delete_update' ? (v.value as string | null) : valueText(v.value, type))
      const nodes = new Set<string>()
      if (r.winner !== null) nodes.add(r.winner.writer)
      for (const l of r.losers) nodes.add(l.writer)
      this.add({
        table: r.table,
        key: info === undefined ? JSON.stringify(r.key.map(String)) : keyText(info, r.key),
        column: r.column,
        kind: r.kind,
        policy: r.policy,
        winningValue: r.kind === 'delete_update' ? null : text(r.winner),
        winningNode: r.winner?.writer ?? null,
        losingValues: r.losers.map(text),
        nodes: [...nodes].sort(),
        at: now,
      })
    }
  }
}

function clampLimit(n: number): number {
  return Math.max(1, Math.min(MAX_CONFLICT_HISTORY, Math.floor(n)))
}

function columnType(info: TableInfo, column: string): SqlType {
  const c = info.columns.find((x) => x.name === column)
  return c === undefined ? T.text : columnMeta(c).t
}

export function valueText(v: Value, type: SqlType): string | null {
  try {
    return formatText(decodeValue(v, type), type)
  } catch {
    return String(v)
  }
}

/** A row's key as PostgreSQL prints a row value. */
export function keyText(info: TableInfo, key: Value[]): string {
  const parts = info.primaryKey.map((c, i) => {
    const t = valueText(key[i] ?? null, columnType(info, c))
    if (t === null) return ''
    return /^[^\s",()\\]+$/.test(t) ? t : `"${t.replace(/(["\\])/g, '\\$1')}"`
  })
  return `(${parts.join(',')})`
}
