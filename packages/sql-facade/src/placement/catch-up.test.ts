/**
 * Catching up: a node of a region newly added to a table's replication_regions holds the
 * table at once but has few or none of its rows until anti-entropy brings them. Until it
 * has caught up it answers reads of the table from a caught-up holder (or fails, 08001),
 * never from the rows it has received so far; afterwards it answers from its own rows.
 * Anti-entropy runs rarely here (every 10 virtual minutes), so the window is wide.
 */
import { describe, expect, it } from 'vitest'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'

const RARE_ANTI_ENTROPY = { antiEntropyIntervalMs: 600_000 }

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}

describe('a region added to a table’s replication_regions', () => {
  it('answers from a caught-up holder until it has caught up, then from its own rows; never short', async () => {
    const cluster = await SimCluster.create({
      seed: 1671,
      nodes: [
        { id: 'w', region: 'us-west', options: RARE_ANTI_ENTROPY },
        { id: 'e', region: 'eu-central', options: RARE_ANTI_ENTROPY },
      ],
    })
    const w = cluster.node('w')
    const e = cluster.node('e')
    await w.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) WITH (replication_regions = 'us-west')")
    await w.query("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 30) g")
    await cluster.settle()
    expect(e.replica.rowCount('t')).toBe(0)

    await w.query("ALTER TABLE t SET (replication_regions = 'us-west,eu-central')")
    // The catalog change travels by gossip; the rows wait for anti-entropy.
    await cluster.advance(2_000)
    expect(e.replica.table('t')?.regions).toEqual(['us-west', 'eu-central'])
    expect(e.replica.rowCount('t')).toBe(0)
    // A row written after the change is gossiped to e (which cannot apply it without the earlier ones yet).
    await w.query("INSERT INTO t VALUES (31, 'v31')")
    await cluster.advance(2_000)
    expect(e.replica.rowCount('t')).toBeLessThan(31)
    const caughtUp = async () => (await e.query("SELECT DISTINCT caught_up FROM pg_stat_concord_shards WHERE table_name = 't'")).rows
    expect(await caughtUp()).toEqual([{ caught_up: false }])
    expect((await cluster.run(e.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: 31 }])
    expect((await cluster.run(e.query('SELECT v FROM t WHERE id = 7'))).rows).toEqual([{ v: 'v7' }])
    // Writes are accepted (e's region holds the table) and reach w.
    await cluster.run(e.query("INSERT INTO t VALUES (32, 'from e')"))
    cluster.partition(['w'], ['e'])
    expect(await codeOf(cluster.run(e.query('SELECT count(*) FROM t')))).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    cluster.heal()

    // Anti-entropy brings the rest; then e has caught up and answers alone.
    await cluster.advance(1_300_000)
    await cluster.settle()
    expect(e.replica.rowCount('t')).toBe(32)
    expect(await caughtUp()).toEqual([{ caught_up: true }])
    cluster.partition(['w'], ['e'])
    expect((await cluster.run(e.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: 32 }])
    cluster.heal()

    // Taken out of the table's regions, w hands its copy over once e has it all, and reads it from e.
    await w.query("ALTER TABLE t SET (replication_regions = 'eu-central')")
    await cluster.advance(1_300_000)
    await cluster.settle()
    expect(w.replica.rowCount('t')).toBe(0)
    expect((await w.replica.storage.shards()).filter((id) => id.endsWith(':t'))).toEqual([])
    expect((await cluster.run(w.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: 32 }])
    await cluster.close()
  })
})
