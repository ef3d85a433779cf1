/**
 * Storage micro-benchmark (DESIGN.md decision 11): LmdbStorage against classic-level.
 *
 *   node --import tsx packages/node-server/bench/storage-bench.ts
 *
 * Figures: µs per record when many appends are in flight at once (group commit), and ms
 * per durable commit when each append waits for the previous one.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { LmdbStorage } from '../src/storage/lmdb-storage.js'

const PAYLOAD = new Uint8Array(100).fill(7)
const CONCURRENT = 20_000
const SEQUENTIAL = 300

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'concord-bench-'))
}

async function lmdb(durable: boolean): Promise<void> {
  const path = dir()
  const s = new LmdbStorage({ path, durable })
  let t = performance.now()
  const pending: Array<Promise<void>> = []
  for (let i = 0; i < CONCURRENT; i++) pending.push(s.append([{ shard: `s${i % 16}`, record: { generation: 1, kind: 'update', data: PAYLOAD } }]))
  await Promise.all(pending)
  const perPut = ((performance.now() - t) * 1000) / CONCURRENT
  t = performance.now()
  for (let i = 0; i < SEQUENTIAL; i++) await s.append([{ shard: 'seq', record: { generation: 1, kind: 'update', data: PAYLOAD } }])
  const perCommit = (performance.now() - t) / SEQUENTIAL
  t = performance.now()
  const big = Array.from({ length: CONCURRENT }, (_, i) => ({ shard: `b${i % 16}`, record: { generation: 1, kind: 'update' as const, data: PAYLOAD } }))
  await s.append(big)
  const perBatched = ((performance.now() - t) * 1000) / CONCURRENT
  await s.close()
  rmSync(path, { recursive: true, force: true })
  console.log(`lmdb (${durable ? 'fsync' : 'no fsync'}): ${perPut.toFixed(2)} µs/record with ${CONCURRENT} appends in flight; ${perCommit.toFixed(3)} ms per sequential commit; ${perBatched.toFixed(2)} µs/record in one batch`)
}

async function level(): Promise<void> {
  const path = dir()
  const db = new ClassicLevel<string, Uint8Array>(path, { valueEncoding: 'view' })
  await db.open()
  let t = performance.now()
  const pending: Array<Promise<void>> = []
  // classic-level has no group commit of its own: each sync put is its own fsync'd write.
  for (let i = 0; i < CONCURRENT; i++) pending.push(db.put(`r${i}`, PAYLOAD, { sync: true }))
  await Promise.all(pending)
  const perPut = ((performance.now() - t) * 1000) / CONCURRENT
  t = performance.now()
  for (let i = 0; i < SEQUENTIAL; i++) await db.put(`q${i}`, PAYLOAD, { sync: true })
  const perCommit = (performance.now() - t) / SEQUENTIAL
  t = performance.now()
  const batch = db.batch()
  for (let i = 0; i < CONCURRENT; i++) batch.put(`b${i}`, PAYLOAD)
  await batch.write({ sync: true })
  const perBatched = ((performance.now() - t) * 1000) / CONCURRENT
  await db.close()
  rmSync(path, { recursive: true, force: true })
  console.log(`classic-level (sync): ${perPut.toFixed(2)} µs/record with ${CONCURRENT} puts in flight; ${perCommit.toFixed(3)} ms per sequential commit; ${perBatched.toFixed(2)} µs/record in one batch`)
}

await lmdb(true)
await lmdb(false)
await level()
