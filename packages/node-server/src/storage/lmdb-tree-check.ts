/**
 * A walk of LMDB's B-trees before LMDB maps the file (issue 15). LMDB trusts every page it
 * reaches: a branch page naming a child past the file's end, a node whose key runs off its
 * page or an overflow run longer than the file ends the process with SIGSEGV or SIGBUS
 * inside the binding, or LMDB fails with an error that names nothing ("MDB_BAD_TXN",
 * "index points to a 00 page"); a damaged free list hands LMDB pages that are not free.
 * Found by flipping bytes in the B-tree pages of a stopped node's file: of 40 starts, one
 * served and then died of SIGBUS at shutdown and three exited with such errors.
 *
 * So before `open`, the node walks the trees its newest meta page roots (the free list and
 * the main database, and any named database the main one holds), reading each branch and
 * leaf page once and the first page of each overflow run, and refuses when:
 * - a page number is outside 2 .. the last page in use, or a page is reached twice (a
 *   cycle, or two parents);
 * - a page's header does not carry its own number, or its kind is not what its place
 *   needs (branch pages above, leaves at the tree's depth, overflow pages where a node's
 *   data lives on them);
 * - its free-space bounds, a node pointer, or a node's key and data lie outside the page;
 * - an overflow run's page count is not what its node's data size needs;
 * - a tree's page and entry counts differ from those its meta page (or its parent node)
 *   records;
 * - a free-list entry's count runs past its value, or it names a page outside the file.
 *
 * Layout (lmdb-js 3.x's LMDB, data format version 2, little-endian; read from real files
 * by lmdb-integrity.test.ts): a page header of 24 bytes (page number u64, txnid u64, pad
 * u16, flags u16 at 0x12, then lower and upper u16 at 0x14 and 0x16, or an overflow
 * run's page count u32 at 0x14); node pointers u16 from 0x18, each an offset from the end
 * of the header; a node is 8 bytes (data size or child page number lo/hi u16, flags u16,
 * key size u16) and its key and data (or, for data on overflow pages, the run's first
 * page, a txnid and its page count, u64 each). A database record is 48 bytes (pad u32, flags u16,
 * depth u16, branch, leaf and overflow page counts, entries, root: u64 each); the meta
 * page holds the free list's at 0x30 and the main database's at 0x60.
 *
 * Cost: one read per branch and leaf page and per overflow run (not its data): the
 * values themselves are checked by their own checksums when loaded (core's
 * codec/checked-record.ts). Not found: damage inside a value's bytes (the checksums find
 * it) and a page changed into another well-formed page.
 */
import { closeSync, openSync, readSync } from 'node:fs'

const HEADER = 24
const NODE = 8
/** What a node whose data is on overflow pages holds instead: first page, txnid, page count (u64 each). */
const OVERFLOW_NOTE = 24
const DB_RECORD = 48
const FREE_DB_AT = 0x30
const MAIN_DB_AT = 0x60
const NO_PAGE = 2 ** 64 - 1
const P_BRANCH = 0x01
const P_LEAF = 0x02
const P_OVERFLOW = 0x04
const P_LEAF2 = 0x20
/** Flags that say only how LMDB handled a page in memory (loose, kept, dirty overflow). */
const P_ADMIN = 0xe000
const F_BIGDATA = 0x01
const F_SUBDATA = 0x02
const F_DUPDATA = 0x04
const MDB_DUPSORT = 0x04
/** Deeper than any tree of a file LMDB can address (a branch holds at least two children). */
const MAX_DEPTH = 64
/** Named databases walked at most (lmdb-js opens few; a damaged count cannot make it more). */
const MAX_TREES = 1024

export class LmdbTreeDamage extends Error {}

interface Tree {
  name: string
  flags: number
  depth: number
  branchPages: number
  leafPages: number
  overflowPages: number
  entries: number
  root: number
}

const u64 = (b: Buffer, at: number): number => b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 2 ** 32

