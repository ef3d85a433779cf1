/**
 * Finds UNIQUE values that merging made two rows hold. Each node checks UNIQUE
 * constraints against what it holds when it writes; two masters inserting the same
 * unique value while apart both succeed, and once their writes meet, both rows stay
 * (neither write is thrown away). That breaks the constraint visibly, so it is recorded
 * as a conflict of kind `unique` instead of passing unnoticed.
 *
 * Per table with UNIQUE constraints (or unique indexes), a map from each constrained
 * value to the rows holding it, built the first time a change from another node
 * arrives for the table and kept current from every change after (local ones too). A
 * node that only ever writes alone pays nothing. A table without any is remembered as
 * such too, so a change to it costs a map lookup: looking for its constraints again per
 * change (every catalog entry read) took 0.9 s of a new node's catch-up of 100,000 rows.
 *
 * Invariants: NULLs never conflict (as in PostgreSQL); each duplicate is reported once
 * per set of rows holding it; a table's maps are dropped when its definition changes.
 */
import { decodeRowKey, encodeRowKey, type Replica, type Row, type RowChange, type TableInfo, type Value } from '@concord/core'
import { columnMeta, tableMeta } from '../catalog/table-meta.js'
import { keyText, valueText, type ConflictEntry } from './conflict-log.js'

interface Watched {
  columns: string[]
  rows: Map<string, Set<string>>
}

/** Reports remembered per table before the set is cleared (bounded). */
const MAX_REPORTED = 100_000

export class UniqueWatch {
  private readonly tables = new Map<string, { incarnation: number; watched: Watched[] }>()
  private readonly reported = new Set<string>()
  /** How many times a table's constraints were looked up (its first remote change, or after `invalidate`). */
  builds = 0

  private readonly replica: Replica
  private readonly report: (e: ConflictEntry) => void

  constructor(
    replica: Replica,
    report: (e: ConflictEntry) => void,
  ) {
    this.replica = replica
    this.report = report
  }

  /** Forgets every table's maps (a definition or an index changed). */
  invalidate(): void {
    this.tables.clear()
  }

  onChanges(changes: RowChange[]): void {
    for (const c of changes) {
      let state = this.tables.get(c.table)
      const info = this.replica.table(c.table)
      if (info === undefined) continue
      if (state !== undefined && state.incarnation !== info.incarnation) {
        this.tables.delete(c.table)
        state = undefined
      }
      if (state === undefined) {
        if (c.origin !== 'remote') continue
        state = this.build(info)
        this.tables.set(c.table, state)
        // Built from the rows as they are now, this change included.
        for (const w of state.watched) this.check(info, w, c.after)
        continue
      }
      for (const w of state.watched) {
        if (c.before !== null) this.unlink(w, c.before, c.key)
        if (c.after !== null) this.link(w, c.after, c.key)
        if (c.origin === 'remote') this.check(info, w, c.after)
      }
    }
  }

  /** The table's constrained values; `watched` is empty for a table without UNIQUE constraints. */
  private build(info: TableInfo): { incarnation: number; watched: Watched[] } {
    this.builds++
    const sets = tableMeta(info).uniques.map((u) => [...u])
    for (const [, v] of this.replica.listCatalog('index')) {
      const d = v as { table?: unknown; columns?: unknown; unique?: unknown }
      if (d.table === info.name && d.unique === true && Array.isArray(d.columns)) sets.push(d.columns.map(String))
    }
    if (sets.length === 0) return { incarnation: info.incarnation, watched: [] }
    const watched = sets.map((columns) => ({ columns, rows: new Map<string, Set<string>>() }))
    for (const row of this.replica.scan(info.name)) {
      const key = rowKeyOf(info, row)
      for (const w of watched) this.link(w, row, key)
    }
    return { incarnation: info.incarnation, watched }
  }

  private link(w: Watched, row: Row, key: string): void {
    const v = valueKey(w.columns, row)
    if (v === null) return
    let set = w.rows.get(v)
    if (set === undefined) {
      set = new Set()
      w.rows.set(v, set)
    }
    set.add(key)
  }

  private unlink(w: Watched, row: Row, key: string): void {
    const v = valueKey(w.columns, row)
    if (v === null) return
    const set = w.rows.get(v)
    if (set === undefined) return
    set.delete(key)
    if (set.size === 0) w.rows.delete(v)
  }

  private check(info: TableInfo, w: Watched, row: Row | null): void {
    if (row === null) return
    const v = valueKey(w.columns, row)
    if (v === null) return
    const holders = w.rows.get(v)
    if (holders === undefined || holders.size < 2) return
    const keys = [...holders].sort()
    const id = `${info.name}\u0000${w.columns.join(',')}\u0000${v}\u0000${keys.join('\u0001')}`
    if (this.reported.has(id)) return
    if (this.reported.size >= MAX_REPORTED) this.reported.clear()
    this.reported.add(id)
    const pks = keys.map((k) => decodeRowKey(k, info.primaryKey.length))
    const nodes = new Set<string>()
    for (const pk of pks) for (const n of this.replica.rowWriters(info.name, pk)) nodes.add(n)
    const types = w.columns.map((c) => {
      const col = info.columns.find((x) => x.name === c)
      return col === undefined ? null : columnMeta(col).t
    })
    const shown = w.columns.map((c, i) => (types[i] === null ? String(row[c]) : valueText(row[c] ?? null, types[i]!))).join(', ')
    this.report({
      table: info.name,
      key: keyText(info, pks[0]!),
      column: w.columns.join(', '),
      kind: 'unique',
      policy: 'keep_both',
      winningValue: shown,
      winningNode: null,
      losingValues: pks.slice(1).map((pk) => keyText(info, pk)),
      nodes: [...nodes].sort(),
      at: this.replica.now(),
    })
  }
}

function valueKey(columns: string[], row: Row): string | null {
  const vals: Value[] = []
  for (const c of columns) {
    const v = row[c] ?? null
    if (v === null) return null
    vals.push(v)
  }
  return JSON.stringify(vals, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? [...x] : x))
}

function rowKeyOf(info: TableInfo, row: Row): string {
  return encodeRowKey(info.primaryKey.map((c) => row[c] ?? null))
}
