/**
 * A brand-new node joining a region that already holds a table: it learns the table (the
 * catalog) before anti-entropy has brought all its rows. Until an exchange with a
 * caught-up holder has brought it everything, it reads the table from such a holder (or
 * fails, 08001), never from the rows it has received so far; afterwards it answers alone.
 * (A holder's federated read answer travelling in fragments while the same holder streams
 * the joiner's catch-up in fragments arrives whole: core replication/fragments.test.ts.)
 */
import { describe, expect, it } from 'vitest'
import { SqlState } from '../errors/sql-error.js'
import { SimCluster } from '../sim-cluster.js'

const ROWS = 3000
/** Small messages: a table's rows travel in many fragments, so a joining node learns the table well before it has them all. */
const SMALL_MESSAGES = { maxMessageBytes: 16_384 }

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work
    return null
  } catch (e) {
    return (e as { code?: string }).code ?? 'no code'
  }
}

async function clusterWithTable(seed: number): Promise<SimCluster> {
  const cluster = await SimCluster.create({ seed, nodes: [{ id: 'w1', region: 'us-west', options: SMALL_MESSAGES }, { id: 'e', region: 'eu-central', options: SMALL_MESSAGES }] })
  const w1 = cluster.node('w1')
  await w1.query("CREATE TABLE t (id INT PRIMARY KEY, v TEXT) WITH (replication_regions = 'us-west')")
  await w1.query(`INSERT INTO t SELECT g, repeat('v', 200) || g FROM generate_series(1, ${ROWS}) g`)
  await w1.query('CREATE TABLE everywhere (id INT PRIMARY KEY)')
  await w1.query(`INSERT INTO everywhere SELECT g FROM generate_series(1, ${ROWS}) g`)
  await cluster.settle()
  return cluster
}

/** Adds node w2 (us-west) and runs the simulation until it knows table t, before its rows have all arrived. */
async function joinUntilTableKnown(cluster: SimCluster): Promise<void> {
  const w2 = await cluster.addNode({ id: 'w2', region: 'us-west', options: SMALL_MESSAGES })
  for (let step = 0; step < 2_000 && w2.replica.table('t') === undefined; step++) await cluster.advance(1)
  expect(w2.replica.table('t')).toBeDefined()
  expect(w2.replica.rowCount('t')).toBeLessThan(ROWS)
}

describe('a brand-new node joining a region that holds a table', () => {
  it('reads the table from a caught-up holder until it has caught up, never from its partial copy', async () => {
    const cluster = await clusterWithTable(1673)
    await joinUntilTableKnown(cluster)
    const w2 = cluster.node('w2')
    const caughtUp = async () => (await w2.query("SELECT DISTINCT caught_up FROM pg_stat_concord_shards WHERE table_name = 't'")).rows
    // Listed once some of its rows have arrived: not caught up.
    expect((await caughtUp()).filter((r) => r['caught_up'] !== false)).toEqual([])
    expect((await cluster.run(w2.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: ROWS }])
    expect((await cluster.run(w2.query('SELECT count(*)::int AS k FROM everywhere'))).rows).toEqual([{ k: ROWS }])

    await cluster.settle()
    expect(w2.replica.rowCount('t')).toBe(ROWS)
    // Marked caught up at the next exchange with a caught-up holder whose digests all
    // match (an anti-entropy round after the rows are equal, which settling need not wait for).
    for (let round = 0; round < 10 && (await caughtUp())[0]?.['caught_up'] !== true; round++) await cluster.advance(1000)
    expect(await caughtUp()).toEqual([{ caught_up: true }])
    // Caught up: it answers alone, and as a source for the next node to join.
    cluster.partition(['w2'], ['w1', 'e'])
    expect((await cluster.run(w2.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: ROWS }])
    cluster.heal()
    await cluster.settle()
    const w3 = await cluster.addNode({ id: 'w3', region: 'us-west', options: SMALL_MESSAGES })
    for (let step = 0; step < 2_000 && w3.replica.table('t') === undefined; step++) await cluster.advance(1)
    cluster.partition(['w3', 'w2'], ['w1', 'e'])
    expect((await cluster.run(w3.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: ROWS }])
    cluster.heal()
    await cluster.close()
  })

  it('fails with 08001 when no caught-up holder is reachable, rather than answer short', async () => {
    const cluster = await clusterWithTable(1674)
    await joinUntilTableKnown(cluster)
    const w2 = cluster.node('w2')
    cluster.partition(['w2'], ['w1', 'e'])
    expect(await codeOf(cluster.run(w2.query('SELECT count(*) FROM t')))).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    expect(await codeOf(cluster.run(w2.query('SELECT v FROM t WHERE id = 1')))).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    // A write that checks a key against the table's rows cannot check it either: refused, nothing written.
    expect(await codeOf(cluster.run(w2.query("INSERT INTO t VALUES (0, 'from w2')")))).toBe(SqlState.sqlclientUnableToEstablishSqlconnection)
    // Below SQL, the node's own transactions are refused too (class 08, retryable).
    expect(() => w2.replica.transact((tx) => tx.get('t', [1]))).toThrow(/not caught up on this node yet/)
    expect(w2.replica.rowCount('t')).toBeLessThan(ROWS)
    cluster.heal()
    await cluster.settle()
    // Holding every row is not yet the proof: that is an anti-entropy exchange with a
    // caught-up holder while both have the same catalog, which the catalog changes of a
    // join (applied at most every 50 ms, catalog pacing) can push a round or two later.
    for (let round = 0; round < 40 && !w2.replica.caughtUp(w2.replica.table('t')!); round++) await cluster.advance(250)
    cluster.partition(['w2'], ['w1', 'e'])
    expect((await cluster.run(w2.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: ROWS }])
    // Caught up: its own transactions read it too.
    let row: unknown
    w2.replica.transact((tx) => {
      row = tx.get('t', [1])
    })
    expect(row).toMatchObject({ id: 1 })
    cluster.heal()
    await cluster.close()
  })

  it('a table created after every node joined needs no catching up on a node that held it from the start', async () => {
    const cluster = await SimCluster.create({ seed: 1675, nodes: [{ id: 'a' }, { id: 'b' }] })
    await cluster.node('a').query('CREATE TABLE u (id INT PRIMARY KEY)')
    // b knows the table only through a's catalog; it was a member when u was created.
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await cluster.run(cluster.node('b').query('INSERT INTO u VALUES (1)'))
    expect((await cluster.run(cluster.node('b').query('SELECT count(*)::int AS k FROM u'))).rows).toEqual([{ k: 1 }])
    cluster.heal()
    await cluster.close()
  })

  it('an offline-first replica (answerBeforeCatchUp, as the browser opens) answers from the rows it has, without waiting', async () => {
    const cluster = await clusterWithTable(1675)
    const w2 = await cluster.addNode({ id: 'w2', region: 'us-west', options: { ...SMALL_MESSAGES, answerBeforeCatchUp: true } })
    for (let step = 0; step < 2_000 && w2.replica.table('t') === undefined; step++) await cluster.advance(1)
    const held = w2.replica.rowCount('t')
    expect(held).toBeLessThan(ROWS)
    cluster.partition(['w2'], ['w1', 'e'])
    // Its own rows, at once: the page shows its sync status; a server node would refuse (test above).
    expect((await cluster.run(w2.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: held }])
    cluster.heal()
    await cluster.settle()
    expect((await cluster.run(w2.query('SELECT count(*)::int AS k FROM t'))).rows).toEqual([{ k: ROWS }])
    await cluster.close()
  })
})
