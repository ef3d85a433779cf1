/**
 * A subscriber that falls behind: stopped while its publisher writes 10,000 rows (in
 * batches), then started again. The publisher's views show the lag growing while it is
 * away (pg_cluster_health.lag_bytes, the slot's wal_status past wal_keep_size), 'catchup'
 * while it is brought up to date by state-vector diff, and 'streaming' with the lag back
 * to zero afterwards; the follower's replay timestamp moves forward. Finally the publisher
 * is cut off and the follower's replication_lag_seconds keeps growing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from '../cluster/concord-process.js'

let dir: string
let pub: ConcordProcess
let sub: ConcordProcess

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-catchup-'))
  ;[pub, sub] = await Promise.all([
    ConcordProcess.start({ dataDir: join(dir, 'pub'), nodeId: 'pub' }),
    ConcordProcess.start({ dataDir: join(dir, 'sub'), nodeId: 'sub' }),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([pub?.kill9(), sub?.kill9()])
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const ROWS = 10_000
const BATCH = 1_000

async function lagBytes(): Promise<number> {
  const r = await pub.query<{ lag_bytes: string }>("SELECT lag_bytes FROM pg_cluster_health WHERE node_id = 'sub'")
  return Number(r.rows[0]!.lag_bytes)
}

async function replaySeconds(node: ConcordProcess): Promise<number | null> {
  const r = await node.query<{ replication_lag_seconds: string | null }>('SELECT EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) AS replication_lag_seconds')
  const v = r.rows[0]!.replication_lag_seconds
  return v === null ? null : Number(v)
}

async function replayTimestamp(node: ConcordProcess): Promise<number> {
  const r = await node.query<{ t: Date | null }>('SELECT pg_last_xact_replay_timestamp() AS t')
  return r.rows[0]!.t?.getTime() ?? 0
}

describe('a subscriber that falls behind catches up', () => {
  it('lags while stopped, catches up by state-vector diff, and the views say so', async () => {
    await pub.query('CREATE TABLE events (id INT PRIMARY KEY, payload TEXT)')
    await pub.query("SET wal_keep_size = '64kB'")
    await pub.query('CREATE PUBLICATION pub_all FOR ALL TABLES')
    await sub.query(`CREATE SUBSCRIPTION sub_all CONNECTION 'postgresql://127.0.0.1:${pub.pgPort}/concord' PUBLICATION pub_all`)
    await pub.query("INSERT INTO events VALUES (0, 'first')")
    await until(async () => (await sub.query('SELECT 1 FROM events WHERE id = 0')).rows.length === 1, 20_000, 'the first row')
    await until(async () => (await lagBytes()) === 0, 20_000, 'the subscriber to acknowledge everything')
    const replayBefore = await replayTimestamp(sub)
    expect(replayBefore).toBeGreaterThan(0)
    expect(await replaySeconds(sub)).toBeLessThan(10)

    await sub.stop()
    const lags: number[] = []
    const started = Date.now()
    for (let from = 1; from <= ROWS; from += BATCH) {
      await pub.query(`INSERT INTO events SELECT g, 'payload ' || g FROM generate_series(${from}, ${from + BATCH - 1}) AS g`)
      lags.push(await lagBytes())
    }
    const writeMs = Date.now() - started
    // The lag rises with every batch the stopped subscriber misses.
    for (let i = 1; i < lags.length; i++) expect(lags[i]!).toBeGreaterThan(lags[i - 1]!)
    const slot = (await pub.query("SELECT active, wal_status FROM pg_replication_slots WHERE slot_name = 'sub_all'")).rows[0]
    expect(slot).toEqual({ active: false, wal_status: 'unreserved' })

    const restart = Date.now()
    // The publisher's view is watched from before the subscriber starts: with row snapshots
    // the subscriber is up and connected within moments, and the catch-up window can close
    // before start() returns.
    const states = new Set<string>()
    let watching = true
    const watcher = (async () => {
      for (let i = 0; watching && i < 20_000; i++) {
        const r = await pub.query<{ state: string }>("SELECT state FROM pg_stat_replication WHERE application_name = 'sub'")
        if (r.rows[0]) states.add(r.rows[0].state)
      }
    })()
    try {
      sub = await ConcordProcess.start({ dataDir: sub.options.dataDir, nodeId: 'sub' })
      await until(async () => {
        const n = await sub.query<{ n: string }>('SELECT count(*) AS n FROM events')
        return Number(n.rows[0]!.n) === ROWS + 1 && (await lagBytes()) === 0
      }, 40_000, 'the subscriber to catch up and acknowledge', 50)
    } finally {
      watching = false
      await watcher
    }
    const catchUpMs = Date.now() - restart
    expect(states.has('catchup')).toBe(true)
    expect((await pub.query("SELECT state FROM pg_stat_replication WHERE application_name = 'sub'")).rows).toEqual([{ state: 'streaming' }])
    expect((await pub.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'sub_all'")).rows).toEqual([{ wal_status: 'reserved' }])
    // The follower applied changes committed after its last replayed one.
    expect(await replayTimestamp(sub)).toBeGreaterThan(replayBefore)
    console.log(`catch-up: ${ROWS} rows written in ${writeMs} ms while the subscriber was stopped; lag_bytes per batch ${lags.join(', ')}; restart to caught up and acknowledged ${catchUpMs} ms; states seen ${[...states].join(', ')}`)
  })

  it('replication_lag_seconds grows on a follower cut off from its publisher', async () => {
    await pub.query("INSERT INTO events VALUES (-1, 'fresh')")
    await until(async () => (await sub.query('SELECT 1 FROM events WHERE id = -1')).rows.length === 1, 20_000, 'a fresh row')
    const healthy = (await replaySeconds(sub))!
    expect(healthy).toBeLessThan(5)
    await pub.kill9()
    await new Promise((r) => setTimeout(r, 1200))
    const a = (await replaySeconds(sub))!
    await new Promise((r) => setTimeout(r, 1200))
    const b = (await replaySeconds(sub))!
    expect(a).toBeGreaterThan(healthy)
    expect(b).toBeGreaterThan(a + 1)
    await until(async () => (await sub.query('SELECT pid FROM pg_stat_subscription')).rows[0]?.pid === null, 10_000, 'the subscription worker to show as stopped')
  })
})
