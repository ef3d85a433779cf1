/**
 * Values by exact text in a table of fixed size, each text in the one slot a hash of it
 * names (direct-mapped: a text evicts whatever its slot held). A lookup is the hash, over
 * characters already in the processor's cache, and one slot read; a Map's lookup, an
 * insert and an exact LRU's upkeep were each several reads of memory the rest of the
 * statement's work had evicted: the parse cache's three Map operations per statement
 * were ~3.5 µs of a node's ~50 µs turn for a pgbench SELECT (each text a new one).
 *
 * A slot also holds a mark of the last text seen there without a value (`markSeen`): its
 * hash, not the text. A cache whose values are worth keeping only for texts that come
 * again (parse.ts) marks a text the first time and stores its value the second. Holding
 * the one-off texts themselves kept each alive until its slot was taken, ~1,000
 * statements, long enough for V8 to move it to its old generation: every pgbench SELECT's
 * text was promoted (0.75% of the bytes a statement allocates surviving young
 * collections, each collection's pause and the old generation's growth following them).
 *
 * Invariants: a slot holds a text and its value or neither; `get` answers only for the
 * very text stored (a hash collision is a miss, never another text's value). A mark is a
 * hint: a collision makes `seen` true for a text never seen, so its value is stored at
 * its first sight, as it would be at its second.
 */
export class TextCache<V> {
  private readonly texts: Array<string | undefined>
  private readonly values: Array<V | undefined>
  private readonly marks: Uint32Array
  private readonly mask: number

  /** `slots` is rounded up to a power of two. */
  constructor(slots: number) {
    let n = 1
    while (n < slots) n *= 2
    this.mask = n - 1
    this.texts = new Array<string | undefined>(n).fill(undefined)
    this.values = new Array<V | undefined>(n).fill(undefined)
    this.marks = new Uint32Array(n)
  }

  /** The slot of a text whose hash (`hashText`) is `hash`, for `get`, `set`, `seen` and `markSeen`. */
  slotOf(hash: number): number {
    return hash & this.mask
  }

  get(slot: number, text: string): V | undefined {
    return this.texts[slot] === text ? this.values[slot] : undefined
  }

  set(slot: number, text: string, value: V): void {
    this.texts[slot] = text
    this.values[slot] = value
  }

  /** Whether the last text marked in `slot` had this hash. */
  seen(slot: number, hash: number): boolean {
    return this.marks[slot] === hash
  }

  /** Marks the text of this hash as seen in `slot` (replacing the slot's mark; its value, if any, stays). */
  markSeen(slot: number, hash: number): void {
    this.marks[slot] = hash
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
