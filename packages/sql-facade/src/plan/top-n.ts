/**
 * ORDER BY .. LIMIT k without sorting every row: the first k rows of a stream in sort
 * order, kept in a bounded heap (O(n log k) comparisons, k rows held), as PostgreSQL's
 * top-N heapsort does. Rows that compare equal keep the order they arrived in, so the
 * answer is exactly what a stable sort of all the rows, sliced, gives
 * (docs/decisions/0041-key-order-and-top-n.md).
 *
 * Invariant: `heap` is a max-heap under (comparison, arrival): its root is the row that
 * sorts last among those kept, the one a better row replaces.
 */
import type { RtValue } from '../types/value.js'

/** Compares two rows' ORDER BY keys (negative: `a` sorts first). */
export type KeyOrder = (a: readonly RtValue[], b: readonly RtValue[]) => number

interface Kept<T> {
  item: T
  keys: readonly RtValue[]
  seq: number
}

export class TopN<T> {
  private readonly heap: Array<Kept<T>> = []
  private seq = 0
  private readonly k: number
  private readonly order: KeyOrder

  constructor(k: number, order: KeyOrder) {
    this.k = k
    this.order = order
  }

  /** How many rows are kept now (at most k). */
  get size(): number {
    return this.heap.length
  }

  /** Whether a row with these keys, offered now, would be kept: callers skip building rows that would not. */
  admits(keys: readonly RtValue[]): boolean {
    if (this.heap.length < this.k) return true
    // A later row that only ties the last one kept sorts after it (arrival order).
    return this.k > 0 && this.order(keys, this.heap[0]!.keys) < 0
  }

  /** Offers a row; true when it is kept (for now: a better row may push it out later). */
  offer(item: T, keys: readonly RtValue[]): boolean {
    if (!this.admits(keys)) {
      this.seq++
      return false
    }
    const kept: Kept<T> = { item, keys, seq: this.seq++ }
    const heap = this.heap
    if (heap.length < this.k) {
      heap.push(kept)
      this.up(heap.length - 1)
    } else {
      heap[0] = kept
      this.down(0)
    }
    return true
  }

  /** The kept rows in sort order (ties in arrival order). */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => this.compare(a, b)).map((x) => x.item)
  }

  private compare(a: Kept<T>, b: Kept<T>): number {
    return this.order(a.keys, b.keys) || a.seq - b.seq
  }

  private up(i: number): void {
    const heap = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.compare(heap[i]!, heap[parent]!) <= 0) return
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  private down(i: number): void {
    const heap = this.heap
    const n = heap.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let worst = i
      if (l < n && this.compare(heap[l]!, heap[worst]!) > 0) worst = l
      if (r < n && this.compare(heap[r]!, heap[worst]!) > 0) worst = r
      if (worst === i) return
      ;[heap[i], heap[worst]] = [heap[worst]!, heap[i]!]
      i = worst
    }
  }
}
