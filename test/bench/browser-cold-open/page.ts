/**
 * The page of the browser cold-open bench (cold-open-bench.ts): `?phase=fill&rows=N`
 * writes N rows into an offline replica and closes it; `?phase=open` opens the same
 * replica from IndexedDB and counts the rows, recording the times on `window.bench`.
 */
import { openReplica } from '@concord/browser'

interface BenchResult { phase: string; openMs?: number; countMs?: number; rows?: number; fromSnapshot?: boolean; error?: string }
const w = window as unknown as { bench?: BenchResult }
const params = new URLSearchParams(location.search)
const phase = params.get('phase') ?? 'open'

const idb: string[] = []
if (params.get('trace') === '1') {
  for (const m of ['get', 'getAll', 'getAllKeys'] as const) {
    const orig = IDBObjectStore.prototype[m] as (...a: unknown[]) => IDBRequest
    ;(IDBObjectStore.prototype as unknown as Record<string, unknown>)[m] = function (this: IDBObjectStore, ...a: unknown[]) {
      const t = performance.now()
      const r = orig.apply(this, a)
      r.addEventListener('success', () => idb.push(`${m} ${(t).toFixed(0)}+${(performance.now() - t).toFixed(0)} n=${Array.isArray(r.result) ? r.result.length : 1}`))
      return r
    }
  }
}
(window as unknown as { idb: string[] }).idb = idb
async function run(): Promise<BenchResult> {
  const t0 = performance.now()
  const db = await openReplica({ name: 'cold-open', join: [], offline: true })
  const opened = performance.now()
  if (phase === 'fill') {
    const rows = Number(params.get('rows') ?? '10000')
    await db.query('CREATE TABLE inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL DEFAULT 0)')
    for (let i = 0; i < rows; i += 1000) {
      const values: string[] = []
      for (let j = i; j < Math.min(rows, i + 1000); j++) values.push(`('b${String(j).padStart(5, '0')}', 'item ${j}', ${j % 100})`)
      await db.query(`INSERT INTO inventory (sku, name, qty) VALUES ${values.join(', ')}`)
    }
    await db.close()
    return { phase, rows }
  }
  // Whether the table's rows came from a row checkpoint (its Yjs records not applied yet).
  const fromSnapshot = [...db.replica.shards.values()].some((s) => s.viewName() === 'inventory' && s.isDeferred)
  const r = await db.query('SELECT count(*)::int AS n FROM inventory')
  const counted = performance.now()
  return { phase, openMs: opened - t0, countMs: counted - opened, rows: Number(r.rows[0]?.['n']), fromSnapshot }
}

run().then(
  (r) => (w.bench = r),
  (err: unknown) => (w.bench = { phase, error: String((err as Error).stack ?? err) }),
)
