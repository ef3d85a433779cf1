import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { CorruptRecordError, crc32c, decodeRecord, encodeRecord, StorageFullError, type StoredRecord } from '@concord/core'
import { FailingOnceLmdbStorage, untilIssued } from './failing-lmdb.fixture.js'
import { LmdbStorage } from './lmdb-storage.js'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-lmdb-'))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)
const update = (s: string, generation = 1): StoredRecord => ({ generation, kind: 'update', data: bytes(s) })

describe('record codec', () => {
  it('round trips updates and snapshots with large generations', () => {
    for (const r of [update('x', 0), { generation: 2 ** 40 + 7, kind: 'snapshot' as const, data: new Uint8Array([0, 255]) }]) {
      expect(decodeRecord(encodeRecord(r))).toEqual(r)
    }
  })
  it('rejects short buffers, unknown versions and kinds', () => {
    expect(() => decodeRecord(new Uint8Array(3))).toThrow(CorruptRecordError)
    const good = encodeRecord(update('x'))
    expect(() => decodeRecord(Uint8Array.of(9, ...good.subarray(1)))).toThrow(/version/)
    // A kind byte of 7 with its checksum made to match: refused for the kind.
    const badKind = Uint8Array.from(good)
    badKind[1] = 7
    new DataView(badKind.buffer).setUint32(10, crc32c(badKind.subarray(14), crc32c(badKind.subarray(0, 10))))
    expect(() => decodeRecord(badKind)).toThrow(/kind/)
  })
  it('refuses a record with any one byte changed (its checksum no longer matches)', () => {
    const good = encodeRecord({ generation: 3, kind: 'update', data: bytes('value 29, a row as Yjs stores it') })
    for (let at = 0; at < good.length; at++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bad = Uint8Array.from(good)
        bad[at]! ^= flip
        expect(() => decodeRecord(bad), `byte ${at} ^ ${flip}`).toThrow(CorruptRecordError)
      }
    }
    expect(() => decodeRecord(good.subarray(0, good.length - 1))).toThrow(/checksum/)
  })
  it('reads a version-1 record (before checksums) only when asked to, for the upgrade of an old directory', () => {
    const v1 = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 0, 5, ...bytes('old'))
    expect(() => decodeRecord(v1)).toThrow(/version 1/)
    expect(decodeRecord(v1, { legacy: true })).toEqual({ generation: 5, kind: 'update', data: bytes('old') })
  })
})

