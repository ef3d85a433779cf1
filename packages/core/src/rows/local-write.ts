/**
 * A local write's writer entry: what one committed transaction makes this node's entry
 * for one live row. Each column write supersedes exactly the other writers' values its
 * writer has seen (`deps`, the multi-value register), setting a counter sets the total
 * (this writer's share is what the others lack), increments add to this writer's share,
 * and a text column records only that it is set (its content is the Y.Text). Within one
 * life of the row the writer keeps its earlier values and its birth time.
 */
import { encodeEntryHead, encodeFreshColumn, type ColumnWrite, type WriterEntry } from '../codec/writer-entry.js'
import type { TableView } from '../catalog/table-view.js'
import { assert } from '../errors/assert.js'
import { hasEpochs, writeKey } from '../merge/column-epochs.js'
import { addCounter, subtractCounter, sumCounter } from '../merge/counter.js'
import type { ResolverLookup } from '../merge/policy.js'
import { concurrentValues } from '../merge/register.js'
import { foldColumn } from './row-resolver.js'
import type { RowWrite } from './row-write.js'

/** What building the entry needs from the shard (one object per shard: nothing allocated per write). */
export interface LocalWriteContext {
  resolvers: ResolverLookup
  /** Every entry of the row's current life, `writer`'s (`own`) included: a counter with epochs folds them into its base. */
  visible(rowKey: string, writer: string, own: WriterEntry | null): Array<[string, WriterEntry]>
  /** Edits the Y.Text of a text column of the row in life `cl` to `text` (merge/text.ts). */
  setText(rowKey: string, skey: string, cl: number, text: string): void
}

/**
 * The entry `writer` writes for live row `rowKey` in life `cl` (`sameLife`: the row was
 * live in that life before): `own` is its entry of this life if it has one, and is
 * updated in place; `others` the other writers' entries of this life it sees (none when
 * the write starts a new life).
 */
export function localEntry(
  view: TableView,
  write: RowWrite,
  rowKey: string,
  writer: string,
  hlc: number,
  cl: number,
  sameLife: boolean,
  own: WriterEntry | null,
  others: Array<[string, WriterEntry]>,
  ctx: LocalWriteContext,
): WriterEntry {
  // Still the same life of the row for this writer: it keeps its birth time.
  const born = own === null ? hlc : own.born ?? own.hlc
  const cols = own !== null ? own.cols : new Map<string, ColumnWrite>()
  write.cols.forEach((value, name) => {
    const col = view.columns.get(name)
    if (col === undefined) return
    const stored = view.storageKeys.get(name) ?? name
    const skey = writeKey(col, stored)
    if (col.kind === 'counter') {
      // Setting a counter sets the total: this writer's share is what the rest lacks.
      let rest = sumCounter(others, skey)
      if (hasEpochs(col) && sameLife) rest = addCounter(rest, foldColumn(col, stored, ctx.visible(rowKey, writer, own), view, col.epochs!.length - 1, ctx.resolvers))
      cols.set(skey, { value: subtractCounter(value, rest), hlc, deps: null })
      return
    }
    // The values of the others this write has seen: it supersedes them.
    const seen = others.length === 0 ? null : concurrentValues(others, skey)
    const deps = seen === null || seen.length === 0 ? null : seen.map((c) => [c.writer, c.hlc] as const)
    if (col.kind === 'text') {
      if (value !== null) ctx.setText(rowKey, skey, cl, String(value))
      cols.set(skey, { value: value === null ? null : 1, hlc, deps })
    } else {
      cols.set(skey, write.dflt?.has(name) === true ? { value, hlc, deps, dflt: true } : { value, hlc, deps })
    }
  })
  for (const [name, delta] of write.incr) {
    const col = view.columns.get(name)
    const stored = view.storageKeys.get(name) ?? name
    const skey = col === undefined ? stored : writeKey(col, stored)
    const mine = cols.get(skey)?.value ?? 0
    cols.set(skey, { value: addCounter(mine, delta), hlc, deps: null })
  }
  return { cl, hlc, born, cols }
}

/**
 * What `encodeEntry(localEntry(..))` gives for a write that starts `writer`'s entry of a
 * row of a plain table (no counter or text column, no epochs: `view.special` false) in
 * life `cl`, with no entry of its own in that life, no other writer's and no increments:
 * every column written at the entry's time, superseding nothing. Made without the entry's
 * objects (a map and a record per column), which a bulk INSERT built for every row only
 * to encode them.
 */
export function freshEntryText(view: TableView, write: RowWrite, cl: number, hlc: number): string {
  assert(!view.special && write.incr.size === 0, 'a fresh entry is for a plain row without increments')
  assert(cl >= 0 && Number.isSafeInteger(cl) && hlc >= 0 && Number.isSafeInteger(hlc), 'an entry has a causal length and a timestamp')
  let out = encodeEntryHead(cl, hlc, hlc)
  const dflt = write.dflt
  for (const name of write.cols.keys()) {
    if (!view.columns.has(name)) continue
    out += encodeFreshColumn(view.storageKeys.get(name) ?? name, write.cols.get(name)!, dflt !== undefined && dflt.has(name))
  }
  return out
}