function treeAt(b: Buffer, at: number, name: string): Tree {
  return {
    name,
    flags: b.readUInt16LE(at + 4),
    depth: b.readUInt16LE(at + 6),
    branchPages: u64(b, at + 8),
    leafPages: u64(b, at + 16),
    overflowPages: u64(b, at + 24),
    entries: u64(b, at + 32),
    root: u64(b, at + 40),
  }
}

/**
 * Walks every tree of the file whose newest meta page starts at `metaAt`, with pages of
 * `pageSize` bytes and `lastPage` the last page in use; throws LmdbTreeDamage saying what
 * is wrong where. The caller has checked the meta pages and the file's length. Returns
 * the branch and leaf pages it read, in the order read.
 */
export function checkLmdbTrees(file: string, pageSize: number, metaAt: number, lastPage: number): number[] {
  const fd = openSync(file, 'r')
  try {
    const walk = new TreeWalk(fd, pageSize, lastPage)
    walk.run(metaAt)
    return walk.read
  } finally {
    closeSync(fd)
  }
}

class TreeWalk {
  private readonly fd: number
  private readonly pageSize: number
  private readonly lastPage: number
  /** One bit per page: reached already. */
  private readonly seen: Uint8Array
  private readonly page: Buffer
  private readonly trees: Tree[] = []
  /** Branch and leaf pages read so far. */
  readonly read: number[] = []
  /** The page being walked: start and end of each node, in pointer order. */
  private readonly extents: number[] = []

  constructor(fd: number, pageSize: number, lastPage: number) {
    this.fd = fd
    this.pageSize = pageSize
    this.lastPage = lastPage
    // Page numbers pass 2^31 in files past 8 TiB: bytes and bits by arithmetic, not 32-bit shifts.
    this.seen = new Uint8Array(Math.floor(lastPage / 8) + 1)
    this.page = Buffer.alloc(pageSize)
  }

  run(metaAt: number): void {
    const meta = Buffer.alloc(MAIN_DB_AT + DB_RECORD)
    this.readAt(meta, metaAt)
    this.trees.push(treeAt(meta, FREE_DB_AT, 'the free list'), treeAt(meta, MAIN_DB_AT, 'the main database'))
    // Named databases are nodes of the main one: walking it appends them.
    for (let i = 0; i < this.trees.length; i++) this.walk(this.trees[i]!, i === 0)
  }

  private fail(what: string): never {
    throw new LmdbTreeDamage(what)
  }

  private readAt(into: Buffer, at: number): void {
    if (readSync(this.fd, into, 0, into.length, at) < into.length) this.fail(`the file ends inside the page at byte ${at}`)
  }

  /** Marks `pgno` reached, refusing a number outside the file or a page reached before. */
  private reach(pgno: number, what: string): void {
    if (!Number.isSafeInteger(pgno) || pgno < 2 || pgno > this.lastPage) {
      this.fail(`${what} names page ${pgno}, outside the pages in use (2 to ${this.lastPage})`)
    }
    const byte = Math.floor(pgno / 8)
    const bit = 1 << (pgno % 8)
    if ((this.seen[byte]! & bit) !== 0) this.fail(`${what} names page ${pgno}, which is reached twice (a cycle, or two parents)`)
    this.seen[byte]! |= bit
  }

