/** Small helpers shared by the benchmark scripts: medians, ratios, aligned tables. */
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
