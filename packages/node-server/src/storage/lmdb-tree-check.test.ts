/**
 * The walk of LMDB's B-trees before LMDB maps the file (lmdb-tree-check.ts, issue 15):
 * stores of the shapes LmdbStorage writes pass it, and each kind of damage to a branch or
 * leaf page that LMDB would crash on, fail on with an error naming nothing, or read over
 * is refused with a CorruptRecordError naming the file and the page. The damage is made
 * with the file's own layout (read back here from real files), as a bad sector or a stray
 * write would leave it; the random kind is the lmdb-pages fuzz campaign.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CorruptRecordError, type StoredRecord } from '@concord/core'
import { checkLmdbFile } from './lmdb-file-check.js'
import { LmdbStorage } from './lmdb-storage.js'

const PAGE = 4096
const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const record = (size: number, fill: number): StoredRecord => ({ generation: 0, kind: 'update', data: new Uint8Array(size).fill(fill) })

/** A store with branch pages, values on overflow pages and a free list; returns its directory. */
async function store(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-lmdb-tree-'))
  dirs.push(dir)
  const s = new LmdbStorage({ path: dir, durable: false })
  for (let i = 0; i < 400; i++) await s.append([{ shard: `s${i % 4}`, record: record(60 + (i % 50), i & 0xff) }])
  for (let i = 0; i < 3; i++) await s.append([{ shard: 'big', record: record(9_000 * (i + 1), i) }])
  await s.compact('s1', { generation: 1, kind: 'snapshot', data: new Uint8Array(100) })
  await s.close()
  return dir
}

interface Node {
  /** Byte offset of the node in its page. */
  at: number
  flags: number
  keySize: number
  /** Data size (leaf) or the low 32 bits of the child's page number (branch). */
  size: number
}

interface Page {
  pgno: number
  flags: number
  lower: number
  upper: number
  nodes: Node[]
}

/** The page `pgno` of the store in `dir`, as the file holds it. */
function page(dir: string, pgno: number): Page {
  const b = Buffer.alloc(PAGE)
  const fd = openSync(join(dir, 'data.mdb'), 'r')
  readSync(fd, b, 0, PAGE, pgno * PAGE)
  closeSync(fd)
  const lower = b.readUInt16LE(0x14)
  const nodes = [...Array(lower >> 1).keys()].map((i) => {
    const at = 24 + b.readUInt16LE(24 + 2 * i)
    return { at, size: b.readUInt16LE(at) + b.readUInt16LE(at + 2) * 65536, flags: b.readUInt16LE(at + 4), keySize: b.readUInt16LE(at + 6) }
  })
  return { pgno, flags: b.readUInt16LE(0x12), lower, upper: b.readUInt16LE(0x16), nodes }
}

/** Writes `bytes` at byte `offset` of page `pgno` (pgno 0 and 1: the meta pages). */
function poke(dir: string, pgno: number, offset: number, bytes: Buffer): void {
  const fd = openSync(join(dir, 'data.mdb'), 'r+')
  writeSync(fd, bytes, 0, bytes.length, pgno * PAGE + offset)
  closeSync(fd)
}

const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(v)
  return b
}
const u64 = (v: number): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(v))
  return b
}

/** The newest meta page (0 or 1) and the u64 at `offset` of it. */
function meta(dir: string, offset: number): { pgno: number; value: number } {
  const fd = openSync(join(dir, 'data.mdb'), 'r')
  const read = (at: number): number => {
    const b = Buffer.alloc(8)
    readSync(fd, b, 0, 8, at)
    return Number(b.readBigUInt64LE(0))
  }
  const pgno = read(PAGE + 0x98) > read(0x98) ? 1 : 0
  const value = read(pgno * PAGE + offset)
  closeSync(fd)
  return { pgno, value }
}

const MAIN_ENTRIES = 0x60 + 32
const FREE_ROOT = 0x30 + 40
const MAIN_ROOT = 0x60 + 40

/** What opening the store threw (a CorruptRecordError expected). */
function refusal(dir: string): Error {
  try {
    const s = new LmdbStorage({ path: dir, durable: false })
    void s.close()
  } catch (e) {
    expect(e).toBeInstanceOf(CorruptRecordError)
    expect((e as Error).message).toContain(`${join(dir, 'data.mdb')} is damaged: `)
    return e as Error
  }
  throw new Error('the damaged store opened')
}

/** A branch page and a leaf page of the main database, and a leaf node of each kind. */
function shape(dir: string): { branch: Page; leaf: Page; small: Node; big: { page: Page; node: Node } } {
  const pages = checkLmdbFile(join(dir, 'data.mdb'), '').map((p) => page(dir, p))
  const branch = pages.find((p) => p.flags === 0x01)!
  const leaves = pages.filter((p) => p.flags === 0x02 && p.pgno !== meta(dir, FREE_ROOT).value)
  const leaf = leaves.find((p) => p.nodes.some((n) => n.flags === 0))!
  const bigPage = leaves.find((p) => p.nodes.some((n) => n.flags === 0x01))!
  return { branch, leaf, small: leaf.nodes.find((n) => n.flags === 0)!, big: { page: bigPage, node: bigPage.nodes.find((n) => n.flags === 0x01)! } }
}

