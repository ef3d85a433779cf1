/**
 * Storage integrity (issue 15): what LmdbStorage does with a data directory damaged behind
 * its back (edited through LMDB itself, as a bad sector or a stray write would leave it),
 * and with a directory written before records carried checksums or before the shard
 * directory.
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { open } from 'lmdb'
import { CorruptRecordError, decodeShardDirectory, type StoredRecord } from '@concord/core'
import { openDatabase } from '@concord/sql-facade'
import { FailingOnceLmdbStorage } from './failing-lmdb.fixture.js'
import { LmdbStorage } from './lmdb-storage.js'

type Key = [string, string] | [string, string, number]

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-lmdb-integrity-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const update = (s: string): StoredRecord => ({ generation: 1, kind: 'update', data: bytes(s) })

/** A directory holding shard 'a' (records a1..a3), shard 'b' (b1) and one metadata value. */
async function written(): Promise<string> {
  const dir = tempDir()
  const s = new LmdbStorage({ path: dir, durable: false })
  await s.append([{ shard: 'a', record: update('a1') }, { shard: 'b', record: update('b1') }])
  await s.append([{ shard: 'a', record: update('a2') }])
  await s.append([{ shard: 'a', record: update('a3') }])
  await s.setMeta('lsn', Uint8Array.of(1, 2, 3))
  await s.close()
  return dir
}

/** The stored shard directory, as bytes. */
async function directoryBytes(dir: string): Promise<Uint8Array> {
  const env = open<Uint8Array, Key>(dir, { encoding: 'binary' })
  const value = Uint8Array.from(env.get(['d', 'shards'])!)
  await env.close()
  return value
}

/** Edits the directory under the storage's feet, through LMDB. */
async function damage(dir: string, edit: (env: ReturnType<typeof open<Uint8Array, Key>>) => void): Promise<void> {
  const env = open<Uint8Array, Key>(dir, { encoding: 'binary' })
  await env.transaction(() => edit(env))
  await env.close()
}

