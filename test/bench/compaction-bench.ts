/**
 * Compaction benchmark (issue 7): bytes per row as rows are updated over and over, with
 * generation compaction, beside raw Yjs (which keeps every overwritten value); the time
 * to rewrite a 100,000-row shard; and single-row write latency on that shard while it is
 * rewritten. `node --expose-gc --import tsx test/bench/compaction-bench.ts`.
 */
import * as Y from 'yjs'
import { Replica } from '@concord/core'
import { ITEMS, heapAfterGc, median, printTable } from './harness.js'

const ROWS = 1000
const table = ITEMS

function shardOf(r: Replica) {
  return [...r.shards.values()].find((s) => s.id.endsWith(':items'))!
}

async function growth(updates: number): Promise<string[]> {
  // raw Yjs: one key per row, the row's values as an array, overwritten in place
  const h0 = heapAfterGc()
  const doc = new Y.Doc()
  const map = doc.getMap<unknown[]>('rows')
  doc.transact(() => {
    for (let i = 0; i < ROWS; i++) map.set(String(i), [`item ${i}`, `${i}.99`, 0])
  })
  for (let u = 1; u < updates; u++) {
    doc.transact(() => {
      for (let i = 0; i < ROWS; i++) map.set(String(i), [`item ${i}`, `${i}.99`, u])
    })
  }
  const rawEncoded = Y.encodeStateAsUpdate(doc).length / ROWS
  const rawHeap = (heapAfterGc() - h0) / ROWS
  doc.destroy()

  const h1 = heapAfterGc()
  const r = await Replica.open({ nodeId: 'bench', antiEntropyIntervalMs: 0 })
  r.transact((tx) => tx.createTable(table))
  r.transact((tx) => {
    for (let i = 0; i < ROWS; i++) tx.insert('items', { id: i, name: `item ${i}`, price: `${i}.99`, qty: 0 })
  })
  for (let u = 1; u < updates; u++) {
    r.transact((tx) => {
      for (let i = 0; i < ROWS; i++) tx.update('items', [i], { qty: u })
    })
    // housekeeping runs with anti-entropy rounds in a live node; here every 50 updates
    if (u % 50 === 0) r.compactionRound()
  }
  r.compactionRound()
  await r.durable()
  const conEncoded = Y.encodeStateAsUpdate(shardOf(r).doc).length / ROWS
  const conHeap = (heapAfterGc() - h1) / ROWS
  const gen = shardOf(r).generation > 0 ? 'yes' : 'no'
  await r.close()
  return [String(updates), rawEncoded.toFixed(0), conEncoded.toFixed(0), rawHeap.toFixed(0), conHeap.toFixed(0), gen]
}

async function rewrite(rows: number): Promise<{ compactMs: number; p50: number; p99: number; max: number; baseP50: number }> {
  const r = await Replica.open({ nodeId: 'bench', antiEntropyIntervalMs: 0, compaction: { enabled: false } })
  r.transact((tx) => tx.createTable(table))
  for (let i = 0; i < rows; i += 1000) {
    r.transact((tx) => {
      for (let j = i; j < i + 1000; j++) tx.insert('items', { id: j, name: `item ${j}`, price: `${j}.99`, qty: 0 })
    })
  }
  for (let i = 0; i < rows; i += 1000) {
    r.transact((tx) => {
      for (let j = i; j < i + 1000; j++) tx.update('items', [j], { qty: 1 })
    })
  }
  // baseline: single-row write latency without compaction
  const base: number[] = []
  for (let k = 0; k < 500; k++) {
    const issued = performance.now()
    await new Promise((res) => setTimeout(res, 0))
    r.transact((tx) => tx.update('items', [k], { qty: 2 }))
    base.push(performance.now() - issued)
  }
  // writes issued every millisecond while the shard is rewritten: each waits at most for the rewrite
  const latencies: number[] = []
  let compactMs = 0
  const writer = (async () => {
    for (let k = 0; k < 500; k++) {
      const issued = performance.now()
      await new Promise((res) => setTimeout(res, 0))
      r.transact((tx) => tx.update('items', [k], { qty: 3 }))
      latencies.push(performance.now() - issued)
    }
  })()
  await new Promise((res) => setTimeout(res, 5))
  const t0 = performance.now()
  r.compactShard(shardOf(r))
  compactMs = performance.now() - t0
  await writer
  await r.close()
  latencies.sort((a, b) => a - b)
  return { compactMs, p50: median(latencies), p99: latencies[Math.floor(latencies.length * 0.99)]!, max: latencies[latencies.length - 1]!, baseP50: median(base) }
}

