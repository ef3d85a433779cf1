import { describe, expect, it } from 'vitest'
import type { ReplicaOptions, Scheduler, Storage } from '../api.js'
import { Replica } from '../replica.js'
import { MemoryStorage } from '../storage/memory-storage.js'
import type { Row } from '../types.js'
import { rowKeyOf } from '../codec/row-key.js'
import { ALL_ROWS, decodeRowSnapshotManifest, decodeRowSnapshotPart, encodeRowSnapshotPart, encodeRowSnapshotSteps, readRowSnapshot, ROW_SNAPSHOT_META_KEY, rowSnapshotPartKey, snapshotRows, type RowSnapshot, type RowSnapshotCapture } from './row-snapshot.js'

/** Runs `steps` to its end at once. */
function finishSteps<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next()
    if (r.done === true) return r.value
  }
}

const quiet = { antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 }

/** The row snapshot `storage` holds (the parts its manifest names by their ids). */
async function storedSnapshot(storage: MemoryStorage): Promise<RowSnapshot> {
  const snapshot = await readRowSnapshot((key) => storage.getMeta(key), (message) => {
    throw new Error(message)
  })
  expect(snapshot).not.toBeNull()
  return snapshot!
}
const table = {
  name: 't',
  columns: [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }, { name: 'n', type: 'numeric' }, { name: 'b', type: 'bytea' }, { name: 'f', type: 'bool' }],
  primaryKey: ['id'],
}
const other = { name: 'u', columns: [{ name: 'k', type: 'text' }, { name: 'w', type: 'int' }], primaryKey: ['k'] }

function rowsOf(r: Replica, name: string): Row[] {
  return [...r.scan(name)].sort((a, b) => String(a['id'] ?? a['k']).localeCompare(String(b['id'] ?? b['k'])))
}

function tableShard(r: Replica, name: string) {
  return [...r.shards.values()].find((s) => s.viewName() === name)!
}

/** Writes a mix of values, overwrites and deletes from two writers (one of them a peer merged in by its state). */
async function filled(storage: Storage, options: Partial<ReplicaOptions> = {}): Promise<Replica> {
  const r = await Replica.open({ nodeId: 'a', storage, ...quiet, ...options })
  r.transact((tx) => {
    tx.createTable(table)
    tx.createTable(other)
  })
  r.transact((tx) => {
    for (let i = 0; i < 50; i++) tx.upsert('t', { id: i, v: `v${i}`, n: BigInt(i) * 10n ** 20n, b: Uint8Array.of(i, 255, 0), f: i % 2 === 0 })
    tx.upsert('t', { id: 100, v: null, n: Number.NaN, b: null, f: null })
    tx.upsert('t', { id: 101, v: '', n: -0, b: new Uint8Array(0), f: false })
    tx.upsert('t', { id: 102, v: '["b","1"]', n: Number.NEGATIVE_INFINITY, b: null, f: true })
    for (let i = 0; i < 20; i++) tx.upsert('u', { k: `k${i}`, w: i })
  })
  r.transact((tx) => {
    for (let i = 0; i < 10; i++) tx.upsert('t', { id: i, v: `again${i}`, n: 1.5, b: null, f: false })
    for (let i = 40; i < 50; i++) tx.delete('t', [i])
  })
  // A second writer: the peer's concurrent writes merged into the same rows.
  const peer = await Replica.open({ nodeId: 'b', ...quiet })
  peer.applyRemote(peer.catalogShard, r.catalogShard.encodeState())
  peer.applyRemote(tableShard(peer, 't'), tableShard(r, 't').encodeState())
  peer.transact((tx) => {
    tx.upsert('t', { id: 3, v: 'peer', n: 0, b: null, f: true })
    tx.delete('t', [4])
    tx.upsert('t', { id: 300, v: 'peer only', n: 1, b: null, f: null })
  })
  r.applyRemote(tableShard(r, 't'), tableShard(peer, 't').encodeState())
  await peer.close()
  await r.durable()
  return r
}

/** The same storage loading asynchronously, as IndexedDB does. */
function asynchronous(base: MemoryStorage): Storage {
  return {
    append: (b) => base.append(b),
    shards: () => base.shards(),
    load: async (shard) => base.load(shard),
    compact: (shard, snapshot) => base.compact(shard, snapshot),
    remove: (shard) => base.remove(shard),
    getMeta: async (key) => base.getMeta(key),
    setMeta: (key, value) => base.setMeta(key, value),
  }
}

