/**
 * Catalog objects of a kind, listed once per catalog version. Listing scans the whole
 * catalog table and parses every value of the kind; the housekeeper lists the members
 * every round on every node, which in a cluster of a thousand members made that scan the
 * largest cost of an idle round (issue 20). The catalog's version moves on every change
 * of its rows, so a list kept for the current version is exact.
 *
 * Invariants: a list is handed out as a fresh array, but its values are shared between
 * calls: callers only read them. One entry per kind asked for (a handful of kinds).
 */
import type { Json } from '../types.js'

export class CatalogLists {
  private readonly version: () => number
  private readonly load: (kind: string) => Array<[string, Json]>
  private readonly byKind = new Map<string, { version: number; list: Array<[string, Json]> }>()

  constructor(version: () => number, load: (kind: string) => Array<[string, Json]>) {
    this.version = version
    this.load = load
  }

  /** The catalog objects of `kind`, sorted by name, as `Replica.listCatalog` gives them. */
  list(kind: string): Array<[string, Json]> {
    const version = this.version()
    let kept = this.byKind.get(kind)
    if (kept === undefined || kept.version !== version) {
      kept = { version, list: this.load(kind) }
      this.byKind.set(kind, kept)
    }
    return kept.list.slice()
  }
}
