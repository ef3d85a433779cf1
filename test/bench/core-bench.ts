/**
 * Core engine benchmark (issue 2): Concord against raw Yjs doing the equivalent work,
 * measured in the same process and run. Run with `npm run bench` (or directly:
 * `node --expose-gc --import tsx test/bench/core-bench.ts`). Prints medians of several
 * repetitions and ratios; asserts nothing.
 *
 * The raw Yjs baseline is the best layout DESIGN.md measured: one Y.Doc, one flat map
 * key per row, the row's values as an array, 1,000 rows per Yjs transaction.
 */
import * as Y from 'yjs'
import { Replica, Simulation } from '@concord/core'
import { ITEMS, gc, heapAfterGc, median, printTable, ratio } from './harness.js'

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000)
const BATCH = 1000
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5)

const table = ITEMS

/** Raw Yjs; with `persist`, it also keeps each transaction's encoded update, as any persisted Yjs app must. */
function rawInsert(n: number, persist = false): { doc: Y.Doc; ms: number } {
  const doc = new Y.Doc()
  if (persist) {
    const log: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => log.push(u))
  }
  const map = doc.getMap<unknown[]>('rows')
  const t0 = performance.now()
  for (let i = 0; i < n; i += BATCH) {
    doc.transact(() => {
      for (let j = i; j < Math.min(n, i + BATCH); j++) map.set(String(j), [`item ${j}`, `${j}.99`, j % 100])
    })
  }
  return { doc, ms: performance.now() - t0 }
}

function rawUpdate(doc: Y.Doc, n: number): number {
  const map = doc.getMap<unknown[]>('rows')
  const t0 = performance.now()
  for (let i = 0; i < n; i += BATCH) {
    doc.transact(() => {
      for (let j = i; j < Math.min(n, i + BATCH); j++) {
        const row = map.get(String(j))!
        map.set(String(j), [row[0], row[1], (j % 100) + 1])
      }
    })
  }
  return performance.now() - t0
}

async function concordInsert(n: number): Promise<{ replica: Replica; ms: number }> {
  const replica = await Replica.open({ nodeId: 'bench', antiEntropyIntervalMs: 0 })
  replica.transact((tx) => tx.createTable(table))
  const t0 = performance.now()
  for (let i = 0; i < n; i += BATCH) {
    replica.transact((tx) => {
      for (let j = i; j < Math.min(n, i + BATCH); j++) tx.insert('items', { id: j, name: `item ${j}`, price: `${j}.99`, qty: j % 100 })
    })
  }
  await replica.durable()
  return { replica, ms: performance.now() - t0 }
}

async function concordUpdate(replica: Replica, n: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i += BATCH) {
    replica.transact((tx) => {
      for (let j = i; j < Math.min(n, i + BATCH); j++) tx.update('items', [j], { qty: (j % 100) + 1 })
    })
  }
  await replica.durable()
  return performance.now() - t0
}

async function main(): Promise<void> {
  const rawIns: number[] = []
  const rawUpd: number[] = []
  const perIns: number[] = []
  const perUpd: number[] = []
  const conIns: number[] = []
  const conUpd: number[] = []
  for (let r = 0; r < REPEAT; r++) {
    const raw = rawInsert(ROWS)
    rawIns.push(raw.ms)
    rawUpd.push(rawUpdate(raw.doc, ROWS))
    raw.doc.destroy()
    gc()
    const per = rawInsert(ROWS, true)
    perIns.push(per.ms)
    perUpd.push(rawUpdate(per.doc, ROWS))
    per.doc.destroy()
    gc()
    const con = await concordInsert(ROWS)
    conIns.push(con.ms)
    conUpd.push(await concordUpdate(con.replica, ROWS))
    await con.replica.close()
    gc()
  }
  const rps = (ms: number) => Math.round((ROWS / ms) * 1000)

  // Memory and encoded size, one fresh instance each, measured after GC.
  const base0 = heapAfterGc()
  const raw = rawInsert(ROWS)
  const rawHeap = heapAfterGc() - base0
  const rawEncoded = Y.encodeStateAsUpdate(raw.doc).length
  raw.doc.destroy()
  const base1 = heapAfterGc()
  const con = await concordInsert(ROWS)
  const conHeap = heapAfterGc() - base1
  const shard = [...con.replica.shards.values()].find((s) => s.id !== 'catalog')!
  const conEncoded = Y.encodeStateAsUpdate(shard.doc).length
  await con.replica.close()

  // Cold catch-up: a fresh peer joins a peer holding ROWS rows and syncs by anti-entropy.
  const catchUp: number[] = []
  const rawCopy: number[] = []
  for (let r = 0; r < Math.min(REPEAT, 3); r++) {
    const src = rawInsert(ROWS).doc
    const t0 = performance.now()
    const copy = new Y.Doc()
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(src, Y.encodeStateVector(copy)))
    copy.getMap('rows').size
    rawCopy.push(performance.now() - t0)
    src.destroy()
    copy.destroy()

    const sim = new Simulation({ seed: r + 1, faults: { minDelayMs: 0, maxDelayMs: 0 } })
    const a = await sim.addNode({ id: 'a' })
    a.transact((tx) => tx.createTable(table))
    for (let i = 0; i < ROWS; i += BATCH) {
      a.transact((tx) => {
        for (let j = i; j < Math.min(ROWS, i + BATCH); j++) tx.insert('items', { id: j, name: `item ${j}`, price: `${j}.99`, qty: j % 100 })
      })
    }
    gc()
    const t1 = performance.now()
    const b = await sim.addNode({ id: 'b' })
    await sim.settle()
    const ms = performance.now() - t1
    if (b.rowCount('items') !== ROWS) throw new Error(`catch-up incomplete: ${b.rowCount('items')} rows`)
    catchUp.push(ms)
  }

  printTable(`Core engine vs raw Yjs, ${ROWS.toLocaleString('en')} rows x 3 columns, batches of ${BATCH}, median of ${REPEAT}`, [
    ['measure', 'raw Yjs', 'Yjs + update log', 'Concord', 'vs raw', 'vs update log', 'target'],
    ['insert rows/s', rps(median(rawIns)), rps(median(perIns)), rps(median(conIns)), ratio(median(conIns), median(rawIns), 'time'), ratio(median(conIns), median(perIns), 'time'), 'within 2x'],
    ['update rows/s', rps(median(rawUpd)), rps(median(perUpd)), rps(median(conUpd)), ratio(median(conUpd), median(rawUpd), 'time'), ratio(median(conUpd), median(perUpd), 'time'), 'within 2x'],
    ['resident bytes/row', Math.round(rawHeap / ROWS), '', Math.round(conHeap / ROWS), ratio(conHeap, rawHeap, 'size'), '', '<= 400'],
    ['encoded bytes/row', (rawEncoded / ROWS).toFixed(1), '', (conEncoded / ROWS).toFixed(1), ratio(conEncoded, rawEncoded, 'size'), '', '<= 120'],
    ['cold catch-up ms', median(rawCopy).toFixed(0), '', median(catchUp).toFixed(0), ratio(median(catchUp), median(rawCopy), 'time'), '', '< 500 ms'],
  ])
}

await main()