/** The replica the records alone give: the same storage without its row snapshot. */
async function fromRecords(storage: MemoryStorage): Promise<Replica> {
  const copy = storage.snapshot()
  copy.meta = copy.meta.filter(([k]) => k !== ROW_SNAPSHOT_META_KEY)
  return Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(copy), ...quiet })
}

/** `r` serves what a load from the records serves: rows and the shards' books. */
function sameAsFromRecords(r: Replica, full: Replica): void {
  for (const name of ['t', 'u']) {
    expect(rowsOf(r, name)).toEqual(rowsOf(full, name))
    const a = tableShard(r, name)
    const b = tableShard(full, name)
    expect(a.rowsHash).toBe(b.rowsHash)
    expect(a.digest()).toBe(b.digest())
    expect(a.entryCount).toBe(b.entryCount)
    expect(a.deletedRowKeys().sort()).toEqual(b.deletedRowKeys().sort())
  }
  expect(r.stats().malformed).toBe(0)
}

describe('row snapshots', () => {
  it.each([
    ['synchronous storage', (s: MemoryStorage): Storage => s],
    ['asynchronous storage', asynchronous],
  ])('a replica reopened after a clean close serves the same rows from its snapshot, and its digests match a full load (%s)', async (_, wrap) => {
    const base = new MemoryStorage()
    const storage = wrap(base)
    const r1 = await filled(storage)
    const before = { t: rowsOf(r1, 't'), u: rowsOf(r1, 'u'), digest: tableShard(r1, 't').digest(), hash: tableShard(r1, 't').rowsHash }
    await r1.close()
    expect(base.getMeta(ROW_SNAPSHOT_META_KEY)!.length).toBeGreaterThan(1)
    // The same data directory without the snapshot: the reference, loaded from the records.
    const withoutSnapshot = base.snapshot()
    withoutSnapshot.meta = withoutSnapshot.meta.filter(([k]) => k !== ROW_SNAPSHOT_META_KEY)
    const full = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(withoutSnapshot), ...quiet })

    const r2 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    const shard = tableShard(r2, 't')
    expect(shard.isDeferred).toBe(true)
    // What a load from the records gives (a live -0 reloads as 0 either way).
    expect(rowsOf(r2, 't')).toEqual(rowsOf(full, 't'))
    expect(rowsOf(r2, 't')).toEqual(before.t.map((row) => (Object.is(row['n'], -0) ? { ...row, n: 0 } : row)))
    expect(rowsOf(r2, 'u')).toEqual(before.u)
    expect(shard.digest()).toBe(before.digest)
    expect(shard.rowsHash).toBe(before.hash)
    expect(shard.garbage()).toBe(tableShard(full, 't').garbage())
    expect(shard.entryCount).toBe(tableShard(full, 't').entryCount)
    expect(shard.deletedRowKeys().sort()).toEqual(tableShard(full, 't').deletedRowKeys().sort())
    expect(shard.isDeferred).toBe(true)

    // A write loads the records; afterwards both replicas resolve alike, and the books
    // kept while applying them agree with the document (each open writes under a client id
    // of its own, so the two digests differ from here on).
    for (const r of [r2, full]) r.transact((tx) => {
      tx.upsert('t', { id: 1, v: 'after', n: 2, b: null, f: true })
      tx.delete('t', [2])
      tx.upsert('t', { id: 45, v: 'back', n: 3, b: null, f: false })
    })
    expect(shard.isDeferred).toBe(false)
    expect(rowsOf(r2, 't')).toEqual(rowsOf(full, 't'))
    expect(shard.rowsHash).toBe(tableShard(full, 't').rowsHash)
    expect(shard.auditBooks()).toBeNull()
    expect(r2.stats().malformed).toBe(0)
    await Promise.all([r2.close(), full.close()])
  })

  it('a replica that crashes after writing on a snapshot-opened state reopens with its writes, from the snapshot and the records after it', async () => {
    const storage = new MemoryStorage()
    await (await filled(storage)).close()
    const r2 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    // Nothing written yet: the stored snapshot still describes the log.
    expect(r2.rowsCheckpointed).toBe(true)
    r2.transact((tx) => tx.upsert('u', { k: 'new', w: 1 }))
    expect(r2.rowsCheckpointed).toBe(false)
    await r2.durable()
    // The snapshot stays: it names the position of each log it resolves.
    expect(storage.getMeta(ROW_SNAPSHOT_META_KEY)!.length).toBeGreaterThan(1)
    // No close: a crash. `t` is as the snapshot saw it, `u` has one record after it.
    const r3 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    const full = await fromRecords(storage)
    expect(tableShard(r3, 't').isDeferred).toBe(true)
    expect(tableShard(r3, 'u').isDeferred).toBe(false)
    expect(r3.get('u', ['new'])).toEqual({ k: 'new', w: 1 })
    expect(rowsOf(r3, 'u')).toEqual(rowsOf(r2, 'u'))
    sameAsFromRecords(r3, full)
    expect(r3.rowsCheckpointed).toBe(false)
    await Promise.all([r2.close(), r3.close(), full.close()])
  })

  it('a snapshot that no longer matches the stored log is not used', async () => {
    const storage = new MemoryStorage()
    const r1 = await filled(storage)
    await r1.close()
    const stale = storage.getMeta(ROW_SNAPSHOT_META_KEY)!
    const r2 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    r2.transact((tx) => tx.upsert('t', { id: 7, v: 'later', n: 0, b: null, f: null }))
    await r2.durable()
    // The stale snapshot put back by hand (as a write lost out of order would leave it).
    storage.setMeta(ROW_SNAPSHOT_META_KEY, stale)
    const r3 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    expect(tableShard(r3, 't').isDeferred).toBe(false)
    expect(r3.get('t', [7])?.['v']).toBe('later')
    expect(tableShard(r3, 'u').isDeferred).toBe(true)
    await Promise.all([r2.close(), r3.close()])
  })

  it('a shard opened from the snapshot tells its state vector without loading its document; a snapshot without one still opens', async () => {
    const storage = new MemoryStorage()
    const r1 = await filled(storage)
    const expected = Buffer.from(tableShard(r1, 't').stateVector())
    await r1.close()
    const r2 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    const shard = tableShard(r2, 't')
    expect(shard.isDeferred).toBe(true)
    // What an equal peer's report asks for (Housekeeper.noteEqualState): answered from the snapshot.
    expect(Buffer.from(shard.stateVector())).toEqual(expected)
    expect(shard.isDeferred).toBe(true)
    await r2.close()

    // Written before the state vector was kept (or kept one that does not decode): the
    // shard still opens from its rows, and the state vector loads the document.
    for (const stateVector of [undefined, '']) {
      const snap = await storedSnapshot(storage)
      const old = MemoryStorage.fromSnapshot(storage.snapshot())
      for (const s of snap.shards) {
        if (stateVector === undefined) delete s.stateVector
        else s.stateVector = stateVector
        old.setMeta(rowSnapshotPartKey(s.shard), encodeRowSnapshotPart(s))
      }
      const r3 = await Replica.open({ nodeId: 'a', storage: old, ...quiet })
      const s3 = tableShard(r3, 't')
      expect(s3.isDeferred).toBe(true)
      expect(Buffer.from(s3.stateVector())).toEqual(expected)
      expect(s3.isDeferred).toBe(false)
      expect(r3.stats().malformed).toBe(0)
      await r3.close()
    }
  })

  it('a checkpoint while open lets a crashed replica start from its rows; writes after it are applied on top', async () => {
    const storage = new MemoryStorage()
    const r1 = await filled(storage)
    expect(r1.rowsCheckpointed).toBe(false)
    expect(await r1.checkpointRows()).toBe(true)
    expect(r1.rowsCheckpointed).toBe(true)
    const expected = { t: rowsOf(r1, 't'), u: rowsOf(r1, 'u') }
    // No close: a crash. The next open serves the checkpointed rows.
    const r2 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    expect(tableShard(r2, 't').isDeferred).toBe(true)
    expect(rowsOf(r2, 't')).toEqual(expected.t.map((row) => (Object.is(row['n'], -0) ? { ...row, n: 0 } : row)))
    expect(rowsOf(r2, 'u')).toEqual(expected.u)
    await r2.close()

    // Writes after the checkpoint: a crash then starts from it and applies the records after it.
    r1.transact((tx) => tx.upsert('u', { k: 'after', w: 2 }))
    r1.transact((tx) => {
      tx.delete('u', ['k3'])
      tx.upsert('t', { id: 2, v: 'later', n: 7, b: null, f: null })
    })
    expect(r1.rowsCheckpointed).toBe(false)
    await r1.durable()
    const r3 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    const full = await fromRecords(storage)
    // Both shards from the checkpoint, each with the records written after it on top.
    expect(r3.rowsRestored).toEqual({ exact: 0, after: 2 })
    expect(tableShard(r3, 'u').isDeferred).toBe(false)
    expect(r3.get('u', ['after'])).toEqual({ k: 'after', w: 2 })
    expect(r3.get('u', ['k3'])).toBeUndefined()
    expect(r3.get('t', [2])?.['v']).toBe('later')
    expect(rowsOf(r3, 'u')).toEqual(rowsOf(r1, 'u'))
    sameAsFromRecords(r3, full)
    await Promise.all([r1.close(), r3.close(), full.close()])
  })

  it('a crash between the checkpoint and the next append, in either order, starts with exactly the records', async () => {
    const base = new MemoryStorage()
    const r1 = await filled(base)
    // Writes to the row snapshot wait until released, so appends issued after it land first.
    let release: () => void = () => {}
    const held = new Promise<void>((r) => (release = r))
    const storage: Storage = {
      ...asynchronous(base),
      setMeta: (key, value) => (key === ROW_SNAPSHOT_META_KEY ? held.then(() => base.setMeta(key, value)) : base.setMeta(key, value)),
    }
    const r = await Replica.open({ nodeId: 'a', storage, ...quiet })
    await r1.close()
    const checkpoint = r.checkpointRows()
    for (let i = 0; i < 5; i++) await Promise.resolve()
    r.transact((tx) => tx.upsert('u', { k: 'raced', w: 9 }))
    await new Promise((res) => setTimeout(res, 0))
    // Crash 1: the append landed, the checkpoint did not (the clean close's snapshot is older).
    const crash1 = MemoryStorage.fromSnapshot(base.snapshot())
    release()
    expect(await checkpoint).toBe(false) // a write came after it: not current
    await r.durable()
    // Crash 2: both landed; the checkpoint is older than the log by one record.
    const crash2 = MemoryStorage.fromSnapshot(base.snapshot())
    for (const image of [crash1, crash2]) {
      const reopened = await Replica.open({ nodeId: 'a', storage: image, ...quiet })
      const full = await fromRecords(image)
      expect(reopened.get('u', ['raced'])).toEqual({ k: 'raced', w: 9 })
      expect(tableShard(reopened, 't').isDeferred).toBe(true)
      sameAsFromRecords(reopened, full)
      await Promise.all([reopened.close(), full.close()])
    }
    await r.close()
  })

  it('a checkpoint of a log later rewritten by compaction, back to as many records, is refused: the shard loads from its records', async () => {
    const storage = new MemoryStorage()
    const r1 = await filled(storage)
    expect(await r1.checkpointRows()).toBe(true)
    const u = tableShard(r1, 'u')
    const named = (await storedSnapshot(storage)).shards.find((p) => p.shard === u.id)!
    // Enough single-row writes that the log is rewritten as one snapshot (decisions 0026).
    for (let i = 0; storage.load(u.id).length !== 1 || i < 100; i++) {
      expect(i).toBeLessThan(30_000)
      r1.transact((tx) => tx.upsert('u', { k: `w${i % 50}`, w: i }))
      await r1.durable()
    }
    // The rewritten log holds as many records as the checkpoint names, of the same generation.
    expect(storage.load(u.id).length).toBe(named.records)
    expect(storage.load(u.id)[0]!.generation).toBe(named.generation)
    const r2 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    const full = await fromRecords(storage)
    expect(r2.rowsRestored).toEqual({ exact: 1, after: 0 })
    expect(tableShard(r2, 'u').isDeferred).toBe(false)
    expect(rowsOf(r2, 'u')).toEqual(rowsOf(r1, 'u'))
    sameAsFromRecords(r2, full)
    await Promise.all([r1.close(), r2.close(), full.close()])
  })

  it.each([
    ['a value storage cannot read back (a checksum that does not match)', 'throws'],
    ['a torn value', 'torn'],
  ] as const)('a damaged row snapshot is reported and every shard loads from its records: %s', async (_, how) => {
    const base = new MemoryStorage()
    await (await filled(base)).close()
    const stored = base.getMeta(ROW_SNAPSHOT_META_KEY)!
    if (how === 'torn') base.setMeta(ROW_SNAPSHOT_META_KEY, stored.subarray(0, Math.floor(stored.length / 2)))
    const storage: Storage = {
      ...asynchronous(base),
      getMeta: async (key) => {
        if (how === 'throws' && key === ROW_SNAPSHOT_META_KEY) throw new Error('checksum mismatch')
        return base.getMeta(key)
      },
    }
    const warnings: string[] = []
    const r = await Replica.open({ nodeId: 'a', storage, ...quiet, onWarning: (m) => warnings.push(m) })
    const full = await fromRecords(base)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/row snapshot/)
    expect(tableShard(r, 't').isDeferred).toBe(false)
    expect(tableShard(r, 'u').isDeferred).toBe(false)
    sameAsFromRecords(r, full)
    expect(r.rowsCheckpointed).toBe(false)
    await Promise.all([r.close(), full.close()])
  })

  it('the encoding in steps gives the bytes of the one-step encoding, whatever the step', () => {
    const rows = [
      { id: 1, v: 'plain', n: 10n ** 30n, b: Uint8Array.of(0, 1, 255), f: true },
      { id: 2, v: 'ünïcödé \u2028 "quoted" \\ 😀', n: Number.NaN, b: null, f: null },
      { id: 3, v: '', n: -0, b: new Uint8Array(0), f: false },
      { id: 4, v: null, n: Number.POSITIVE_INFINITY, b: null, f: true },
      { id: 5, v: '["b","1"]', n: 1.5, b: null, f: false },
    ]
    const head = (shard: string) => ({ shard, id: 123456789, generation: 2, records: 7, bytes: 900, last: 12345, view: '["view"]', digest: 77, garbage: 1, entries: 9, rowsHash: 4242, writers: ['a', 'b'], deleted: ['k9'] })
    const columns = ['id', 'v', 'n', 'b', 'f']
    const derivableRows = rows.map((r, i) => ({ ...r, n: i % 2 === 0 ? 10n ** BigInt(i) : i, b: Uint8Array.of(i, 255) }))
    const derivable = derivableRows.map((r) => rowKeyOf(r, ['id', 'n', 'b']))
    const capture: RowSnapshotCapture = {
      hlc: 123456789,
      replayedMs: null,
      shards: [
        { head: head('s1'), stateVector: 'AQID', columns, keyColumns: ['id'], keys: rows.map((r) => `k${r.id}`), rows },
        { head: head('s2'), stateVector: undefined, columns: ['id'], keyColumns: ['id'], keys: [], rows: [] },
        { head: head('s3'), stateVector: undefined, columns, keyColumns: ['id'], keys: ['k1', 'k2'], rows: rows.slice(0, 2) },
        // Keys that derive from the rows (n's bigint and b's bytes among them); then keys
        // that do for the first three rows only (written whole, whatever the step).
        { head: head('s4'), stateVector: undefined, columns, keyColumns: ['id', 'n', 'b'], keys: derivable, rows: derivableRows },
        { head: head('s5'), stateVector: undefined, columns, keyColumns: ['id'], keys: [...rows.slice(0, 3).map((r) => rowKeyOf(r, ['id'])), 'k4', 'k5'], rows },
      ],
      kept: [{ shard: 's0', id: 99 }],
    }
    const oneStep = finishSteps(encodeRowSnapshotSteps(capture, ALL_ROWS))
    // What each part the capture describes encodes to (encodeRowSnapshotPart: one JSON.stringify).
    for (const p of oneStep.parts) expect(p.bytes).toEqual(encodeRowSnapshotPart(decodeRowSnapshotPart(p.bytes)!))
    const decoded = oneStep.parts.map((p) => decodeRowSnapshotPart(p.bytes)!)
    expect(decoded.map((s) => [s.shard, s.id, s.keys.length, s.keyColumns, s.tagged, s.stateVector])).toEqual([
      ['s1', 123456789, 5, undefined, ['n', 'b'], 'AQID'], ['s2', 123456789, 0, undefined, [], undefined], ['s3', 123456789, 2, undefined, ['n', 'b'], undefined],
      ['s4', 123456789, 0, ['id', 'n', 'b'], ['n', 'b'], undefined], ['s5', 123456789, 5, undefined, ['n', 'b'], undefined],
    ])
    // The rows come back under the keys they were taken under, derived or not.
    const restored = (s: (typeof decoded)[number]) => {
      const out = new Map<string, Row>()
      snapshotRows(s, columns, out)
      return [...out.keys()]
    }
    expect(restored(decoded[3]!)).toEqual(derivable)
    expect(restored(decoded[4]!)).toEqual(capture.shards[4]!.keys)
    // The manifest names the kept part and the written ones.
    expect(decodeRowSnapshotManifest(oneStep.manifest)).toEqual({ hlc: 123456789, replayedMs: null, parts: [{ shard: 's0', id: 99 }, ...['s1', 's2', 's3', 's4', 's5'].map((shard) => ({ shard, id: 123456789 }))] })
    for (const step of [1, 2, 3, 4, 100]) {
      const steps = encodeRowSnapshotSteps(capture, step)
      let turns = 0
      let r = steps.next()
      for (; r.done !== true; r = steps.next()) turns++
      expect(r.value).toEqual(oneStep)
      // A step after every `step` rows of each shard.
      expect(turns).toBe(3 * Math.ceil(5 / step) + Math.ceil(2 / step))
    }
  })

  it('a part whose derived keys do not hold together is refused (its shard loads from its records)', () => {
    const part = (over: object) => ({ shard: 's', id: 1, generation: 1, records: 1, bytes: 1, last: 1, view: 'v', digest: 1, garbage: 0, entries: 2, rowsHash: 1, writers: [], deleted: [], tagged: [], keys: [], rows: [{ id: 1 }, { id: 2 }], ...over })
    const restore = (over: object) => snapshotRows(part(over), ['id'], new Map())
    expect(() => restore({ keyColumns: ['id'] })).not.toThrow()
    expect(() => restore({ keyColumns: ['id'], rows: [{ id: 1 }, { id: 1 }] })).toThrow(/one key/)
    expect(() => restore({ keyColumns: ['id'], keys: ['n1', 'n2'] })).toThrow()
    expect(() => restore({ keyColumns: ['other'] })).toThrow()
    expect(() => restore({ keyColumns: [] })).toThrow()
    expect(() => restore({ keyColumns: ['id'], rows: [{ id: 1 }, { id: null }] })).toThrow()
    expect(() => restore({ keys: ['n1', 2] })).toThrow(/not a string/)
    expect(decodeRowSnapshotPart(encodeRowSnapshotPart(part({ keyColumns: [1] }) as never))).toBeNull()
  })

  it('a checkpoint encoded a few rows per turn stores what a one-step one does, and the replica keeps running between the turns', async () => {
    const storage = new MemoryStorage()
    const r1 = await filled(storage, { checkpointRowsPerTurn: 7 })
    // The turns are timers of the replica's scheduler: other callbacks run between them
    // (in one step, with this synchronous storage, none would).
    let served = 0
    const serving = setInterval(() => served++, 0)
    let servedMeanwhile = -1
    expect(await r1.checkpointRows().then((stored) => ((servedMeanwhile = served), stored))).toBe(true)
    clearInterval(serving)
    expect(servedMeanwhile).toBeGreaterThan(0)
    expect(r1.rowsCheckpointed).toBe(true)
    for (const part of (await storedSnapshot(storage)).shards) {
      const bytes = storage.getMeta(rowSnapshotPartKey(part.shard))!
      expect(encodeRowSnapshotPart(decodeRowSnapshotPart(bytes)!)).toEqual(bytes)
      // Every key here is its row's primary key: none is written, each derives from its row.
      expect([part.keyColumns, part.keys.length]).toEqual([[part.shard === tableShard(r1, 't').id ? 'id' : 'k'], 0])
    }
    const r2 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    expect(tableShard(r2, 't').isDeferred).toBe(true)
    expect(rowsOf(r2, 't')).toEqual(rowsOf(r1, 't').map((row) => (Object.is(row['n'], -0) ? { ...row, n: 0 } : row)))
    const full = await fromRecords(storage)
    sameAsFromRecords(r2, full)
    await Promise.all([r1.close(), r2.close(), full.close()])
  })

  it('a write while a checkpoint encodes in turns leaves it stored but not current: a crash start applies the write on top of it', async () => {
    const storage = new MemoryStorage()
    let writeAtTurn: (() => void) | null = null
    // Real timers; the first turn of the encoding writes a row (a client's statement between two turns).
    const scheduler: Scheduler = {
      setTimeout(ms, fn) {
        const t = setTimeout(() => {
          if (ms === 0 && writeAtTurn !== null) {
            const w = writeAtTurn
            writeAtTurn = null
            w()
          }
          fn()
        }, ms)
        return () => clearTimeout(t)
      },
    }
    const r1 = await filled(storage, { checkpointRowsPerTurn: 5, scheduler })
    writeAtTurn = () => r1.transact((tx) => tx.upsert('u', { k: 'during', w: 1 }))
    expect(await r1.checkpointRows()).toBe(false)
    expect(writeAtTurn).toBeNull()
    expect(r1.rowsCheckpointed).toBe(false)
    await r1.durable()
    // Stored all the same, as of the moment its rows were taken: without the row written meanwhile.
    const stored = await storedSnapshot(storage)
    expect(stored.shards.find((s) => s.rows.length === 20)).toBeDefined()
    const r2 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(storage.snapshot()), ...quiet })
    expect(r2.rowsRestored.after).toBeGreaterThanOrEqual(1)
    expect(r2.get('u', ['during'])).toEqual({ k: 'during', w: 1 })
    const full = await fromRecords(storage)
    sameAsFromRecords(r2, full)
    // Quiet again: the next checkpoint is current.
    expect(await r1.checkpointRows()).toBe(true)
    expect(r1.rowsCheckpointed).toBe(true)
    await Promise.all([r1.close(), r2.close(), full.close()])
  })

  it('a replica closed while a checkpoint encodes in turns stores its close\'s snapshot, not the older one', async () => {
    const storage = new MemoryStorage()
    const r1 = await filled(storage, { checkpointRowsPerTurn: 3 })
    const checkpoint = r1.checkpointRows()
    await new Promise((r) => setTimeout(r, 0))
    r1.transact((tx) => tx.upsert('u', { k: 'last', w: 9 }))
    await r1.close()
    expect(await checkpoint).toBe(false)
    const r2 = await Replica.open({ nodeId: 'a', storage, ...quiet })
    expect(r2.rowsRestored).toEqual({ exact: 2, after: 0 })
    expect(r2.get('u', ['last'])).toEqual({ k: 'last', w: 9 })
    await r2.close()
  })
})