describe('LmdbStorage', () => {
  it('loads appended records per shard in append order', async () => {
    const s = new LmdbStorage({ path: tempDir() })
    await s.append([{ shard: 'a', record: update('a1') }, { shard: 'b', record: update('b1') }])
    await Promise.all([s.append([{ shard: 'a', record: update('a2') }]), s.append([{ shard: 'a', record: update('a3') }])])
    expect(s.load('a').map((r) => text(r.data))).toEqual(['a1', 'a2', 'a3'])
    expect(s.load('b').map((r) => text(r.data))).toEqual(['b1'])
    expect(s.load('none')).toEqual([])
    expect(s.shards().sort()).toEqual(['a', 'b'])
    await s.close()
  })

  it('compact replaces earlier records by the snapshot and keeps later ones', async () => {
    const s = new LmdbStorage({ path: tempDir() })
    await s.append([{ shard: 'a', record: update('a1') }, { shard: 'a', record: update('a2') }])
    const compacting = s.compact('a', { generation: 2, kind: 'snapshot', data: bytes('snap') })
    const later = s.append([{ shard: 'a', record: update('a3', 2) }])
    await Promise.all([compacting, later])
    expect(s.load('a').map((r) => [r.kind, r.generation, text(r.data)])).toEqual([
      ['snapshot', 2, 'snap'],
      ['update', 2, 'a3'],
    ])
    await s.close()
  })

  it('remove drops a shard and its records', async () => {
    const s = new LmdbStorage({ path: tempDir() })
    await s.append([{ shard: 'a', record: update('a1') }, { shard: 'b', record: update('b1') }])
    await s.remove('a')
    expect(s.shards()).toEqual(['b'])
    expect(s.load('a')).toEqual([])
    await s.append([{ shard: 'a', record: update('again') }])
    expect(s.load('a').map((r) => text(r.data))).toEqual(['again'])
    await s.close()
  })

  it('stores metadata', async () => {
    const s = new LmdbStorage({ path: tempDir() })
    expect(s.getMeta('client-id')).toBeUndefined()
    await s.setMeta('client-id', Uint8Array.of(1, 2, 3))
    expect(s.getMeta('client-id')).toEqual(Uint8Array.of(1, 2, 3))
    await s.close()
  })

  it('records loaded are the reader\'s: later appends, loads and compactions leave their data as it was', async () => {
    // load hands out views of what lmdb-js's range returned (no second copy of each
    // record's data); that must be memory no later read reuses.
    const s = new LmdbStorage({ path: tempDir() })
    const large = (fill: number): StoredRecord => ({ generation: 1, kind: 'update', data: new Uint8Array(2 << 20).fill(fill) })
    await s.append([{ shard: 't', record: update('small') }, { shard: 't', record: large(7) }])
    const first = s.load('t')
    await s.append([{ shard: 't', record: update('later') }, { shard: 't', record: large(9) }])
    const second = s.load('t')
    await s.compact('t', { generation: 1, kind: 'snapshot', data: new Uint8Array(3 << 20).fill(5) })
    expect(s.load('t')[0]!.data[0]).toBe(5)
    expect(second.map((r) => r.data.length)).toEqual([5, 2 << 20, 5, 2 << 20])
    expect(text(first[0]!.data)).toBe('small')
    expect(first[1]!.data.every((b) => b === 7)).toBe(true)
    expect(text(second[2]!.data)).toBe('later')
    expect(second[3]!.data.every((b) => b === 9)).toBe(true)
    await s.close()
  })

  it('a metadata value read is the reader\'s: later reads and writes, small or large, leave it as it was', async () => {
    // getMeta answers a view of what lmdb-js's get returned (no second copy of a large
    // value such as a row snapshot part); that must be memory no later read reuses.
    const s = new LmdbStorage({ path: tempDir() })
    const large = (fill: number): Uint8Array => new Uint8Array(3 << 20).fill(fill)
    await s.setMeta('small', bytes('first'))
    await s.setMeta('large', large(7))
    const small = s.getMeta('small')!
    const big = s.getMeta('large')!
    await s.setMeta('small', bytes('other'))
    await s.setMeta('large', large(9))
    await s.setMeta('third', large(5))
    expect(text(s.getMeta('small')!)).toBe('other')
    expect(s.getMeta('large')![0]).toBe(9)
    expect(s.getMeta('third')![100]).toBe(5)
    expect(text(small)).toBe('first')
    expect(big.length).toBe(3 << 20)
    expect(big.every((b) => b === 7)).toBe(true)
    await s.close()
  })

  it('reopening after close restores exactly the same state', async () => {
    const dir = tempDir()
    const s = new LmdbStorage({ path: dir })
    for (let i = 0; i < 50; i++) await s.append([{ shard: `t${i % 4}`, record: update(`v${i}`) }])
    await s.compact('t1', { generation: 3, kind: 'snapshot', data: bytes('s1') })
    await s.append([{ shard: 't1', record: update('after', 3) }])
    await s.remove('t3')
    await s.setMeta('m', bytes('meta'))
    const before = { shards: s.shards().sort(), records: Object.fromEntries(s.shards().map((sh) => [sh, s.load(sh)])) }
    await s.close()

    const r = new LmdbStorage({ path: dir })
    expect(r.shards().sort()).toEqual(before.shards)
    for (const sh of before.shards) expect(r.load(sh)).toEqual(before.records[sh])
    expect(text(r.getMeta('m')!)).toBe('meta')
    // Sequence numbers continue after reopen: new records load after old ones.
    await r.append([{ shard: 't0', record: update('new') }])
    expect(text(r.load('t0').at(-1)!.data)).toBe('new')
    expect(r.load('t0')).toHaveLength(before.records['t0']!.length + 1)
    await r.close()
  })

  it('issues writes after the task that called them, in call order, one transaction at a time: appends queued together go as one batch', async () => {
    /** Records each write handed to LMDB: a batch, or a transaction callback. */
    class Seen extends LmdbStorage {
      readonly issued: string[] = []
      protected override transaction(fn: () => void, batch = false): Promise<unknown> {
        this.issued.push(batch ? 'batch' : 'transaction')
        return super.transaction(fn, batch)
      }
    }
    const dir = tempDir()
    const s = new Seen({ path: dir })
    await s.append([{ shard: 'a', record: update('a1') }])
    expect(s.issued).toEqual(['transaction'])
    const appends = [s.append([{ shard: 'a', record: update('a2') }]), s.append([{ shard: 'a', record: update('a3') }])]
    expect(s.issued).toHaveLength(1)
    await Promise.all(appends)
    expect(s.issued).toEqual(['transaction', 'batch'])
    expect(s.load('a').map((r) => text(r.data))).toEqual(['a1', 'a2', 'a3'])
    // Mixed, they go as one transaction, in call order: the compaction drops a1-a3, keeps a4.
    const mixed = [s.append([{ shard: 'b', record: update('b1') }]), s.compact('a', { generation: 2, kind: 'snapshot', data: bytes('snap') }), s.append([{ shard: 'a', record: update('a4', 2) }]), s.setMeta('m', bytes('meta'))]
    await Promise.all(mixed)
    expect(s.issued).toEqual(['transaction', 'batch', 'transaction'])
    expect(s.load('a').map((r) => text(r.data))).toEqual(['snap', 'a4'])
    expect(s.load('b').map((r) => text(r.data))).toEqual(['b1'])
    await s.close()
    const again = new LmdbStorage({ path: dir })
    expect(again.load('a').map((r) => text(r.data))).toEqual(['snap', 'a4'])
    await again.close()
  })

  it('issues a write after the requests that reached the process\'s sockets while the calling task ran', async () => {
    // A follower applies a peer's row in the task that read it and writes it; a read of
    // that row that came in meanwhile is answered before the write starts, not after it.
    const order: string[] = []
    class Seen extends LmdbStorage {
      protected override transaction(fn: () => void, batch = false): Promise<unknown> {
        order.push('write issued')
        return super.transaction(fn, batch)
      }
    }
    const s = new Seen({ path: tempDir() })
    await s.append([{ shard: 'a', record: update('a0') }])
    order.length = 0
    let written: Promise<void> | null = null
    let reader: Socket | null = null
    const server = createServer((socket) => socket.on('data', (data) => {
      if (data.toString() === 'read') {
        order.push('request read')
        return
      }
      // The task that writes: an I/O callback, as a peer's frame is. The request reaches
      // the server's socket while it runs (loopback, written at once).
      reader!.write('read')
      written = s.append([{ shard: 'a', record: update('a1') }])
    }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const open = async (): Promise<Socket> => {
      const c = connect(port, '127.0.0.1')
      await new Promise<void>((resolve) => c.once('connect', resolve))
      return c
    }
    reader = await open()
    const peer = await open()
    // Both connections taken by the server before anything is sent.
    await new Promise((resolve) => setTimeout(resolve, 20))
    peer.write('row')
    for (let i = 0; i < 200 && written === null; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    await written
    expect(order).toEqual(['request read', 'write issued'])
    reader.destroy()
    peer.destroy()
    await new Promise((resolve) => server.close(resolve))
    await s.close()
  })

  it('a batch that failed leaves the next append, queued behind it, with the markers the file holds', async () => {
    const dir = tempDir()
    const s = new FailingOnceLmdbStorage({ path: dir, durable: false })
    // A slow commit: still in LMDB when the next append is called.
    s.delayMs = 20
    await s.append([{ shard: 'a', record: update('a1') }])
    s.failNext = true
    const lost = s.append([{ shard: 'a', record: update('lost') }])
    // Issued, and in LMDB, when the next append is called.
    await untilIssued()
    const kept = s.append([{ shard: 'a', record: update('kept') }])
    await expect(lost).rejects.toThrow(/storage write failed/)
    await kept
    expect(s.load('a').map((r) => text(r.data))).toEqual(['a1', 'kept'])
    await s.close()
    const again = new LmdbStorage({ path: dir, durable: false })
    expect(again.load('a').map((r) => text(r.data))).toEqual(['a1', 'kept'])
    await again.close()
  })

  it('a marker read outside a write while a batch is in LMDB does not replace the one the batch wrote', async () => {
    /** Hands each write to LMDB 20 ms late: a batch's markers are computed, not yet on disk. */
    class Slow extends LmdbStorage {
      protected override transaction(fn: () => void, batch = false): Promise<unknown> {
        return new Promise((resolve) => setTimeout(resolve, 20)).then(() => super.transaction(fn, batch))
      }
    }
    const dir = tempDir()
    const s = new Slow({ path: dir, durable: false })
    await s.append([{ shard: 'a', record: update('a1') }])
    const a2 = s.append([{ shard: 'a', record: update('a2') }])
    await untilIssued()
    // Reads the file as it is before a2 (and, before the fix, kept that older marker).
    expect(s.load('a').map((r) => text(r.data))).toEqual(['a1'])
    await a2
    await s.append([{ shard: 'a', record: update('a3') }])
    await s.close()
    const again = new LmdbStorage({ path: dir, durable: false })
    expect(again.load('a').map((r) => text(r.data))).toEqual(['a1', 'a2', 'a3'])
    await again.close()
  })

  it('close writes what was called before it', async () => {
    const dir = tempDir()
    const s = new LmdbStorage({ path: dir })
    await s.append([{ shard: 'a', record: update('a1') }])
    const late = [s.append([{ shard: 'a', record: update('a2') }]), s.setMeta('m', bytes('meta'))]
    await s.close()
    await Promise.all(late)
    const again = new LmdbStorage({ path: dir })
    expect(again.load('a').map((r) => text(r.data))).toEqual(['a1', 'a2'])
    expect(text(again.getMeta('m')!)).toBe('meta')
    await again.close()
  })

  it('rejects use after close and oversized names', async () => {
    const s = new LmdbStorage({ path: tempDir() })
    await expect(s.append([{ shard: 'x'.repeat(2000), record: update('a') }])).rejects.toThrow(RangeError)
    await s.close()
    expect(() => s.load('a')).toThrow(/closed/)
  })

  it('on a real full file system (a 1 MiB tmpfs), the write that hits it rejects with StorageFullError', async (ctx) => {
    // LMDB reports a full disk as EIO; LmdbStorage asks the file system. Mounting needs
    // root with CAP_SYS_ADMIN: skipped, saying so, without.
    const dir = tempDir()
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' })
    } catch {
      ctx.skip('cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)')
    }
    try {
      const s = new LmdbStorage({ path: join(dir, 'db') })
      let failure: unknown = null
      // Bounded: 1 MiB fills within a few dozen appends of 40 KB.
      for (let i = 0; i < 200 && failure === null; i++) {
        await s.append([{ shard: 'a', record: { generation: 0, kind: 'update', data: new Uint8Array(40_000) } }]).catch((err: unknown) => {
          failure = err
        })
      }
      expect(failure).toBeInstanceOf(StorageFullError)
      await s.close()
    } finally {
      execFileSync('umount', [dir], { stdio: 'ignore' })
    }
  })

  it('kill -9 during a stream of appends loses no acknowledged record', async () => {
    const dir = tempDir()
    const fixture = fileURLToPath(new URL('./crash-writer.fixture.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, '1000000'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const acked: number[] = []
    let buffered = ''
    const killedAfter = 300
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child acknowledged too few records in 30 s')), 30_000)
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop()!
        for (const line of lines) acked.push(Number(line))
        if (acked.length >= killedAfter && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL')
          clearTimeout(timer)
          resolve()
        }
      })
      child.on('exit', (code) => {
        if (acked.length < killedAfter) reject(new Error(`child exited early with ${code}`))
      })
    })
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve)))

    const s = new LmdbStorage({ path: dir })
    const present = new Set<number>()
    for (const shard of s.shards()) for (const r of s.load(shard)) present.add(Number(text(r.data).slice('record-'.length)))
    const missing = acked.filter((seq) => !present.has(seq))
    expect(missing).toEqual([])
    expect(acked.length).toBeGreaterThanOrEqual(killedAfter)
    await s.close()
  })
})
