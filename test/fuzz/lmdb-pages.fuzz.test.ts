/**
 * Fuzz campaign over LMDB's own pages (issue 15, storage integrity): damage that LMDB
 * would die of with a signal can only be tried in a process of its own. A golden store is
 * written once by LmdbStorage (a tree of several levels, values on overflow pages, a free
 * list from compactions and a removal); each iteration copies it, changes one byte of one
 * of its branch or leaf pages (in the page header, the node pointers or the nodes; a
 * flipped bit or a random byte) and runs lmdb-open.child.ts on the copy, which opens it as
 * a node does, reads every record, writes one and closes.
 *
 * Properties: the child never dies of a signal and never fails with anything but a
 * CorruptRecordError naming the data file; when it opens, it read exactly the golden
 * records. Before lmdb-tree-check.ts, flips in the B-tree pages of a node's file ended it
 * with SIGBUS or SIGABRT or exited with errors naming nothing ("MDB_BAD_TXN").
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, openSync, readSync, rmSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LmdbStorage } from '../../packages/node-server/src/index.js'
import { checkLmdbFile } from '../../packages/node-server/src/storage/lmdb-file-check.js'
import { campaignRandom, fuzzBudget } from './fuzz-budget.js'

const CHILD = fileURLToPath(new URL('./lmdb-open.child.ts', import.meta.url))
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const PAGE = 4096
/** A child that has not answered in this long is killed and counted as a hang. */
const CHILD_TIMEOUT_MS = 60_000

let root: string
let golden: string
let goldenDigest: string
let pages: number[]

interface ChildOutcome {
  signal: string | null
  code: number | null
  answer: { refused?: string; digest?: string; error?: string } | null
}

function runChild(path: string): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const options = { timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL' as const }
    execFile(process.execPath, ['--no-warnings', '--import', TSX, CHILD, path], options, (error, stdout) => {
      const line = stdout.trim().split('\n').pop() ?? ''
      let answer: ChildOutcome['answer'] = null
      try {
        answer = JSON.parse(line) as ChildOutcome['answer']
      } catch {
        answer = null
      }
      const e = error as (NodeJS.ErrnoException & { signal?: string | null; code?: number | string | null }) | null
      resolve({ signal: e?.signal ?? null, code: typeof e?.code === 'number' ? e.code : e === null ? 0 : null, answer })
    })
  })
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'concord-fuzz-lmdb-'))
  golden = join(root, 'golden')
  const s = new LmdbStorage({ path: golden, durable: false })
  const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill)
  // Many small records over a few shards (branch pages above the leaves), some values on
  // overflow pages, and compactions and a removal (a free list).
  for (let i = 0; i < 600; i++) {
    await s.append([{ shard: `s${i % 6}`, record: { generation: 0, kind: 'update', data: bytes(40 + (i % 90), i & 0xff) } }])
  }
  for (let i = 0; i < 8; i++) {
    await s.append([{ shard: `big${i % 2}`, record: { generation: 0, kind: 'update', data: bytes(6_000 + 3_000 * i, i) } }])
  }
  await s.compact('s1', { generation: 1, kind: 'snapshot', data: bytes(3_000, 1) })
  await s.compact('big0', { generation: 1, kind: 'snapshot', data: bytes(9_000, 2) })
  await s.remove('s5')
  await s.close()
  pages = checkLmdbFile(join(golden, 'data.mdb'), '')
  // The child writes to the store it opens: the golden digest comes from a copy too.
  const copy = join(root, 'undamaged')
  cpSync(golden, copy, { recursive: true })
  const first = await runChild(copy)
  rmSync(copy, { recursive: true, force: true })
  expect(first.answer?.digest, JSON.stringify(first)).toBeDefined()
  goldenDigest = first.answer!.digest!
}, 120_000)

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true })
})

describe('fuzz: LMDB pages read at start-up', () => {
  it('a changed byte in a branch or leaf page is refused naming the file, or reads the same records; never a signal', async () => {
    expect(pages.length, 'branch and leaf pages in the golden store').toBeGreaterThan(3)
    const { seeds, iterations } = fuzzBudget(36)
    const outcomes = { refused: 0, same: 0, wrong: 0 }
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'lmdb-pages')
      for (let i = 0; i < iterations; i++) {
        const path = join(root, `s${seed}-${i}`)
        cpSync(golden, path, { recursive: true })
        const file = join(path, 'data.mdb')
        const page = rng.pick(pages)
        const head = Buffer.alloc(24)
        const fd = openSync(file, 'r+')
        readSync(fd, head, 0, 24, page * PAGE)
        const lower = head.readUInt16LE(0x14)
        const upper = head.readUInt16LE(0x16)
        const zone = rng.int(0, 2)
        // The header's flags and bounds, the node pointers, or the nodes.
        const offset = zone === 0
          ? 0x10 + rng.int(0, 7)
          : zone === 1
            ? 24 + rng.int(0, Math.max(0, lower - 1))
            : Math.min(PAGE - 1, 24 + upper + rng.int(0, Math.max(0, PAGE - 25 - upper)))
        const b = Buffer.alloc(1)
        readSync(fd, b, 0, 1, page * PAGE + offset)
        b[0] = rng.chance(0.7) ? b[0]! ^ (1 << rng.int(0, 7)) : rng.int(0, 255)
        writeSync(fd, b, 0, 1, page * PAGE + offset)
        closeSync(fd)
        const where = `seed ${seed} iteration ${i}: page ${page} byte ${offset}`
        const out = await runChild(path)
        rmSync(path, { recursive: true, force: true })
        expect(out.signal, `${where}: the child died of a signal`).toBeNull()
        expect(out.answer?.error, `${where}: the child failed with another error`).toBeUndefined()
        expect(out.answer, `${where}: no answer (exit ${out.code})`).not.toBeNull()
        if (out.answer!.refused !== undefined) {
          expect(out.answer!.refused, where).toContain(file)
          outcomes.refused++
        } else if (out.answer!.digest === goldenDigest) outcomes.same++
        else outcomes.wrong++
      }
    }
    console.log(`lmdb page fuzz outcomes: ${JSON.stringify(outcomes)}`)
    expect(outcomes.refused + outcomes.same + outcomes.wrong).toBe(seeds.length * iterations)
    expect(outcomes.wrong, 'damaged stores that read other records').toBe(0)
    expect(outcomes.refused, 'damage refused (the campaign reaches the walk)').toBeGreaterThan(0)
  }, 600_000)
})