describe('row snapshot parts', () => {
  /** Opens `storage` as node a, with the warnings it reports. */
  async function reopen(storage: Storage): Promise<{ r: Replica; warnings: string[] }> {
    const warnings: string[] = []
    const r = await Replica.open({ nodeId: 'a', storage, ...quiet, onWarning: (m) => warnings.push(m) })
    return { r, warnings }
  }

  /** `base`, with every metadata key written recorded in `written`. */
  function recording(base: MemoryStorage, written: string[]): Storage {
    return { ...asynchronous(base), setMeta: (key, value) => (written.push(key), base.setMeta(key, value)) }
  }

  it('a checkpoint writes again only the parts of shards that changed since the last one, and a start takes every part', async () => {
    const base = new MemoryStorage()
    const written: string[] = []
    const r1 = await filled(recording(base, written))
    expect(await r1.checkpointRows()).toBe(true)
    const t = tableShard(r1, 't').id
    const u = tableShard(r1, 'u').id
    expect(written.filter((k) => k.startsWith(ROW_SNAPSHOT_META_KEY)).sort()).toEqual([ROW_SNAPSHOT_META_KEY, rowSnapshotPartKey(t), rowSnapshotPartKey(u)].sort())
    const tPart = base.getMeta(rowSnapshotPartKey(t))!
    written.length = 0
    r1.transact((tx) => tx.upsert('u', { k: 'later', w: 1 }))
    await r1.durable()
    expect(await r1.checkpointRows()).toBe(true)
    // The part of t (unchanged) stays as stored, named by the new manifest.
    expect(written.filter((k) => k.startsWith(ROW_SNAPSHOT_META_KEY))).toEqual([rowSnapshotPartKey(u), ROW_SNAPSHOT_META_KEY])
    expect(base.getMeta(rowSnapshotPartKey(t))).toBe(tPart)
    const r2 = await Replica.open({ nodeId: 'a', storage: MemoryStorage.fromSnapshot(base.snapshot()), ...quiet })
    expect(r2.rowsRestored).toEqual({ exact: 2, after: 0 })
    expect(r2.get('u', ['later'])).toEqual({ k: 'later', w: 1 })
    const full = await fromRecords(base)
    sameAsFromRecords(r2, full)
    // Opened from those parts, a checkpoint with nothing changed writes the manifest alone.
    written.length = 0
    const r3 = await Replica.open({ nodeId: 'a', storage: recording(MemoryStorage.fromSnapshot(base.snapshot()), written), ...quiet })
    r3.transact((tx) => tx.upsert('u', { k: 'r3', w: 3 }))
    r3.transact((tx) => tx.delete('u', ['r3']))
    await r3.durable()
    written.length = 0
    expect(await r3.checkpointRows()).toBe(true)
    expect(written.filter((k) => k.startsWith(ROW_SNAPSHOT_META_KEY))).toEqual([rowSnapshotPartKey(u), ROW_SNAPSHOT_META_KEY])
    await Promise.all([r1.close(), r2.close(), r3.close(), full.close()])
  })

  it('a crash after a checkpoint\'s parts landed and before its manifest did takes the parts the older manifest names, and loads the others from their records', async () => {
    const base = new MemoryStorage()
    const r1 = await filled(base)
    expect(await r1.checkpointRows()).toBe(true)
    // The next manifest waits until released: the parts written before it land first.
    let release: () => void = () => {}
    const held = new Promise<void>((r) => (release = r))
    const r = await Replica.open({
      nodeId: 'a',
      storage: { ...asynchronous(base), setMeta: (key, value) => (key === ROW_SNAPSHOT_META_KEY ? held.then(() => base.setMeta(key, value)) : base.setMeta(key, value)) },
      ...quiet,
    })
    await r1.close()
    r.transact((tx) => tx.upsert('u', { k: 'new', w: 7 }))
    await r.durable()
    const checkpoint = r.checkpointRows()
    for (let i = 0; i < 20 && decodeRowSnapshotPart(base.getMeta(rowSnapshotPartKey(tableShard(r, 'u').id)))?.rows.some((row) => row['k'] === 'new') !== true; i++) await new Promise((res) => setTimeout(res, 0))
    // The crash: u's new part is stored, the manifest naming it is not.
    const crashed = MemoryStorage.fromSnapshot(base.snapshot())
    release()
    expect(await checkpoint).toBe(true)
    const { r: again, warnings } = await reopen(crashed)
    expect(again.rowsRestored).toEqual({ exact: 1, after: 0 })
    expect(tableShard(again, 't').isDeferred).toBe(true)
    expect(again.get('u', ['new'])).toEqual({ k: 'new', w: 7 })
    expect(warnings).toEqual([])
    const full = await fromRecords(crashed)
    sameAsFromRecords(again, full)
    // Once the manifest landed, both parts are taken.
    const { r: after } = await reopen(MemoryStorage.fromSnapshot(base.snapshot()))
    expect(after.rowsRestored).toEqual({ exact: 2, after: 0 })
    await Promise.all([r.close(), again.close(), full.close(), after.close()])
  })

  it.each(['torn', 'throws'] as const)('a part storage cannot give back (%s) is reported, and only its shard loads from its records', async (how) => {
    const base = new MemoryStorage()
    const r1 = await filled(base)
    expect(await r1.checkpointRows()).toBe(true)
    const u = tableShard(r1, 'u').id
    await r1.close()
    const damaged = MemoryStorage.fromSnapshot(base.snapshot())
    const key = rowSnapshotPartKey(u)
    const stored = damaged.getMeta(key)!
    if (how === 'torn') damaged.setMeta(key, stored.subarray(0, Math.floor(stored.length / 2)))
    const storage: Storage = {
      ...asynchronous(damaged),
      getMeta: async (k) => {
        if (how === 'throws' && k === key) throw new Error('checksum mismatch')
        return damaged.getMeta(k)
      },
    }
    const { r, warnings } = await reopen(storage)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(`part of shard ${u}`)
    expect(r.rowsRestored).toEqual({ exact: 1, after: 0 })
    expect(tableShard(r, 't').isDeferred).toBe(true)
    const full = await fromRecords(base)
    sameAsFromRecords(r, full)
    expect(r.rowsCheckpointed).toBe(false)
    // The next checkpoint writes the part again: a start takes both.
    expect(await r.checkpointRows()).toBe(true)
    await r.close()
    const { r: again, warnings: none } = await reopen(damaged)
    expect(none).toEqual([])
    expect(again.rowsRestored).toEqual({ exact: 2, after: 0 })
    await Promise.all([again.close(), full.close()])
  })

  it('the part of a dropped table is cleared by the next checkpoint', async () => {
    const base = new MemoryStorage()
    const r1 = await filled(base)
    expect(await r1.checkpointRows()).toBe(true)
    const u = tableShard(r1, 'u').id
    expect(base.getMeta(rowSnapshotPartKey(u))!.length).toBeGreaterThan(1)
    r1.transact((tx) => tx.dropTable('u'))
    await r1.durable()
    expect(await r1.checkpointRows()).toBe(true)
    expect(base.getMeta(rowSnapshotPartKey(u))).toEqual(new Uint8Array(0))
    expect((await storedSnapshot(base)).named).toEqual([tableShard(r1, 't').id])
    const { r: again, warnings } = await reopen(MemoryStorage.fromSnapshot(base.snapshot()))
    expect(again.rowsRestored).toEqual({ exact: 1, after: 0 })
    expect(warnings).toEqual([])
    await Promise.all([r1.close(), again.close()])
  })
})
