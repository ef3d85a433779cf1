/**
 * Failover with real processes on 127.0.0.1: three `concord start` nodes in active_passive
 * mode with auto_failover and a 3 s failover_timeout. A client writing through psql with
 * a multi-host connection string and target_session_attrs=read-write reaches the primary;
 * the primary is killed with SIGKILL in the middle of the stream; a standby is promoted,
 * the client keeps writing to it, and once the old primary restarts (as a standby) every
 * acknowledged write is on every node. Every loop is bounded in count and in time.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

const run = promisify(execFile)
/** From the range this suite owns (57500-57599): fixed, so the multi-host string survives a restart. */
const PG_PORTS = [57511, 57512, 57513]
const IDS = ['fo-a', 'fo-b', 'fo-c']
const WRITES_BEFORE_KILL = 30
const WRITES_AFTER_FAILOVER = 30
const MAX_ATTEMPTS = 2_000
const STREAM_DEADLINE_MS = 180_000

let dir: string
const procs: ConcordProcess[] = []
/** What the first test leaves for the second: the cluster after the failover. */
let cluster: { primary: ConcordProcess; others: ConcordProcess[]; acked: number[] } | null = null

async function start(i: number, join: string[]): Promise<ConcordProcess> {
  const p = await ConcordProcess.start({ dataDir: `${dir}/${IDS[i]}`, nodeId: IDS[i]!, join, extraArgs: ['--pg-port', String(PG_PORTS[i])] })
  procs.push(p)
  return p
}

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** psql over every node's address, as libpq routes it (`attrs`: target_session_attrs). */
async function psqlMulti(attrs: string, sql: string): Promise<string> {
  const conninfo = `host=${PG_PORTS.map(() => '127.0.0.1').join(',')} port=${PG_PORTS.join(',')} user=concord dbname=concord connect_timeout=3 target_session_attrs=${attrs}`
  const { stdout } = await run('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', conninfo, '-c', sql], { timeout: 20_000 })
  return stdout.trim()
}

async function primaryOn(p: ConcordProcess): Promise<string | null> {
  const rows = (await p.query<{ node_id: string }>("SELECT node_id FROM pg_nodes WHERE node_type = 'primary'")).rows
  return rows.length === 1 ? rows[0]!.node_id : null
}

