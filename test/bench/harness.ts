/** Small helpers shared by the benchmark scripts: medians, ratios, aligned tables, the common table, the load. */
import { loadavg } from 'node:os'
import type { TableSpec } from '@concord/core'

/** The three-column table (plus an integer key) the engine benchmarks write. */
export const ITEMS: TableSpec = {
  name: 'items',
  columns: [
    { name: 'id', type: 'int' },
    { name: 'name', type: 'text' },
    { name: 'price', type: 'numeric' },
    { name: 'qty', type: 'int' },
  ],
  primaryKey: ['id'],
}

/** Full garbage collection when node runs with --expose-gc (twice: weak refs, then what they held). */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g) {
    g()
    g()
  }
}

/** Heap in use after a full collection. */
export function heapAfterGc(): number {
  gc()
  return process.memoryUsage().heapUsed
}
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** "1.42x" meaning how many times the first is of the second. */
export function ratio(value: number, baseline: number, _kind: 'time' | 'size'): string {
  if (baseline === 0) return 'n/a'
  return `${(value / baseline).toFixed(2)}x`
}

export function printTable(title: string, rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map(String))
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  console.log(`\n${title}`)
  for (const [i, r] of cells.entries()) {
    console.log('| ' + r.map((c, j) => c.padEnd(widths[j]!)).join(' | ') + ' |')
    if (i === 0) console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|')
  }
}

/** The machine's 1-minute load average, printed beside each figure (the machine may be shared). */
export function load1(): number {
  return loadavg()[0]!
}

/** A number with fixed decimals and thousands separators. */
export function fmt(n: number, decimals = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: decimals })
}

/**
 * Runs `run` with a 1 ms ticker: how long it took, and the longest the event loop went
 * without a turn meanwhile (what every other client of the process waited at most).
 */
export async function timedWithGap(run: () => Promise<unknown>): Promise<{ ms: number; gapMs: number }> {
  let last = performance.now()
  let gapMs = 0
  const ticker = setInterval(() => {
    const now = performance.now()
    gapMs = Math.max(gapMs, now - last)
    last = now
  }, 1)
  const t0 = performance.now()
  try {
    await run()
  } finally {
    clearInterval(ticker)
  }
  const ms = performance.now() - t0
  return { ms, gapMs: Math.max(gapMs, performance.now() - last) }
}