const rows: string[][] = [['updates per row', 'raw Yjs encoded B/row', 'Concord encoded B/row', 'raw Yjs resident B/row', 'Concord resident B/row', 'compacted']]
for (const u of [1, 10, 100, 1000]) rows.push(await growth(u))
printTable(`Bytes per row, ${ROWS} three-column rows updated N times (Concord: generation compaction on)`, rows)
const one = Number(rows[1]![2])
const thousand = Number(rows[4]![2])
console.log(`Concord encoded after 1,000 updates / after 1 write: ${(thousand / one).toFixed(2)}x (target <= 2x)`)

/**
 * Deleted rows: 1,000 rows written by three replicas, then 900 deleted. Concord drops a
 * stable delete's entries and tombstone, so the shard costs what the 100 live rows cost
 * alone; raw Yjs (one writer, map.delete) is shown for scale.
 */
async function deletedRows(written: number, deleted: number): Promise<{ before: number; after: number; live: number }> {
  const replicas = await Promise.all(['a', 'b', 'c'].map((nodeId) => Replica.open({ nodeId, antiEntropyIntervalMs: 0, compaction: { minGarbage: 1, ratio: 0.01 } })))
  const [a] = replicas as [Replica]
  a.transact((tx) => tx.createTable(table))
  const sync = () => {
    // full-state exchange among the three, both ways (what anti-entropy converges to)
    for (const x of replicas) for (const y of replicas) {
      if (x === y) continue
      for (const [id, s] of x.shards) {
        const t = y.shards.get(id) ?? y.shardFor(id)
        if (t !== null && t !== undefined && t.generation === s.generation) y.applyRemote(t, Y.encodeStateAsUpdate(s.doc))
      }
    }
  }
  sync()
  for (const [k, r] of replicas.entries()) {
    r.transact((tx) => {
      for (let i = 0; i < written; i++) tx.upsert('items', { id: i, name: `item ${i}`, price: `${i}.99`, qty: k })
    })
  }
  sync()
  if (deleted > 0) {
    a.transact((tx) => {
      for (let i = written - deleted; i < written; i++) tx.delete('items', [i])
    })
  }
  sync()
  const before = Y.encodeStateAsUpdate(shardOf(a).doc).length
  // every member has since reported a's state: the deletes are stable
  await new Promise((res) => setTimeout(res, 5))
  for (const r of replicas) for (const o of replicas) if (r !== o) r.noteEqualState(shardOf(r).id, o.nodeId)
  const builder = replicas.find((r) => r.builderOf(shardOf(r).id) === r.nodeId)!
  builder.compactShard(shardOf(builder))
  const after = Y.encodeStateAsUpdate(shardOf(builder).doc).length
  const live = builder.rowCount('items')
  for (const r of replicas) await r.close()
  return { before, after, live }
}

const doc = new Y.Doc()
const rawMap = doc.getMap<unknown[]>('rows')
doc.transact(() => {
  for (let i = 0; i < ROWS; i++) rawMap.set(String(i), [`item ${i}`, `${i}.99`, 0])
})
const rawWritten = Y.encodeStateAsUpdate(doc).length
doc.transact(() => {
  for (let i = 100; i < ROWS; i++) rawMap.delete(String(i))
})
const rawDeleted = Y.encodeStateAsUpdate(doc).length
const del = await deletedRows(ROWS, ROWS - 100)
const only = await deletedRows(100, 0)
printTable('Deleted rows: encoded bytes of the shard', [
  ['state', 'raw Yjs (1 writer)', 'Concord (3 writers)'],
  [`${ROWS} rows written`, String(rawWritten), '-'],
  [`then ${ROWS - 100} deleted`, String(rawDeleted), String(del.before)],
  [`then compacted (${del.live} live rows, tombstones dropped)`, '-', String(del.after)],
  ['for comparison: only 100 rows ever written, compacted', '-', String(only.after)],
])

const runs = []
for (let i = 0; i < 3; i++) runs.push(await rewrite(100_000))
printTable('Rewriting a 100,000-row shard (median of 3)', [
  ['measure', 'ms'],
  ['rewrite as a new generation (build + snapshot for storage and peers)', median(runs.map((r) => r.compactMs)).toFixed(0)],
  ['single-row write issued every tick, no compaction, p50', median(runs.map((r) => r.baseP50)).toFixed(3)],
  ['single-row write during compaction, p50', median(runs.map((r) => r.p50)).toFixed(3)],
  ['single-row write during compaction, p99', median(runs.map((r) => r.p99)).toFixed(1)],
  ['single-row write during compaction, max', median(runs.map((r) => r.max)).toFixed(1)],
])
