/**
 * The `Storage` contract (api.ts) as one suite, run against every implementation from a
 * small test file beside it (MemoryStorage, SimStorage, LmdbStorage, IdbStorage):
 *
 *   describeStorageContract('LmdbStorage', open, { reopen: true, fill: true })
 *
 * What it holds an implementation to: records load per shard, oldest first, from the
 * latest snapshot on, exactly as given; writes take effect in call order, even when
 * issued without waiting; compact replaces what came before in its shard only; remove
 * forgets a shard; metadata is apart from shards; a write takes its arguments when
 * called; bad arguments are refused with TypeError or RangeError and change nothing;
 * a reopened storage holds exactly what was durable; a write on a full medium rejects
 * with StorageFullError and changes nothing, and writes go through again once there is
 * room. Methods may answer synchronously or with a promise: the suite takes both.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { StorageFullError, type Storage, type StoredRecord } from '../api.js'

export interface StorageUnderTest {
  storage: Storage
  /** Closes the storage and opens its medium again (the feature `reopen`). */
  reopen?: () => Promise<Storage>
  /** Makes the medium full, or gives it room again (the feature `fill`). */
  fill?: (full: boolean) => void
  /** Closes what is open and removes what the test made. */
  cleanup: () => void | Promise<void>
}

export interface StorageFeatures {
  /** The medium outlives the storage object: a reopened one holds what was durable. */
  reopen: boolean
  /** The test can make the medium full. */
  fill: boolean
}

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)
const update = (generation: number, ...b: number[]): StoredRecord => ({ generation, kind: 'update', data: bytes(...b) })
const snapshot = (generation: number, ...b: number[]): StoredRecord => ({ generation, kind: 'snapshot', data: bytes(...b) })
/** Records as plain values (kind, generation, bytes), for comparing. */
const plain = (records: StoredRecord[]): Array<[string, number, number[]]> => records.map((r) => [r.kind, r.generation, [...r.data]])
/** Calls a method that may throw or reject: either way a rejected promise. */
const call = async <T>(fn: () => T | Promise<T>): Promise<T> => fn()

/** Everything a storage shows, for checking that a refused write changed nothing. */
async function contents(s: Storage, metaKeys: string[]): Promise<unknown> {
  const shards = [...(await s.shards())].sort()
  const records: Record<string, unknown> = {}
  for (const shard of shards) records[shard] = plain(await s.load(shard))
  const meta: Record<string, unknown> = {}
  for (const k of metaKeys) {
    const v = await s.getMeta(k)
    meta[k] = v === undefined ? null : [...v]
  }
  return { shards, records, meta }
}