  private walk(tree: Tree, isFreeList: boolean): void {
    if (tree.root === NO_PAGE) {
      if (tree.entries !== 0 || tree.depth !== 0) this.fail(`${tree.name} has no root page but records ${tree.entries} entries at depth ${tree.depth}`)
      return
    }
    if (tree.depth < 1 || tree.depth > MAX_DEPTH) this.fail(`${tree.name} records a depth of ${tree.depth}`)
    const found = { branch: 0, leaf: 0, overflow: 0, entries: 0 }
    // Depth-first with an explicit stack: a tree's height is bounded by its depth.
    const stack: Array<{ pgno: number; level: number; from: string }> = [{ pgno: tree.root, level: 1, from: `${tree.name}'s root` }]
    while (stack.length > 0) {
      const { pgno, level, from } = stack.pop()!
      this.reach(pgno, from)
      this.read.push(pgno)
      const p = this.page
      this.readAt(p, pgno * this.pageSize)
      const where = `page ${pgno} (${tree.name}, level ${level} of ${tree.depth})`
      if (u64(p, 0) !== pgno) this.fail(`${where} carries the number ${u64(p, 0)}`)
      const flags = p.readUInt16LE(0x12) & ~P_ADMIN
      const leaf = level === tree.depth
      if (leaf ? flags !== P_LEAF : flags !== P_BRANCH) {
        this.fail(`${where} is marked ${pageKind(flags)} where a ${leaf ? 'leaf' : 'branch'} page belongs`)
      }
      const lower = p.readUInt16LE(0x14)
      const upper = p.readUInt16LE(0x16)
      if (lower % 2 !== 0 || lower > upper || HEADER + upper > this.pageSize || lower === 0) {
        this.fail(`${where} has impossible bounds (lower ${lower}, upper ${upper})`)
      }
      const count = lower >> 1
      if (leaf) found.leaf++
      else found.branch++
      const extents = this.extents
      extents.length = 0
      for (let i = 0; i < count; i++) {
        const ptr = p.readUInt16LE(HEADER + 2 * i)
        const at = HEADER + ptr
        if (ptr < upper || at + NODE > this.pageSize) this.fail(`${where}: node ${i} lies outside the page's node area (offset ${ptr})`)
        const lo = p.readUInt16LE(at)
        const hi = p.readUInt16LE(at + 2)
        const nodeFlags = p.readUInt16LE(at + 4)
        const keySize = p.readUInt16LE(at + 6)
        const keyEnd = at + NODE + keySize
        if (keyEnd > this.pageSize) this.fail(`${where}: node ${i}'s key of ${keySize} bytes runs past the page`)
        if (!leaf) {
          extents.push(at, keyEnd + (keyEnd & 1))
          stack.push({ pgno: lo + hi * 2 ** 16 + nodeFlags * 2 ** 32, level: level + 1, from: `${where}, node ${i}` })
          continue
        }
        found.entries++
        const dataSize = lo + hi * 2 ** 16
        if ((nodeFlags & ~(F_BIGDATA | F_SUBDATA | F_DUPDATA)) !== 0) this.fail(`${where}: node ${i} has unknown flags ${nodeFlags}`)
        if ((nodeFlags & F_DUPDATA) !== 0 && (tree.flags & MDB_DUPSORT) === 0) this.fail(`${where}: node ${i} is marked as holding duplicates in a database without them`)
        if ((nodeFlags & F_BIGDATA) !== 0) {
          if (keyEnd + OVERFLOW_NOTE > this.pageSize) this.fail(`${where}: node ${i}'s overflow note runs past the page`)
          extents.push(at, keyEnd + OVERFLOW_NOTE + (keyEnd & 1))
          found.overflow += this.overflow(u64(p, keyEnd), u64(p, keyEnd + 16), dataSize, `${where}, node ${i}`)
          continue
        }
        if (keyEnd + dataSize > this.pageSize) this.fail(`${where}: node ${i}'s data of ${dataSize} bytes runs past the page`)
        extents.push(at, keyEnd + dataSize + ((keyEnd + dataSize) & 1))
        if ((nodeFlags & F_SUBDATA) !== 0) {
          if (dataSize !== DB_RECORD) this.fail(`${where}: node ${i} names a database in ${dataSize} bytes, not ${DB_RECORD}`)
          if (this.trees.length >= MAX_TREES) this.fail(`the file names more than ${MAX_TREES} databases`)
          this.trees.push(treeAt(p, keyEnd, `the database "${p.toString('latin1', at + NODE, keyEnd)}"`))
        } else if (isFreeList) {
          this.freeEntry(p, keyEnd, dataSize, `${where}, node ${i}`)
        }
      }
      this.packed(upper, where)
    }
    const recorded = { branch: tree.branchPages, leaf: tree.leafPages, overflow: tree.overflowPages, entries: tree.entries }
    for (const k of ['branch', 'leaf', 'overflow', 'entries'] as const) {
      if (found[k] !== recorded[k]) this.fail(`${tree.name} records ${recorded[k]} ${k === 'entries' ? 'entries' : `${k} pages`} but holds ${found[k]}`)
    }
  }