describe('failover of an active-passive cluster', () => {
  it('kill -9 of the primary under acknowledged writes: a standby takes over, the multi-host client goes on, nothing acknowledged is lost', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-failover-'))
    const a = await start(0, [])
    const [b, c] = await Promise.all([start(1, [a.pgAddress]), start(2, [a.pgAddress])])
    await until(() => [a, b, c].every((n) => (n.log.match(/peer fo-\w up/g) ?? []).length >= 2), 30_000, 'full mesh')
    await a.query('CREATE TABLE events (id INT PRIMARY KEY, body TEXT)')
    await a.query("ALTER SYSTEM SET failover_timeout = '3s'")
    await a.query('ALTER SYSTEM SET auto_failover = on')
    await a.query("SET high_availability_mode = 'active_passive'")
    await until(async () => (await Promise.all([a, b, c].map(primaryOn))).every((p) => p === 'fo-a'), 30_000, 'fo-a primary everywhere')

    // libpq picks the node by the in_hot_standby / default_transaction_read_only it reports.
    expect(await psqlMulti('read-write', 'SELECT current_node()')).toBe('fo-a')
    expect(await psqlMulti('primary', 'SELECT current_node()')).toBe('fo-a')
    expect(['fo-b', 'fo-c']).toContain(await psqlMulti('standby', 'SELECT current_node()'))
    await expect(b.query("INSERT INTO events VALUES (0, 'on a standby')")).rejects.toMatchObject({ code: '25006' })

    // The writer: one psql per INSERT through the multi-host string, each id retried until
    // acknowledged (while no node is writable, psql fails to find one).
    const acked: number[] = []
    const ackedBy = new Map<number, string>()
    let killedAt = 0
    let firstAfterKill = 0
    let attempts = 0
    const began = Date.now()
    let id = 1
    while (attempts < MAX_ATTEMPTS && Date.now() - began < STREAM_DEADLINE_MS) {
      attempts++
      try {
        const node = await psqlMulti('read-write', `INSERT INTO events VALUES (${id}, 'write ${id}') RETURNING current_node()`)
        acked.push(id)
        ackedBy.set(id, node)
        id++
      } catch {
        await new Promise((r) => setTimeout(r, 200))
        continue
      }
      if (acked.length === WRITES_BEFORE_KILL && killedAt === 0) {
        await a.kill9()
        killedAt = Date.now()
      } else if (killedAt > 0 && firstAfterKill === 0) {
        firstAfterKill = Date.now()
      }
      if (killedAt > 0 && acked.length >= WRITES_BEFORE_KILL + WRITES_AFTER_FAILOVER) break
    }
    expect(acked.length).toBe(WRITES_BEFORE_KILL + WRITES_AFTER_FAILOVER)
    const successor = ackedBy.get(acked[acked.length - 1]!)!
    expect(['fo-b', 'fo-c']).toContain(successor)
    // Writable again within failover_timeout plus a few seconds (generous on a loaded machine).
    expect(firstAfterKill - killedAt).toBeLessThan(30_000)
    for (const p of [b, c]) expect(await primaryOn(p)).toBe(successor)
    const promoted = successor === 'fo-b' ? b : c
    expect(promoted.log).toMatch(/failover: promoted to primary at epoch 2 \(failover\)/)

    // The old primary restarts as a standby and catches up; every acknowledged write is on
    // every node (those only the old primary held come back with it).
    const back = await start(0, [promoted.pgAddress])
    await until(async () => (await primaryOn(back)) === successor, 60_000, 'the old primary hears of the new term')
    expect((await back.query('SELECT pg_is_in_recovery() AS r')).rows[0]).toEqual({ r: true })
    await expect(back.query("INSERT INTO events VALUES (-1, 'on the old primary')")).rejects.toMatchObject({ code: '25006' })
    const want = acked.join(',')
    for (const p of [back, b, c]) {
      await until(async () => (await p.query<{ ids: string }>('SELECT string_agg(id::text, \',\' ORDER BY id) AS ids FROM events')).rows[0]!.ids === want, 60_000, `every acknowledged write on ${p.options.nodeId}`)
    }
    expect(back.log).toMatch(new RegExp(`failover: demoted to standby: ${successor} is primary at epoch 2`))
    if (process.env.CONCORD_FAILOVER_TIMING) process.stderr.write(`writable again ${firstAfterKill - killedAt} ms after kill -9 (${attempts} attempts)\n`)
    cluster = { primary: promoted, others: [back, promoted === b ? c : b], acked }
  }, 420_000)

  it('a primary frozen past failover_timeout wakes up beside a new one: what either acknowledged stays, one primary remains', async () => {
    if (cluster === null) throw new Error('needs the cluster of the previous test')
    const { primary: frozen, others, acked } = cluster
    const late = Array.from({ length: 10 }, (_, i) => 10_000 + i)
    const clients = await Promise.all(late.map(() => frozen.client()))
    frozen.child.kill('SIGSTOP')
    // Writes sent to the frozen primary wait in its sockets; it may still take them on waking.
    const pending = late.map((id, i) => clients[i]!.query(`INSERT INTO events VALUES (${id}, 'sent to the frozen primary')`).then(() => id, () => null))
    let next: string | null = null
    try {
      await until(async () => {
        const seen = await Promise.all(others.map(primaryOn))
        next = seen[0] !== frozen.options.nodeId && seen.every((p) => p === seen[0]) ? seen[0]! : null
        return next !== null
      }, 60_000, 'a standby promoted while the primary is frozen')
    } finally {
      frozen.child.kill('SIGCONT')
    }
    const newPrimary = others.find((p) => p.options.nodeId === next)!
    await newPrimary.query("INSERT INTO events VALUES (20000, 'on the new primary')")
    const lateAcked = (await Promise.all(pending)).filter((id): id is number => id !== null)
    await Promise.all(clients.map((c) => c.end().catch(() => {})))
    if (process.env.CONCORD_FAILOVER_TIMING) process.stderr.write(`the woken primary acknowledged ${lateAcked.length} of ${late.length} late writes\n`)
    const want = [...acked, ...lateAcked, 20_000].sort((x, y) => x - y).join(',')
    for (const p of [frozen, ...others]) {
      await until(async () => (await primaryOn(p)) === next, 60_000, `${p.options.nodeId} names ${next} primary`)
      await until(async () => {
        const ids = (await p.query<{ ids: string }>('SELECT string_agg(id::text, \',\' ORDER BY id) AS ids FROM events WHERE id <> ALL($1::int[])', [late.filter((id) => !lateAcked.includes(id))])).rows[0]!.ids
        return ids === want
      }, 60_000, `every acknowledged write on ${p.options.nodeId}`)
    }
    await expect(frozen.query("INSERT INTO events VALUES (-2, 'x')")).rejects.toMatchObject({ code: '25006' })
  }, 240_000)
})