export function describeStorageContract(name: string, open: () => Promise<StorageUnderTest>, features: StorageFeatures): void {
  describe(`${name} keeps the Storage contract`, () => {
    let current: StorageUnderTest | null = null
    const start = async (): Promise<StorageUnderTest> => {
      current = await open()
      return current
    }
    afterEach(async () => {
      await current?.cleanup()
      current = null
    })

    it('loads appended records per shard, oldest first, exactly as given', async () => {
      const { storage: s } = await start()
      await s.append([
        { shard: 'a', record: update(0, 1) },
        { shard: 'b', record: update(0, 2) },
      ])
      await s.append([{ shard: 'a', record: update(0, 3) }])
      await s.append([{ shard: 'a', record: { generation: 2 ** 40 + 7, kind: 'update', data: bytes(0, 255) } }])
      await s.append([])
      expect(plain(await s.load('a'))).toEqual([
        ['update', 0, [1]],
        ['update', 0, [3]],
        ['update', 2 ** 40 + 7, [0, 255]],
      ])
      expect(plain(await s.load('b'))).toEqual([['update', 0, [2]]])
      expect(await s.load('never written')).toEqual([])
      expect([...(await s.shards())].sort()).toEqual(['a', 'b'])
    })

    it('shard ids that prefix each other, or look like metadata keys, stay apart', async () => {
      const { storage: s } = await start()
      await s.append([
        { shard: 't:1:0:a', record: update(0, 1) },
        { shard: 't:1:0:ab', record: update(0, 2) },
        { shard: 'client-id', record: update(0, 3) },
      ])
      await s.setMeta('client-id', bytes(9))
      expect(plain(await s.load('t:1:0:a'))).toEqual([['update', 0, [1]]])
      expect(plain(await s.load('t:1:0:ab'))).toEqual([['update', 0, [2]]])
      expect(plain(await s.load('client-id'))).toEqual([['update', 0, [3]]])
      expect([...((await s.getMeta('client-id')) ?? [])]).toEqual([9])
    })

    it('takes effect in call order when writes are issued without waiting', async () => {
      const { storage: s } = await start()
      await Promise.all([
        call(() => s.append([{ shard: 'a', record: update(0, 1) }])),
        call(() => s.compact('a', snapshot(1, 9))),
        call(() => s.append([{ shard: 'a', record: update(1, 2) }])),
        call(() => s.append([{ shard: 'b', record: update(0, 1) }])),
        call(() => s.remove('b')),
        call(() => s.append([{ shard: 'b', record: update(0, 5) }])),
        call(() => s.setMeta('m', bytes(1))),
        call(() => s.setMeta('m', bytes(2))),
      ])
      expect(plain(await s.load('a'))).toEqual([
        ['snapshot', 1, [9]],
        ['update', 1, [2]],
      ])
      expect(plain(await s.load('b'))).toEqual([['update', 0, [5]]])
      expect([...((await s.getMeta('m')) ?? [])]).toEqual([2])
    })

    it('compact replaces every earlier record of its shard, and only of its shard', async () => {
      const { storage: s } = await start()
      await s.append([
        { shard: 'a', record: update(0, 1) },
        { shard: 'a', record: update(0, 2) },
        { shard: 'b', record: update(0, 3) },
      ])
      await s.compact('a', snapshot(3, 7, 7))
      await s.append([{ shard: 'a', record: update(3, 4) }])
      expect(plain(await s.load('a'))).toEqual([
        ['snapshot', 3, [7, 7]],
        ['update', 3, [4]],
      ])
      expect(plain(await s.load('b'))).toEqual([['update', 0, [3]]])
      // A snapshot of a shard never appended to creates it.
      await s.compact('c', snapshot(0, 1))
      expect([...(await s.shards())].sort()).toEqual(['a', 'b', 'c'])
      expect(plain(await s.load('c'))).toEqual([['snapshot', 0, [1]]])
    })

    it('remove forgets a shard, which can be written again from nothing', async () => {
      const { storage: s } = await start()
      await s.append([
        { shard: 'a', record: update(0, 1) },
        { shard: 'b', record: update(0, 2) },
      ])
      await s.remove('a')
      await s.remove('never written')
      expect([...(await s.shards())]).toEqual(['b'])
      expect(await s.load('a')).toEqual([])
      await s.append([{ shard: 'a', record: update(0, 3) }])
      expect(plain(await s.load('a'))).toEqual([['update', 0, [3]]])
    })

    it('keeps metadata by key, apart from shards; a later value replaces an earlier one', async () => {
      const { storage: s } = await start()
      expect(await s.getMeta('client-id')).toBeUndefined()
      await s.setMeta('client-id', bytes(1, 2, 3))
      await s.setMeta('lsn', bytes())
      await s.setMeta('client-id', bytes(4))
      expect([...((await s.getMeta('client-id')) ?? [])]).toEqual([4])
      expect([...((await s.getMeta('lsn')) ?? [9])]).toEqual([])
      expect([...(await s.shards())]).toEqual([])
    })

    it('takes its arguments when called: the caller may reuse its buffers at once', async () => {
      const { storage: s } = await start()
      const data = bytes(1, 2)
      const snap = bytes(3)
      const meta = bytes(4)
      const writes = [
        call(() => s.append([{ shard: 'a', record: { generation: 0, kind: 'update', data } }])),
        call(() => s.compact('b', { generation: 0, kind: 'snapshot', data: snap })),
        call(() => s.setMeta('m', meta)),
      ]
      data.fill(0)
      snap.fill(0)
      meta.fill(0)
      await Promise.all(writes)
      expect(plain(await s.load('a'))).toEqual([['update', 0, [1, 2]]])
      expect(plain(await s.load('b'))).toEqual([['snapshot', 0, [3]]])
      expect([...((await s.getMeta('m')) ?? [])]).toEqual([4])
    })

    it('refuses bad arguments with TypeError or RangeError, changing nothing', async () => {
      const { storage: s } = await start()
      await s.append([{ shard: 'a', record: update(0, 1) }])
      await s.setMeta('m', bytes(1))
      const before = await contents(s, ['m'])
      const good = update(0, 2)
      // Deliberately ill-typed: what a buggy caller (or plain JavaScript) could pass.
      const bad = (v: unknown) => v as never
      const refused: Array<[string, () => unknown, typeof TypeError | typeof RangeError]> = [
        ['a shard id that is no string', () => s.append([{ shard: bad(7), record: good }]), TypeError],
        ['a negative generation', () => s.append([{ shard: 'a', record: update(-1, 2) }]), RangeError],
        ['a fractional generation', () => s.append([{ shard: 'a', record: update(1.5, 2) }]), RangeError],
        ['an unknown kind', () => s.append([{ shard: 'a', record: { ...good, kind: bad('delta') } }]), RangeError],
        ['data that is not bytes', () => s.append([{ shard: 'a', record: { ...good, data: bad([2]) } }]), TypeError],
        ['a bad record after a good one', () => s.append([{ shard: 'a', record: good }, { shard: 'b', record: update(-1) }]), RangeError],
        ['an update given to compact', () => s.compact('a', update(1, 2)), RangeError],
        ['compact of a shard id that is no string', () => s.compact(bad(null), snapshot(1, 2)), TypeError],
        ['remove of a shard id that is no string', () => s.remove(bad(undefined)), TypeError],
        ['a metadata value that is not bytes', () => s.setMeta('m', bad('text')), TypeError],
        ['a metadata key that is no string', () => s.setMeta(bad(1), bytes(2)), TypeError],
      ]
      for (const [what, fn, type] of refused) {
        await expect(call(fn), what).rejects.toThrow(type)
      }
      expect(await contents(s, ['m'])).toEqual(before)
    })

    it.skipIf(!features.reopen)('reopened, holds exactly what was durable, and appends load after what it held', async () => {
      const h = await start()
      const s = h.storage
      for (let i = 0; i < 12; i++) await s.append([{ shard: `t${i % 3}`, record: update(0, i) }])
      await s.compact('t1', snapshot(2, 100))
      await s.append([{ shard: 't1', record: update(2, 101) }])
      await s.remove('t2')
      await s.setMeta('m', bytes(5, 6))
      const before = await contents(s, ['m', 'absent'])
      const again = await h.reopen!()
      expect(await contents(again, ['m', 'absent'])).toEqual(before)
      await again.append([{ shard: 't0', record: update(0, 200) }])
      const t0 = plain(await again.load('t0'))
      expect(t0.at(-1)).toEqual(['update', 0, [200]])
      expect(t0).toHaveLength(5)
    })

    it.skipIf(!features.fill)('on a full medium, a write rejects with StorageFullError and changes nothing; with room, writes go through', async () => {
      const h = await start()
      const s = h.storage
      await s.append([{ shard: 'a', record: update(0, 1) }])
      await s.setMeta('m', bytes(1))
      const before = await contents(s, ['m'])
      h.fill!(true)
      const writes: Array<[string, () => unknown]> = [
        ['append', () => s.append([{ shard: 'a', record: update(0, 2) }, { shard: 'b', record: update(0, 3) }])],
        ['compact', () => s.compact('a', snapshot(1, 9))],
        ['remove', () => s.remove('a')],
        ['setMeta', () => s.setMeta('m', bytes(2))],
      ]
      for (const [what, fn] of writes) {
        const err: unknown = await call(fn).then(
          () => new Error(`${what} went through on a full medium`),
          (e: unknown) => e,
        )
        expect(err, what).toBeInstanceOf(StorageFullError)
        expect((err as Error).name, what).toBe('StorageFullError')
      }
      expect(await contents(s, ['m'])).toEqual(before)
      h.fill!(false)
      await s.append([{ shard: 'a', record: update(0, 2) }])
      await s.setMeta('m', bytes(2))
      expect(plain(await s.load('a'))).toEqual([
        ['update', 0, [1]],
        ['update', 0, [2]],
      ])
      expect([...((await s.getMeta('m')) ?? [])]).toEqual([2])
    })
  })
}
