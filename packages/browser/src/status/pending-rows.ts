/**
 * The rows this replica changed that no peer has confirmed yet, by table: what an app
 * marks as "pending" next to a row. Filled from local change events, emptied when the
 * connection monitor reaches `online` (every shard confirmed on a peer).
 *
 * Invariants: at most MAX_PENDING_ROWS keys are remembered; past that `overflow` is set
 * and `has` cannot tell (the count in the monitor stays exact). The encoding is a small
 * versioned JSON document, decoded defensively (wrong shape: nothing pending).
 */

export const MAX_PENDING_ROWS = 10_000
const FORMAT_VERSION = 1

export class PendingRows {
  private readonly byTable = new Map<string, Set<string>>()
  private count = 0
  overflow = false

  get size(): number {
    return this.count
  }

  add(table: string, key: string): boolean {
    let keys = this.byTable.get(table)
    if (keys?.has(key)) return false
    if (this.count >= MAX_PENDING_ROWS) {
      this.overflow = true
      return false
    }
    if (!keys) this.byTable.set(table, (keys = new Set()))
    keys.add(key)
    this.count++
    return true
  }

  has(table: string, key: string): boolean {
    return this.byTable.get(table)?.has(key) === true
  }

  /** The pending keys of `table` (core's row keys: `String(pk)` of a one-column key). */
  keys(table: string): ReadonlySet<string> {
    return this.byTable.get(table) ?? EMPTY
  }

  clear(): void {
    this.byTable.clear()
    this.count = 0
    this.overflow = false
  }

  encode(): Uint8Array {
    const tables: Record<string, string[]> = {}
    for (const [t, keys] of this.byTable) tables[t] = [...keys]
    return new TextEncoder().encode(JSON.stringify({ v: FORMAT_VERSION, overflow: this.overflow, tables }))
  }

  static decode(bytes: Uint8Array | undefined): PendingRows {
    const out = new PendingRows()
    if (!bytes) return out
    let doc: unknown
    try {
      doc = JSON.parse(new TextDecoder().decode(bytes))
    } catch {
      return out
    }
    if (!isRecord(doc) || doc['v'] !== FORMAT_VERSION || !isRecord(doc['tables'])) return out
    for (const [table, keys] of Object.entries(doc['tables'])) {
      if (!Array.isArray(keys)) continue
      for (const k of keys) if (typeof k === 'string') out.add(table, k)
    }
    if (doc['overflow'] === true) out.overflow = true
    return out
  }
}

const EMPTY: ReadonlySet<string> = new Set()

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