describe("LMDB's B-tree pages, walked before LMDB maps the file", () => {
  it('a store of every shape LmdbStorage writes passes, its branch, leaf and free-list pages read', async () => {
    const dir = await store()
    const pages = checkLmdbFile(join(dir, 'data.mdb'), '')
    const kinds = new Set(pages.map((p) => page(dir, p).flags))
    expect(kinds).toEqual(new Set([0x01, 0x02]))
    expect(meta(dir, FREE_ROOT).value, 'a free list').not.toBe(2 ** 64 - 1)
    expect(pages).toContain(meta(dir, FREE_ROOT).value)
    expect(pages).toContain(meta(dir, MAIN_ROOT).value)
    const s = new LmdbStorage({ path: dir, durable: false })
    expect(s.load('big').map((r) => r.data.length)).toEqual([9_000, 18_000, 27_000])
    await s.close()
  })

  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ['a branch node naming a page past the file', (dir) => {
      const { branch } = shape(dir)
      poke(dir, branch.pgno, branch.nodes[1]!.at, Buffer.from([0xf0, 0xff, 0xff, 0x00]))
    }, /page \d+ \(the main database, level 1 of 2\), node 1 names page \d+, outside the pages in use/],
    ['two branch nodes naming the same child', (dir) => {
      const { branch } = shape(dir)
      const b = Buffer.alloc(4)
      const fd = openSync(join(dir, 'data.mdb'), 'r')
      readSync(fd, b, 0, 4, branch.pgno * PAGE + branch.nodes[0]!.at)
      closeSync(fd)
      poke(dir, branch.pgno, branch.nodes[1]!.at, b)
    }, /which is reached twice/],
    ['a page carrying another page number', (dir) => {
      const { leaf } = shape(dir)
      poke(dir, leaf.pgno, 0, u64(leaf.pgno + 1))
    }, /page \d+ \(the main database, level 2 of 2\) carries the number \d+/],
    ['a leaf page marked as a branch page', (dir) => {
      const { leaf } = shape(dir)
      poke(dir, leaf.pgno, 0x12, u16(0x01))
    }, /is marked as a branch page where a leaf page belongs/],
    ["a leaf page's free-space bound past the page", (dir) => {
      const { leaf } = shape(dir)
      poke(dir, leaf.pgno, 0x16, u16(0xfff0))
    }, /has impossible bounds \(lower \d+, upper 65520\)/],
    ["a node pointer below the page's node area", (dir) => {
      const { leaf } = shape(dir)
      poke(dir, leaf.pgno, 24 + 2, u16(leaf.upper - 40))
    }, /node 1 lies outside the page's node area/],
    ["a node's key size past the page", (dir) => {
      const { leaf, small } = shape(dir)
      poke(dir, leaf.pgno, small.at + 6, u16(0xf000))
    }, /key of 61440 bytes runs past the page/],
    ["a node's data size grown over its neighbour", (dir) => {
      const { leaf, small } = shape(dir)
      poke(dir, leaf.pgno, small.at, u16(small.size + 16))
    }, /its nodes overlap|its nodes end at byte|runs past the page/],
    ['an overflow node noting another page count', (dir) => {
      const { big } = shape(dir)
      poke(dir, big.page.pgno, big.node.at + 8 + big.node.keySize + 16, u64(1))
    }, /needs \d+ overflow pages but its node notes 1/],
    ['an overflow node naming a branch or leaf page', (dir) => {
      const { big, leaf } = shape(dir)
      poke(dir, big.page.pgno, big.node.at + 8 + big.node.keySize, u64(leaf.pgno))
    }, /names page \d+, which is reached twice|where an overflow page belongs/],
    ['a free-list entry naming a page past the file', (dir) => {
      const free = page(dir, meta(dir, FREE_ROOT).value)
      const node = free.nodes[0]!
      poke(dir, free.pgno, node.at + 8 + node.keySize + 8, u64(1 << 30))
    }, /the free list names page 1073741824, outside the pages in use/],
    ['a free-list entry counting more pages than it holds', (dir) => {
      const free = page(dir, meta(dir, FREE_ROOT).value)
      const node = free.nodes[0]!
      poke(dir, free.pgno, node.at + 8 + node.keySize, u64(1000))
    }, /a free-list entry counts 1000 pages in room for \d+/],
    ["the meta page's entry count of the main database", (dir) => {
      const m = meta(dir, MAIN_ENTRIES)
      poke(dir, m.pgno, MAIN_ENTRIES, u64(m.value + 1))
    }, /the main database records \d+ entries but holds \d+/],
    ["the meta page's root of the main database past the file", (dir) => {
      const m = meta(dir, MAIN_ROOT)
      poke(dir, m.pgno, MAIN_ROOT, u64(m.value + 100_000))
    }, /the main database's root names page \d+, outside the pages in use/],
  ]
  for (const [what, harm, message] of cases) {
    it(`${what} is refused with a message naming the file and the page`, async () => {
      const dir = await store()
      harm(dir)
      expect(refusal(dir).message).toMatch(message)
    })
  }
})
