/**
 * A look at LMDB's own file before LMDB maps it. LMDB trusts its file: a zeroed first
 * meta page ends the process with SIGSEGV, a file shorter than its meta page says with
 * SIGBUS, inside the native binding, with no message (issue 15). So before `open`, the
 * node reads the two meta pages itself and refuses, naming the file, when:
 * - the file is shorter than two pages, or meta page 0 does not carry LMDB's magic (it is
 *   what LMDB reads first: zeroed or overwritten, it crashes even when page 1 is whole);
 * - the page size it records is not a power of two between 512 and 65536;
 * - the file ends before the last page the newest valid meta page says is in use.
 *
 * Layout (the one lmdb-js 3.x writes, data format version 2, little-endian; read from
 * real files by lmdb-integrity.test.ts, so an upgrade that moves it fails there): a page
 * header of 24 bytes, then the meta: magic u32 0xBEEFC0DE at 0x18, version u32 at 0x1c,
 * the free-list database whose first field (0x30) holds the page size, the last page in
 * use u64 at 0x90 and the transaction id u64 at 0x98. A meta page of another version is
 * not judged beyond its magic. Then the B-trees the newest meta page roots are walked
 * (lmdb-tree-check.ts); records' checksums find what reaches a value (core's
 * codec/checked-record.ts).
 */
import { CorruptRecordError } from '@concord/core'
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { LmdbTreeDamage, checkLmdbTrees } from './lmdb-tree-check.js'

const MAGIC = 0xbeefc0de
const KNOWN_VERSION = 2
const AT_MAGIC = 0x18
const AT_VERSION = 0x1c
const AT_PAGE_SIZE = 0x30
const AT_LAST_PAGE = 0x90
const AT_TXNID = 0x98
const META_BYTES = 0xa0

interface Meta {
  version: number
  lastPage: number
  txnid: number
}

/**
 * Throws a CorruptRecordError naming `file` when LMDB would crash on it; a missing file is
 * fine (a new store). Returns the branch and leaf pages its trees were read from (none for
 * a new store or a format it does not judge).
 */
export function checkLmdbFile(file: string, remedy: string): number[] {
  let size: number
  try {
    size = statSync(file).size
  } catch {
    return []
  }
  const refuse = (what: string): never => {
    throw new CorruptRecordError(`${file} is damaged: ${what}. ${remedy}`)
  }
  if (size < 2 * 512) refuse(`it holds ${size} bytes, less than LMDB's two meta pages`)
  const fd = openSync(file, 'r')
  let tree: { pageSize: number; at: number; lastPage: number }
  try {
    const first = readMeta(fd, 0)
    if (first === null) refuse('meta page 0 does not carry LMDB\'s magic number (zeroed or overwritten)')
    if (first!.version !== KNOWN_VERSION) return []
    const pageSize = readU32(fd, AT_PAGE_SIZE)
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) refuse(`meta page 0 records a page size of ${pageSize}`)
    if (size < 2 * pageSize) refuse(`it holds ${size} bytes, less than two pages of ${pageSize}`)
    const second = readMeta(fd, pageSize)
    const newestAt = second !== null && second.version === KNOWN_VERSION && second.txnid > first!.txnid ? pageSize : 0
    const newest = newestAt === 0 ? first! : second!
    const needed = (newest.lastPage + 1) * pageSize
    if (size < needed) refuse(`it holds ${size} bytes but its pages in use end at byte ${needed} (truncated)`)
    tree = { pageSize, at: newestAt, lastPage: newest.lastPage }
  } finally {
    closeSync(fd)
  }
  try {
    return checkLmdbTrees(file, tree.pageSize, tree.at, tree.lastPage)
  } catch (e) {
    if (e instanceof LmdbTreeDamage) refuse(e.message)
    throw e
  }
}

function readMeta(fd: number, at: number): Meta | null {
  const b = Buffer.alloc(META_BYTES)
  if (readSync(fd, b, 0, META_BYTES, at) < META_BYTES) return null
  if (b.readUInt32LE(AT_MAGIC) !== MAGIC) return null
  return { version: b.readUInt32LE(AT_VERSION), lastPage: Number(b.readBigUInt64LE(AT_LAST_PAGE)), txnid: Number(b.readBigUInt64LE(AT_TXNID)) }
}

function readU32(fd: number, at: number): number {
  const b = Buffer.alloc(4)
  readSync(fd, b, 0, 4, at)
  return b.readUInt32LE(0)
}
