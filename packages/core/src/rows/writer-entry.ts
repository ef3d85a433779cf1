/**
 * A writer entry: what one node has written to one row, stored as the value of the flat
 * key `rowKey + U+0000 + nodeId` in a shard's `rows` map (DESIGN.md decision 3).
 *
 * Only its own node ever writes an entry, so Yjs never sees two concurrent writes to one
 * key and never silently drops one. Concurrency lives inside the values instead:
 *
 *   [cl, hlc, name1, value1, age1, deps1, name2, value2, age2, deps2, ...]
 *
 * - `cl` is the row's causal length as this writer last saw it: odd = live, even =
 *   deleted. Insert into an absent or deleted row and delete of a live row both bump it;
 *   the greatest `cl` among all entries is the row's, and only entries carrying that `cl`
 *   contribute column values. So a delete hides every column write it has seen or that
 *   ran concurrently with it (delete wins over a concurrent update), and a later insert
 *   brings the row back with only the values written after it.
 * - `hlc` is the timestamp of this writer's latest write to the row; each column stores
 *   `age = hlc - columnHlc` (usually 0: one byte instead of nine).
 * - `deps` is null or a flat list `[writer, hlc, ...]` of the other writers' values of
 *   that column this writer had seen when it wrote: those values are superseded. Values
 *   nobody has superseded are concurrent and all survive until a later write
 *   (a multi-value register, DESIGN.md decision 4).
 *
 * Entries arrive from the network: `parseEntry` checks every field and returns null for
 * anything malformed, which then counts as absent rather than crashing materialization.
 */
import type { Value } from '../types.js'

export interface ColumnWrite {
  value: Value
  hlc: number
  /** Other writers' values of this column this write supersedes: writer -> hlc. */
  deps: ReadonlyArray<readonly [string, number]> | null
}

export interface WriterEntry {
  cl: number
  hlc: number
  cols: Map<string, ColumnWrite>
}

const STRIDE = 4

function isValue(v: unknown): v is Value {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'boolean' ||
    v instanceof Uint8Array
  )
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

export function parseEntry(raw: unknown): WriterEntry | null {
  if (!Array.isArray(raw) || raw.length < 2 || (raw.length - 2) % STRIDE !== 0) return null
  const cl = raw[0]
  const hlc = raw[1]
  if (!isCount(cl) || !isCount(hlc)) return null
  const cols = new Map<string, ColumnWrite>()
  for (let i = 2; i < raw.length; i += STRIDE) {
    const name = raw[i]
    const value = raw[i + 1]
    const age = raw[i + 2]
    const rawDeps = raw[i + 3]
    if (typeof name !== 'string' || !isValue(value) || !isCount(age) || age > hlc) return null
    let deps: Array<readonly [string, number]> | null = null
    if (rawDeps !== null) {
      if (!Array.isArray(rawDeps) || rawDeps.length % 2 !== 0) return null
      deps = []
      for (let j = 0; j < rawDeps.length; j += 2) {
        const w = rawDeps[j]
        const t = rawDeps[j + 1]
        if (typeof w !== 'string' || !isCount(t)) return null
        deps.push([w, t])
      }
    }
    cols.set(name, { value, hlc: hlc - age, deps })
  }
  return { cl, hlc, cols }
}

/** The causal length alone, without parsing the columns (hot path of row resolution). */
export function entryCl(raw: unknown): number {
  return Array.isArray(raw) && isCount(raw[0]) ? raw[0] : -1
}

export function encodeEntry(entry: WriterEntry): unknown[] {
  const out: unknown[] = [entry.cl, entry.hlc]
  for (const [name, w] of entry.cols) {
    let deps: unknown[] | null = null
    if (w.deps !== null && w.deps.length > 0) {
      deps = []
      for (const [writer, t] of w.deps) deps.push(writer, t)
    }
    out.push(name, w.value, entry.hlc - w.hlc, deps)
  }
  return out
}