  /**
   * LMDB keeps a page's nodes packed from its end, each starting on an even byte: they
   * must not overlap and must fill the node area exactly (a node whose size grew by a
   * damaged length would otherwise be read over its neighbour, and LMDB's next write to
   * the page moves bytes by those lengths).
   */
  private packed(upper: number, where: string): void {
    const e = this.extents
    const order = [...Array(e.length >> 1).keys()].sort((a, b) => e[2 * a]! - e[2 * b]!)
    let end = HEADER + upper
    for (const n of order) {
      if (e[2 * n]! !== end) this.fail(`${where}: its nodes ${e[2 * n]! < end ? 'overlap' : 'leave a gap'} at byte ${Math.min(end, e[2 * n]!)}`)
      end = e[2 * n + 1]!
    }
    if (end !== this.pageSize) this.fail(`${where}: its nodes end at byte ${end}, not at the end of the page`)
  }

  /** Checks the overflow run a node's data lives on (`noted` pages, its node says); returns its page count. */
  private overflow(pgno: number, noted: number, dataSize: number, from: string): number {
    const pages = Math.floor((HEADER - 1 + dataSize) / this.pageSize) + 1
    if (noted !== pages) this.fail(`${from}: its data of ${dataSize} bytes needs ${pages} overflow pages but its node notes ${noted}`)
    this.reach(pgno, from)
    if (pgno + pages - 1 > this.lastPage) this.fail(`${from}: its data of ${dataSize} bytes on pages ${pgno} to ${pgno + pages - 1} runs past the last page in use (${this.lastPage})`)
    const head = Buffer.alloc(HEADER)
    this.readAt(head, pgno * this.pageSize)
    if (u64(head, 0) !== pgno) this.fail(`overflow page ${pgno} (${from}) carries the number ${u64(head, 0)}`)
    const flags = head.readUInt16LE(0x12) & ~P_ADMIN
    if (flags !== P_OVERFLOW) this.fail(`page ${pgno} (${from}) is marked ${pageKind(flags)} where an overflow page belongs`)
    const run = head.readUInt32LE(0x14)
    if (run !== pages) this.fail(`overflow page ${pgno} (${from}) starts a run of ${run} pages where its data needs ${pages}`)
    for (let q = pgno + 1; q < pgno + pages; q++) this.reach(q, from)
    return pages
  }

  /**
   * A free-list entry: a count, then that many slots, each a page number, a zero (unused),
   * or a negative run length followed by the run's first page number.
   */
  private freeEntry(p: Buffer, at: number, size: number, from: string): void {
    if (size % 8 !== 0 || size < 8) this.fail(`${from}: a free-list entry of ${size} bytes`)
    const slots = size / 8 - 1
    const count = u64(p, at)
    if (count > slots) this.fail(`${from}: a free-list entry counts ${count} pages in room for ${slots}`)
    for (let i = 1; i <= count; i++) {
      const v = p.readBigInt64LE(at + 8 * i)
      if (v === 0n) continue
      let pages = 1
      let first = v
      if (v < 0n) {
        if (i === count) this.fail(`${from}: a free-list run of ${-v} pages has no page number`)
        pages = Number(-v)
        first = p.readBigInt64LE(at + 8 * ++i)
      }
      const start = Number(first)
      if (start < 2 || start + pages - 1 > this.lastPage) {
        this.fail(`${from}: the free list names page${pages > 1 ? 's' : ''} ${start}${pages > 1 ? ` to ${start + pages - 1}` : ''}, outside the pages in use (2 to ${this.lastPage})`)
      }
    }
  }
}

function pageKind(flags: number): string {
  const kinds = [[P_BRANCH, 'branch'], [P_LEAF, 'leaf'], [P_OVERFLOW, 'overflow'], [0x08, 'meta'], [P_LEAF2, 'fixed-size leaf']] as const
  const named = kinds.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name)
  const known = kinds.reduce((a, [b]) => a | b, 0)
  if (named.length === 0 || (flags & ~known) !== 0) return `with flags 0x${flags.toString(16)}`
  return `as a ${named.join(' and ')} page`
}
