/**
 * A large row does not stall replication (issue 15): one 100 MB row stalled the link
 * between two nodes for good. Now a row past the node's limit (--max-row-bytes, 16 MiB by
 * default) is refused when written (54000), and a value past it that a peer with a larger
 * limit wrote is refused on arrival and logged, while everything else keeps flowing both
 * ways. Real processes on 127.0.0.1; every wait is bounded.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordProcess } from './concord-process.js'
import { useNodeProcesses } from './node-processes.fixture.js'

const procs = useNodeProcesses('concord-large-row-')

async function connect(node: ConcordProcess): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', query_timeout: 120_000 })
  await c.connect()
  return c
}

/** Polls `probe` until it is true, at most `tries` times a second apart. */
async function eventually(probe: () => Promise<boolean>, tries = 180): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await probe().catch(() => false)) return true
    await new Promise((r) => setTimeout(r, 1000))
  }
  return false
}

const rowsOf = async (c: pg.Client, sql: string): Promise<number> => (await c.query<{ n: number }>(sql)).rows[0]?.n ?? -1

describe('a large row and replication', () => {
  it('is refused at write time past the limit; one a peer with a larger limit wrote is refused on arrival and the link keeps working', async () => {
    // `a` accepts rows up to 100 MB (as a peer of another version or configuration might); `b` keeps the default.
    const a = await procs.started(ConcordProcess.start({ dataDir: join(procs.dir, 'a'), nodeId: 'big-a', extraArgs: ['--max-row-bytes', '100000000'] }))
    const b = await procs.started(ConcordProcess.start({ dataDir: join(procs.dir, 'b'), nodeId: 'big-b', join: [a.pgAddress] }))
    const [ca, cb] = await Promise.all([connect(a), connect(b)])
    try {
      await ca.query('CREATE TABLE big (id int PRIMARY KEY, v text)')
      await ca.query('CREATE TABLE small (id int PRIMARY KEY, v text)')
      expect(await eventually(async () => (await rowsOf(cb, 'SELECT count(*)::int AS n FROM small')) === 0)).toBe(true)

      // Over the wire, b refuses a row past its limit up front.
      await expect(cb.query("INSERT INTO big VALUES (1, repeat('x', 17 * 1024 * 1024))")).rejects.toMatchObject({ code: '54000' })
      expect(await rowsOf(cb, 'SELECT count(*)::int AS n FROM big')).toBe(0)

      // a writes a 20 MB row, allowed by its own limit, then small rows.
      await ca.query("INSERT INTO big VALUES (2, repeat('y', 20 * 1024 * 1024))")
      await ca.query("INSERT INTO small VALUES (1, 'after the large row')")
      // The small row reaches b; b never applies the large one and says why.
      expect(await eventually(async () => (await rowsOf(cb, 'SELECT count(*)::int AS n FROM small WHERE id = 1')) === 1)).toBe(true)
      expect(await eventually(async () => /refused a replicated update of shard \S+: it carries a value of \d+ bytes/.test(b.log))).toBe(true)
      // b has none of it: it answers 0 from its own rows, or, when the table was made before
      // a knew b had joined (so b catches up by an exchange, which the refused row keeps
      // from completing), it reads big from a and that read is refused past the federated
      // read limit: never the row.
      const bigOnB = await rowsOf(cb, 'SELECT count(*)::int AS n FROM big').catch((e: Error) => e.message)
      expect(bigOnB === 0 || /exceed the federated read limit/.test(String(bigOnB)), String(bigOnB)).toBe(true)

      // The link keeps working in both directions afterwards.
      await cb.query("INSERT INTO small VALUES (2, 'from b')")
      await ca.query("INSERT INTO small VALUES (3, 'from a, later')")
      expect(await eventually(async () => (await rowsOf(ca, 'SELECT count(*)::int AS n FROM small')) === 3)).toBe(true)
      expect(await eventually(async () => (await rowsOf(cb, 'SELECT count(*)::int AS n FROM small')) === 3)).toBe(true)
      // One warning per shard, not one per anti-entropy round.
      expect(b.log.match(/refused a replicated update of shard/g)?.length ?? 0).toBeLessThanOrEqual(2)
    } finally {
      await Promise.all([ca.end(), cb.end()])
    }
  }, 600_000)
})
