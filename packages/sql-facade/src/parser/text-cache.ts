/**
 * Values by exact text in a table of fixed size, each text in the one slot a hash of it
 * names (direct-mapped: a text evicts whatever its slot held). A lookup is the hash, over
 * characters already in the processor's cache, and one slot read; a Map's lookup, an
 * insert and an exact LRU's upkeep were each several reads of memory the rest of the
 * statement's work had evicted: the parse cache's three Map operations per statement
 * were ~3.5 µs of a node's ~50 µs turn for a pgbench SELECT (each text a new one).
 *
 * Invariant: a slot holds a text and its value or neither; `get` answers only for the
 * very text stored (a hash collision is a miss, never another text's value).
 */
export class TextCache<V> {
  private readonly texts: Array<string | undefined>
  private readonly values: Array<V | undefined>
  private readonly mask: number

  /** `slots` is rounded up to a power of two. */
  constructor(slots: number) {
    let n = 1
    while (n < slots) n *= 2
    this.mask = n - 1
    this.texts = new Array<string | undefined>(n).fill(undefined)
    this.values = new Array<V | undefined>(n).fill(undefined)
  }

  /** The slot `text` lives in, for `get` and `set`. */
  slotOf(text: string): number {
    return hashText(text) & this.mask
  }

  get(slot: number, text: string): V | undefined {
    return this.texts[slot] === text ? this.values[slot] : undefined
  }

  set(slot: number, text: string, value: V): void {
    this.texts[slot] = text
    this.values[slot] = value
  }
}

/** Characters hashed from each end of a long text (with its length): two texts alike there share a slot. */
const HASHED_END = 256

/** FNV-1a over the text's UTF-16 code units (over its ends and length, past 2 x HASHED_END). */
export function hashText(text: string): number {
  let h = 0x811c9dc5
  const n = text.length
  if (n <= 2 * HASHED_END) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
    return h >>> 0
  }
  for (let i = 0; i < HASHED_END; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  for (let i = n - HASHED_END; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return Math.imul(h ^ n, 0x01000193) >>> 0
}
