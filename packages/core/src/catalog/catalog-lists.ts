/**
 * Catalog objects of a kind, listed once per catalog version. Listing scans the whole
 * catalog table and parses every value of the kind; the housekeeper lists the members
 * every round on every node, which in a cluster of a thousand members made that scan the
 * largest cost of an idle round (issue 20). The catalog's version moves on every change
 * of its rows, so a list kept for the current version is exact.
 *
 * One scan serves every kind (placement's caches read members, join records and marks at
 * each version: three scans a cache before), and a value whose text did not change since
 * the last scan is not parsed again: while a large cluster starts, the catalog moves once
 * per member joining, and each node re-listed and re-parsed every member each time
 * (a 200-peer profile: 330 s of 645 in those scans).
 *
 * Invariants: a list is handed out as a fresh array, but its values are shared between
 * calls: callers only read them. Rows without a string name and value, or whose value is
 * not JSON, are left out (a malformed object from a broken peer is skipped, not fatal).
 */
import type { Json } from '../types.js'

/** A catalog row as the catalog table holds it. */
export interface CatalogRow {
  readonly [column: string]: unknown
}

export class CatalogLists {
  private readonly version: () => number
  private readonly rows: () => Iterable<CatalogRow>
  private scanned = -1
  /** Per kind, for the scanned version: its objects (sorted by name once asked for). */
  private byKind = new Map<string, { list: Array<[string, Json]>; sorted: boolean }>()
  /** Per kind U+0000 name: the value text last parsed and what it parsed to. */
  private parsed = new Map<string, { text: string; value: Json }>()

  constructor(version: () => number, rows: () => Iterable<CatalogRow>) {
    this.version = version
    this.rows = rows
  }

  private scan(): void {
    const byKind = new Map<string, { list: Array<[string, Json]>; sorted: boolean }>()
    const parsed = new Map<string, { text: string; value: Json }>()
    for (const row of this.rows()) {
      const { kind, name, value: text } = row
      if (typeof kind !== 'string' || typeof name !== 'string' || typeof text !== 'string') continue
      const key = `${kind}\u0000${name}`
      let p = this.parsed.get(key)
      if (p === undefined || p.text !== text) {
        try {
          p = { text, value: JSON.parse(text) as Json }
        } catch {
          continue
        }
      }
      parsed.set(key, p)
      let k = byKind.get(kind)
      if (k === undefined) {
        k = { list: [], sorted: false }
        byKind.set(kind, k)
      }
      k.list.push([name, p.value])
    }
    this.byKind = byKind
    this.parsed = parsed
  }

  /** The catalog objects of `kind`, sorted by name, as `Replica.listCatalog` gives them. */
  list(kind: string): Array<[string, Json]> {
    const version = this.version()
    if (version !== this.scanned) {
      this.scan()
      this.scanned = version
    }
    const k = this.byKind.get(kind)
    if (k === undefined) return []
    if (!k.sorted) {
      k.list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      k.sorted = true
    }
    return k.list.slice()
  }
}
