/**
 * What the tests of statements moved off the event loop share (statement-offload,
 * large-table-offload): two clients racing, and a counter of the node's /metrics.
 */
import pg from 'pg'
import type { ConcordProcess } from './concord-process.js'

/**
 * Runs `long` on `a` and, once it is surely under way, `short` on `b`: the order their
 * answers came in, and `long`'s result or error.
 */
export async function race(a: pg.Client, long: string | pg.QueryConfig, b: pg.Client, short: string[]): Promise<{ order: string[]; long: pg.QueryResult | Error }> {
  const order: string[] = []
  const running = (typeof long === 'string' ? a.query(long) : a.query(long)).then((r) => r, (e: Error) => e).finally(() => order.push('long'))
  // Not a deadline: the long statement has been sent and read by the node well before this.
  await new Promise((resolve) => setTimeout(resolve, 300))
  for (const [i, sql] of short.entries()) {
    await b.query(sql)
    order.push(`short${i}`)
  }
  return { order, long: await running }
}

/** A counter or gauge of the node's /metrics (the node started with `httpPort`). */
export async function metric(node: ConcordProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text()
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1])
}
