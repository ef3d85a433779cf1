/**
 * Catalog objects by kind, kept up to date from the catalog's changed rows. The
 * housekeeper lists the members every round on every node, and placement's caches read
 * members, join records and join marks after every catalog change; while a large cluster
 * starts the catalog moves about three times per member joining, so a listing that
 * scanned the catalog made each node's start O(n^2) and the cluster's O(n^3) (issue 20:
 * 330 s of a 645 s 200-peer run were those scans; after one shared scan per version,
 * still 7 of 28 s at 100 peers).
 *
 * So the lists are fed: `note` applies a batch of changed catalog rows (before the
 * catalog's version moves for it), touching only the objects and kinds they name. Each
 * kind has its own version, moved when an object of the kind changes, so a cache built
 * from some kinds is rebuilt only when one of them moved, and `get` / `entries` read one
 * object or a kind's objects without copying. The whole catalog is scanned only when the
 * lists are out of step with the catalog's version (first use, or a change that did not
 * come through `note`), which makes a missed feed cost a scan, never a stale list.
 *
 * Invariants: values are shared between calls: callers only read them. Rows without a
 * string kind, name and value, or whose value is not JSON, are left out (a malformed
 * object from a broken peer is skipped, not fatal). Kind versions only grow, and every
 * kind's moves on a scan, so a sum of kind versions moves whenever one of them does.
 */
import type { Json, RowChange } from '../types.js'

/** A catalog row as the catalog table holds it. */
export interface CatalogRow {
  readonly [column: string]: unknown
}

interface KindObjects {
  /** name -> the value text and what it parsed to. */
  readonly objects: Map<string, { text: string; value: Json }>
  version: number
  /** The objects sorted by name, for the current version (null: sort on the next `list`). */
  sorted: Array<[string, Json]> | null
}

export class CatalogLists {
  private readonly catalogVersion: () => number
  private readonly rows: () => Iterable<CatalogRow>
  /** The catalog version the lists match (-1: never scanned). */
  private synced = -1
  /** `note` applied a batch whose version bump has not been seen yet. */
  private noted = false
  private readonly kinds = new Map<string, KindObjects>()
  /** Source of kind versions: every move takes the next value. */
  private moves = 0

  constructor(catalogVersion: () => number, rows: () => Iterable<CatalogRow>) {
    this.catalogVersion = catalogVersion
    this.rows = rows
  }

  private kind(kind: string): KindObjects {
    let k = this.kinds.get(kind)
    if (k === undefined) {
      k = { objects: new Map(), version: 0, sorted: null }
      this.kinds.set(kind, k)
    }
    return k
  }

  private moved(k: KindObjects): void {
    k.version = ++this.moves
    k.sorted = null
  }

  /** Sets (or, for a row that is gone or malformed, removes) one object; true when the lists changed. */
  private put(kind: string, name: string, text: unknown): boolean {
    const k = this.kind(kind)
    const had = k.objects.get(name)
    if (typeof text === 'string') {
      if (had !== undefined && had.text === text) return false
      try {
        k.objects.set(name, { text, value: JSON.parse(text) as Json })
        return true
      } catch {
        // Not JSON: left out, as a scan leaves it out.
      }
    }
    return k.objects.delete(name)
  }

  private scan(): void {
    const seen = new Map<string, Set<string>>()
    for (const row of this.rows()) {
      const { kind, name, value } = row
      if (typeof kind !== 'string' || typeof name !== 'string' || typeof value !== 'string') continue
      this.put(kind, name, value)
      let names = seen.get(kind)
      if (names === undefined) {
        names = new Set()
        seen.set(kind, names)
      }
      names.add(name)
    }
    for (const [kind, k] of this.kinds) {
      const names = seen.get(kind)
      for (const name of [...k.objects.keys()]) if (names === undefined || !names.has(name)) k.objects.delete(name)
      this.moved(k)
    }
  }

  /**
   * Catalog rows changed (they are in the catalog shard already; its version moves next,
   * once per batch). Lists out of step with the catalog are scanned first, which already
   * shows these rows.
   */
  note(changes: readonly RowChange[]): void {
    this.sync()
    for (const c of changes) {
      const row = c.after ?? c.before
      if (row === null) continue
      const { kind, name } = row
      if (typeof kind !== 'string' || typeof name !== 'string') continue
      // A row whose key changed kind or name (the catalog never does this) is left to a scan.
      if (c.before !== null && c.after !== null && (c.before.kind !== kind || c.before.name !== name)) {
        this.synced = -1
        this.noted = false
        return
      }
      if (this.put(kind, name, c.after === null ? undefined : c.after.value)) this.moved(this.kind(kind))
    }
    this.noted = true
  }

  private sync(): void {
    const v = this.catalogVersion()
    if (v === this.synced) return
    if (!(this.noted && v === this.synced + 1)) this.scan()
    this.synced = v
    this.noted = false
  }

  /** Moves whenever an object of `kind` is set, changed or removed. */
  version(kind: string): number {
    this.sync()
    return this.kind(kind).version
  }

  /** One catalog object; undefined when absent or malformed. */
  get(kind: string, name: string): Json | undefined {
    this.sync()
    return this.kinds.get(kind)?.objects.get(name)?.value
  }

  /** The objects of `kind`, in no particular order, without copying (do not change the catalog while iterating). */
  *entries(kind: string): Iterable<[string, Json]> {
    this.sync()
    const k = this.kinds.get(kind)
    if (k === undefined) return
    for (const [name, o] of k.objects) yield [name, o.value]
  }

  /** The catalog objects of `kind`, sorted by name, as `Replica.listCatalog` gives them (a fresh array). */
  list(kind: string): Array<[string, Json]> {
    this.sync()
    const k = this.kinds.get(kind)
    if (k === undefined) return []
    if (k.sorted === null) {
      k.sorted = [...k.objects].map(([name, o]): [string, Json] => [name, o.value])
      k.sorted.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    }
    return k.sorted.slice()
  }
}
