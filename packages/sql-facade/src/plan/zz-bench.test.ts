import { it } from 'vitest'
import { openDatabase } from '../database.js'
it('bench', async () => {
  const db = await openDatabase({ nodeId: 'b' })
  await db.query('CREATE TABLE acc (aid int PRIMARY KEY, bid int, abalance int, filler char(84))')
  await db.query(`INSERT INTO acc SELECT g, 1, 0, '' FROM generate_series(1, 10000) g`)
  const cached = db.session()
  const plain = db.session()
  ;(plain as unknown as { plans: unknown }).plans = { select: (_t: unknown, e: unknown, plan: (e: unknown) => unknown) => plan(e) }
  const N = 20000
  const run = async (s: typeof cached) => { const t = performance.now(); for (let i = 0; i < N; i++) await s.query(`SELECT abalance FROM acc WHERE aid = ${(i * 7919) % 10000 + 1}`); return (performance.now() - t) * 1000 / N }
  const runP = async (s: typeof cached) => { const p = await s.prepare('SELECT abalance FROM acc WHERE aid = $1'); const t = performance.now(); for (let i = 0; i < N; i++) await s.execute(p, [String((i * 7919) % 10000 + 1)]); return (performance.now() - t) * 1000 / N }
  const out: string[] = []
  for (let r = 0; r < 5; r++) {
    const a = await run(plain); const b = await run(cached); const c = await runP(plain); const d = await runP(cached)
    out.push(`round ${r}: literal uncached ${a.toFixed(1)}us cached ${b.toFixed(1)}us ratio ${(a / b).toFixed(2)}x | prepared uncached ${c.toFixed(1)}us cached ${d.toFixed(1)}us ratio ${(c / d).toFixed(2)}x`)
  }
  console.log(out.join('\n'), '\nload', (await import('node:os')).loadavg().join(' '))
  await db.close()
}, 600000)