/** What `fn` threw (a CorruptRecordError expected), or a failure when it did not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(CorruptRecordError)
    return e as Error
  }
  throw new Error('expected a CorruptRecordError, nothing was thrown')
}

describe('LmdbStorage integrity', () => {
  it('a changed byte in a stored record is refused at load with a message naming the file, shard and record', async () => {
    const dir = await written()
    await damage(dir, (env) => {
      const value = Uint8Array.from(env.get(['r', 'a', 1])!)
      value[value.length - 1]! ^= 0x01 // 'a2' becomes 'a3': a plausible, wrong value
      void env.put(['r', 'a', 1], value)
    })
    const s = new LmdbStorage({ path: dir, durable: false })
    const e = thrown(() => s.load('a'))
    expect(e.message).toContain(join(dir, 'data.mdb'))
    expect(e.message).toMatch(/shard "a" record 1: checksum mismatch/)
    expect(e.message).toMatch(/does not serve damaged data/)
    // The undamaged shard still loads.
    expect(s.load('b').map((r) => text(r.data))).toEqual(['b1'])
    await s.close()
  })

  it('a record missing from a shard, or one its marker does not count, is refused', async () => {
    const dir = await written()
    await damage(dir, (env) => void env.remove(['r', 'a', 1]))
    const s = new LmdbStorage({ path: dir, durable: false })
    expect(thrown(() => s.load('a')).message).toMatch(/shard "a": 1 of its 3 records are missing/)
    await s.close()

    const copied = await written()
    await damage(copied, (env) => void env.put(['r', 'b', 7], env.get(['r', 'b', 0])!))
    const t = new LmdbStorage({ path: copied, durable: false })
    expect(thrown(() => t.load('b')).message).toMatch(/shard "b" record 7: sequence number outside/)
    await t.close()
  })

  it("records whose shard marker is gone are found when the shards are listed", async () => {
    const dir = await written()
    await damage(dir, (env) => void env.remove(['s', 'b']))
    const s = new LmdbStorage({ path: dir, durable: false })
    expect(thrown(() => s.shards()).message).toMatch(/shard "b" record 0: a record of a shard that has no marker/)
    await s.close()
  })

  it('a damaged shard marker or metadata value is refused', async () => {
    const dir = await written()
    await damage(dir, (env) => {
      const marker = Uint8Array.from(env.get(['s', 'a'])!)
      marker[marker.length - 1]! ^= 0x10
      void env.put(['s', 'a'], marker)
      const meta = Uint8Array.from(env.get(['m', 'lsn'])!)
      meta[meta.length - 1]! ^= 0x10
      void env.put(['m', 'lsn'], meta)
    })
    const s = new LmdbStorage({ path: dir, durable: false })
    expect(thrown(() => s.load('a')).message).toMatch(/shard "a": its marker is damaged/)
    expect(thrown(() => s.getMeta('lsn')).message).toMatch(/metadata "lsn" is damaged/)
    await s.close()
  })

  it('compaction keeps the marker right: the log after compact and later appends loads, and damage is still found', async () => {
    const dir = await written()
    const s = new LmdbStorage({ path: dir, durable: false })
    await s.compact('a', { generation: 2, kind: 'snapshot', data: bytes('snap') })
    await s.append([{ shard: 'a', record: { generation: 2, kind: 'update', data: bytes('a4') } }])
    await s.close()
    const again = new LmdbStorage({ path: dir, durable: false })
    expect(again.load('a').map((r) => text(r.data))).toEqual(['snap', 'a4'])
    await again.close()
    await damage(dir, (env) => {
      for (const key of [...env.getKeys({ start: ['r', 'a', 0], end: ['r', 'a', Number.MAX_SAFE_INTEGER] })].slice(-1)) void env.remove(key)
    })
    const third = new LmdbStorage({ path: dir, durable: false })
    expect(thrown(() => third.load('a')).message).toMatch(/1 of its 2 records are missing/)
    await third.close()
  })

  it('a write transaction that failed after writing leaves the markers right (the bytes kept in memory are only a cache)', async () => {
    const dir = tempDir()
    const s = new FailingOnceLmdbStorage({ path: dir, durable: false })
    await s.append([{ shard: 'a', record: update('a1') }])
    s.failNext = true
    await expect(s.append([{ shard: 'a', record: update('lost') }, { shard: 'a', record: update('lost too') }])).rejects.toThrow(/storage write failed/)
    await s.append([{ shard: 'a', record: update('a2') }])
    await s.compact('a', { generation: 2, kind: 'snapshot', data: bytes('snap') })
    s.failNext = true
    await expect(s.append([{ shard: 'a', record: update('lost') }])).rejects.toThrow(/storage write failed/)
    await s.append([{ shard: 'a', record: { generation: 2, kind: 'update', data: bytes('a3') } }])
    expect(s.load('a').map((r) => text(r.data))).toEqual(['snap', 'a3'])
    await s.close()
    const again = new LmdbStorage({ path: dir, durable: false })
    expect(again.load('a').map((r) => text(r.data))).toEqual(['snap', 'a3'])
    await again.close()
  })

  it('a directory written before checksums (format 1) is upgraded in place at open and keeps its records and metadata', async () => {
    const dir = tempDir()
    // Format 1, as the version before it wrote it: bare records, empty markers, bare metadata.
    const v1 = (gen: number, kind: 0 | 1, s: string) => Uint8Array.of(1, kind, 0, 0, 0, 0, 0, 0, 0, gen, ...bytes(s))
    const env = open<Uint8Array, Key>(dir, { encoding: 'binary' })
    await env.transaction(() => {
      void env.put(['r', 'a', 0], v1(1, 0, 'old a1'))
      void env.put(['r', 'a', 1], v1(1, 0, 'old a2'))
      void env.put(['s', 'a'], new Uint8Array(0))
      void env.put(['r', 'b', 4], v1(2, 1, 'old snapshot'))
      void env.put(['s', 'b'], new Uint8Array(0))
      void env.put(['m', 'lsn'], Uint8Array.of(9, 9))
    })
    await env.close()

    const s = new LmdbStorage({ path: dir, durable: false })
    expect(s.shards().sort()).toEqual(['a', 'b'])
    expect(s.load('a').map((r) => text(r.data))).toEqual(['old a1', 'old a2'])
    expect(s.load('b')).toEqual([{ generation: 2, kind: 'snapshot', data: bytes('old snapshot') }])
    expect(s.getMeta('lsn')).toEqual(Uint8Array.of(9, 9))
    await s.append([{ shard: 'a', record: update('new a3') }])
    await s.close()

    // Upgraded: the records now carry checksums, so damage to them is found.
    await damage(dir, (e) => {
      const value = Uint8Array.from(e.get(['r', 'a', 0])!)
      value[value.length - 1]! ^= 0x02
      void e.put(['r', 'a', 0], value)
    })
    const again = new LmdbStorage({ path: dir, durable: false })
    expect(again.load('b').map((r) => text(r.data))).toEqual(['old snapshot'])
    expect(thrown(() => again.load('a')).message).toMatch(/shard "a" record 0: checksum mismatch/)
    await again.close()
  })

  it('a directory of an unknown format, or one whose format key is gone, is refused at open', async () => {
    const dir = await written()
    await damage(dir, (env) => void env.put(['f', 'format'], Uint8Array.of(9)))
    expect(() => new LmdbStorage({ path: dir, durable: false })).toThrow(/unknown data directory format 09/)
    await damage(dir, (env) => void env.remove(['f', 'format']))
    expect(() => new LmdbStorage({ path: dir, durable: false })).toThrow(/format key is missing/)
  })

  describe('the shard directory (a shard deleted whole, with its marker)', () => {
    const shardKeys = (env: ReturnType<typeof open<Uint8Array, Key>>, shard: string): Key[] => [
      ...env.getKeys({ start: ['r', shard, 0], end: ['r', shard, Number.MAX_SAFE_INTEGER] }),
      ['s', shard],
    ]

    it("a shard's records and marker deleted together are refused when the shards are listed, naming the file and the shard", async () => {
      const dir = await written()
      await damage(dir, (env) => {
        for (const key of shardKeys(env, 'b')) void env.remove(key)
      })
      const s = new LmdbStorage({ path: dir, durable: false })
      const e = thrown(() => s.shards())
      expect(e.message).toBe(
        `${join(dir, 'data.mdb')} is damaged: shard "b": the shard directory lists it but its records and marker are gone (the shard was deleted). ` +
          'Concord does not serve damaged data: restore the data directory from a backup (concord restore), or move it away and start an empty node that joins a peer (--join) to copy the data back from the cluster',
      )
      await s.close()
    })

    it('a whole shard that appeared (records and a marker the directory does not list) is refused', async () => {
      const dir = await written()
      await damage(dir, (env) => {
        void env.put(['r', 'c', 0], env.get(['r', 'b', 0])!)
        void env.put(['s', 'c'], env.get(['s', 'b'])!)
      })
      const s = new LmdbStorage({ path: dir, durable: false })
      expect(thrown(() => s.shards()).message).toMatch(/shard "c": it has a marker but the shard directory does not list it \(a shard was added\)/)
      await s.close()
    })

    it('a damaged or missing shard directory is refused', async () => {
      const dir = await written()
      await damage(dir, (env) => {
        const value = Uint8Array.from(env.get(['d', 'shards'])!)
        value[value.length - 1]! ^= 0x01
        void env.put(['d', 'shards'], value)
      })
      const s = new LmdbStorage({ path: dir, durable: false })
      expect(thrown(() => s.shards()).message).toMatch(/data\.mdb is damaged: its shard directory is damaged: checksum mismatch/)
      await s.close()
      await damage(dir, (env) => void env.remove(['d', 'shards']))
      const t = new LmdbStorage({ path: dir, durable: false })
      expect(thrown(() => t.shards()).message).toMatch(/data\.mdb is damaged: its shard directory is missing\. Concord does not serve damaged data/)
      await t.close()
    })

    it('shards created and removed by the storage itself (appends, compact of a new id, remove) reopen fine; appends to a known shard leave the directory alone', async () => {
      const dir = await written()
      let s = new LmdbStorage({ path: dir, durable: false })
      // What a generation switch does: the old generation kept under a new id by a compact, later removed.
      await s.compact('prev:4096:a', { generation: 1, kind: 'snapshot', data: bytes('old a') })
      await s.compact('a', { generation: 4096, kind: 'snapshot', data: bytes('new a') })
      await s.remove('b')
      await s.remove('never there')
      await s.close()
      s = new LmdbStorage({ path: dir, durable: false })
      expect(s.shards().sort()).toEqual(['a', 'prev:4096:a'])
      await s.remove('prev:4096:a')
      await s.append([{ shard: 'c', record: update('c1') }, { shard: 'a', record: update('a5') }])
      await s.close()

      const before = await directoryBytes(dir)
      s = new LmdbStorage({ path: dir, durable: false })
      expect(s.shards().sort()).toEqual(['a', 'c'])
      await s.append([{ shard: 'a', record: update('a6') }])
      await s.close()
      expect(await directoryBytes(dir)).toEqual(before)
      s = new LmdbStorage({ path: dir, durable: false })
      expect(s.load('a').map((r) => text(r.data))).toEqual(['new a', 'a5', 'a6'])
      await s.close()
    })

    it('a table dropped through SQL is removed from the directory with its shards: the node opens again', async () => {
      const dir = tempDir()
      let storage = new LmdbStorage({ path: dir, durable: false })
      let db = await openDatabase({ nodeId: 'n1', storage })
      await db.query('CREATE TABLE kept (id INT PRIMARY KEY, v TEXT)')
      await db.query('CREATE TABLE gone (id INT PRIMARY KEY, v TEXT)')
      await db.query("INSERT INTO kept VALUES (1, 'k')")
      await db.query("INSERT INTO gone VALUES (1, 'g')")
      const withGone = storage.shards().length
      await db.query('DROP TABLE gone')
      await db.close()
      await storage.close()

      storage = new LmdbStorage({ path: dir, durable: false })
      expect(storage.shards().length).toBeLessThan(withGone)
      db = await openDatabase({ nodeId: 'n1', storage })
      expect((await db.query('SELECT v FROM kept')).rows).toEqual([{ v: 'k' }])
      await db.close()
      await storage.close()
    })

    it('a directory of format 2 (markers, no shard directory) opens and gets its directory once, listing the shards it holds', async () => {
      const dir = await written()
      await damage(dir, (env) => {
        void env.remove(['d', 'shards'])
        void env.put(['f', 'format'], Uint8Array.of(2))
      })
      const s = new LmdbStorage({ path: dir, durable: false })
      expect(s.shards().sort()).toEqual(['a', 'b'])
      expect(s.load('a').map((r) => text(r.data))).toEqual(['a1', 'a2', 'a3'])
      await s.close()
      const env = open<Uint8Array, Key>(dir, { encoding: 'binary' })
      expect(Uint8Array.from(env.get(['f', 'format'])!)).toEqual(Uint8Array.of(3))
      expect(decodeShardDirectory(env.get(['d', 'shards'])!)).toEqual(new Set(['a', 'b']))
      await env.close()

      // Once: from now on a shard deleted whole is refused, not re-listed.
      await damage(dir, (e) => {
        for (const key of shardKeys(e, 'a')) void e.remove(key)
      })
      const again = new LmdbStorage({ path: dir, durable: false })
      expect(thrown(() => again.shards()).message).toMatch(/shard "a": the shard directory lists it but its records and marker are gone/)
      await again.close()
    })

    it('a format-3 directory whose format key is gone is refused, not upgraded again', async () => {
      const dir = tempDir()
      const s = new LmdbStorage({ path: dir, durable: false })
      await s.close()
      await damage(dir, (env) => void env.remove(['f', 'format']))
      expect(() => new LmdbStorage({ path: dir, durable: false })).toThrow(/format key is missing but the directory has a shard directory/)
    })
  })

  describe("damage to LMDB's own file, refused before LMDB maps it (it would end the process with a signal)", () => {
    /** Zeroes page `page` (4096 bytes, LMDB's page size here) of the data file. */
    const zeroPage = (dir: string, page: number): void => {
      const fd = openSync(join(dir, 'data.mdb'), 'r+')
      writeSync(fd, Buffer.alloc(4096), 0, 4096, page * 4096)
      closeSync(fd)
    }
    const cases: Array<[string, (dir: string) => void, RegExp]> = [
      ['a zeroed meta page 0 (SIGSEGV)', (d) => zeroPage(d, 0), /meta page 0 does not carry LMDB's magic/],
      ['both meta pages zeroed (SIGSEGV)', (d) => (zeroPage(d, 0), zeroPage(d, 1)), /meta page 0 does not carry/],
      ['a file cut after four pages (SIGBUS)', (d) => truncateSync(join(d, 'data.mdb'), 4 * 4096), /pages in use end at byte \d+ \(truncated\)/],
      ['a file cut inside its meta pages (SIGBUS)', (d) => truncateSync(join(d, 'data.mdb'), 6000), /less than two pages/],
      ['an empty file', (d) => truncateSync(join(d, 'data.mdb'), 0), /holds 0 bytes/],
    ]
    for (const [what, harm, message] of cases) {
      it(`${what}: a message naming the file`, async () => {
        const dir = await written()
        // Enough records that the file has pages beyond the meta pages to lose.
        const s = new LmdbStorage({ path: dir, durable: false })
        for (let i = 0; i < 20; i++) await s.append([{ shard: `bulk${i}`, record: update('x'.repeat(2000)) }])
        await s.close()
        expect(statSync(join(dir, 'data.mdb')).size).toBeGreaterThan(4 * 4096)
        harm(dir)
        let error: unknown
        try {
          new LmdbStorage({ path: dir, durable: false })
        } catch (e) {
          error = e
        }
        expect(error).toBeInstanceOf(CorruptRecordError)
        expect((error as Error).message).toContain(`${join(dir, 'data.mdb')} is damaged: `)
        expect((error as Error).message).toMatch(message)
      })
    }

    it('a zeroed meta page 1 is no damage LMDB cares about (it reads the newer page 0): the store opens and loads', async () => {
      const dir = await written()
      zeroPage(dir, 1)
      const s = new LmdbStorage({ path: dir, durable: false })
      expect(s.load('a').map((r) => text(r.data))).toEqual(['a1', 'a2', 'a3'])
      await s.close()
    })
  })
})
