/**
 * Following a table over the PostgreSQL wire with node-postgres, against two `concord
 * start` processes: LISTEN concord_changes_<table> delivers changes written on the other
 * node as JSON; a client that disconnects and reconnects asks concord_changes for the
 * changes after its last position and, applying them, holds exactly the table's rows;
 * so it does after the node restarts (SIGTERM) and after it is killed (SIGKILL) in the
 * middle of writes: the feed is kept with the node's data.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'

interface Change {
  position: string
  op: 'insert' | 'update' | 'delete'
  row: { id: number; name: string } | null
}

let dir: string
const nodes: ConcordProcess[] = []
const clients: pg.Client[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-changes-'))
  const a = await ConcordProcess.start({ dataDir: join(dir, 'a'), nodeId: 'chga' })
  nodes.push(a)
  nodes.push(await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'chgb', join: [a.pgAddress] }))
  await until(() => nodes.every((n) => /peer chg[ab] up/.test(n.log)), 30_000, 'both nodes connected')
  await a.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT)')
  await a.query("INSERT INTO items VALUES (1, 'first')")
  await until(async () => (await nodes[1]!.query('SELECT count(*)::int AS n FROM items').catch(() => ({ rows: [{ n: 0 }] }))).rows[0]?.n === 1, 30_000, 'table on node b')
}, 120_000)

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {})
  await Promise.all(nodes.map((n) => n.stop()))
  rmSync(dir, { recursive: true, force: true })
})

async function client(node: ConcordProcess): Promise<pg.Client> {
  const c = await node.client()
  clients.push(c)
  return c
}

/** A follower's copy of the table: changes applied by key (an insert or update carries the whole row). */
function apply(copy: Map<number, string>, changes: Change[]): void {
  for (const c of changes) {
    if (c.row === null) continue
    if (c.op === 'delete') copy.delete(c.row.id)
    else copy.set(c.row.id, c.row.name)
  }
}

async function changesSince(c: pg.Client, since: string): Promise<Change[]> {
  const r = await c.query<{ position: string; op: Change['op']; row: Change['row'] }>("SELECT position, op, row FROM concord_changes('items', $1)", [since])
  return r.rows
}

/**
 * The changes after `since` once the feed holds at least `count` of them. A change is
 * listed once its journal entry is on disk, which can be a moment after its row is
 * visible (on a loaded machine, after the node has caught up): the follower asks again.
 */
async function changesOnceHeld(c: pg.Client, since: string, count: number): Promise<Change[]> {
  let changes: Change[] = []
  await until(async () => (changes = await changesSince(c, since)).length >= count, 30_000, `${count} changes in the feed`)
  return changes
}

describe('following a table over the wire', () => {
  it('LISTEN delivers changes made on the other node; after a reconnect, concord_changes gives exactly the missed ones', async () => {
    const [a, b] = nodes as [ConcordProcess, ConcordProcess]
    // Start: read the position, then the table, then listen (changes in between come twice, harmlessly).
    let follower = await client(b)
    const got: Change[] = []
    follower.on('notification', (n) => got.push(JSON.parse(n.payload ?? 'null') as Change))
    const start = (await follower.query<{ p: string }>("SELECT concord_changes_position('items') AS p")).rows[0]!.p
    const copy = new Map<number, string>()
    for (const r of (await follower.query<{ id: number; name: string }>('SELECT id, name FROM items')).rows) copy.set(r.id, r.name)
    await follower.query('LISTEN concord_changes_items')
    await a.query("INSERT INTO items VALUES (2, 'second')")
    await until(() => got.length === 1, 30_000, 'notification on node b')
    expect(got[0]).toMatchObject({ op: 'insert', row: { id: 2, name: 'second' } })
    expect(await changesSince(follower, start)).toEqual(got)
    apply(copy, got)
    let last = got[0]!.position

    // The follower goes away; the table changes on both nodes meanwhile.
    await follower.end()
    await a.query("UPDATE items SET name = 'one' WHERE id = 1")
    await a.query("INSERT INTO items VALUES (3, 'third'), (4, 'fourth')")
    await b.query('DELETE FROM items WHERE id = 2')
    await a.query("UPDATE items SET name = 'four' WHERE id = 4")
    await until(async () => (await b.query<{ n: number }>("SELECT count(*)::int AS n FROM items WHERE name = 'four'")).rows[0]!.n === 1, 30_000, 'writes on node b')

    follower = await client(b)
    const after: Change[] = []
    follower.on('notification', (n) => after.push(JSON.parse(n.payload ?? 'null') as Change))
    await follower.query('LISTEN concord_changes_items')
    const missed = await changesOnceHeld(follower, last, 5)
    expect(missed.map((c) => [c.op, c.row?.id])).toEqual([['update', 1], ['insert', 3], ['insert', 4], ['delete', 2], ['update', 4]])
    apply(copy, missed)
    last = missed[missed.length - 1]!.position
    const table = (await follower.query<{ id: number; name: string }>('SELECT id, name FROM items ORDER BY id')).rows
    expect([...copy].sort((x, y) => x[0] - y[0])).toEqual(table.map((r) => [r.id, r.name]))
    // Nothing twice: from the last position, nothing yet; the next change arrives live.
    expect(await changesSince(follower, last)).toEqual([])
    await a.query("INSERT INTO items VALUES (5, 'fifth')")
    await until(() => after.length === 1, 30_000, 'notification after the reconnect')
    expect(after[0]).toMatchObject({ op: 'insert', row: { id: 5, name: 'fifth' } })
    expect((await changesSince(follower, last)).map((c) => c.position)).toEqual([after[0]!.position])
    apply(copy, after)
    last = after[0]!.position
    await follower.end()

    // The node restarts (SIGTERM) while the other writes: its feed is kept with its data,
    // so the client resumes from its last position and misses nothing.
    await b.stop()
    await a.query("UPDATE items SET name = 'FIRST' WHERE id = 1")
    await a.query("INSERT INTO items VALUES (6, 'sixth')")
    nodes[1] = await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'chgb', join: [a.pgAddress] })
    const b2 = nodes[1]
    await until(async () => (await b2.query<{ n: number }>('SELECT count(*)::int AS n FROM items WHERE id = 6')).rows[0]!.n === 1, 60_000, 'node b caught up after its restart')
    follower = await client(b2)
    const resumed = await changesOnceHeld(follower, last, 2)
    expect(resumed.map((c) => [c.op, c.row?.id])).toEqual([['update', 1], ['insert', 6]])
    apply(copy, resumed)
    last = resumed[resumed.length - 1]!.position
    expect([...copy].sort((x, y) => x[0] - y[0])).toEqual((await follower.query<{ id: number; name: string }>('SELECT id, name FROM items ORDER BY id')).rows.map((r) => [r.id, r.name]))
    await follower.end()

    // A crash (SIGKILL) in the middle of writes on it: after the restart, the changes after
    // the last position give exactly the table's rows (no write it kept is missing).
    let n = 100
    let writing = true
    const writes = (async () => {
      const w = await b2.client()
      try {
        while (writing) {
          await w.query('INSERT INTO items VALUES ($1, $2)', [n, `row ${n}`])
          await w.query('UPDATE items SET name = $2 WHERE id = $1', [n - 1, `updated ${n - 1}`])
          n++
        }
      } catch {
        // The node went away mid-statement.
      }
    })()
    await until(() => n > 120, 60_000, 'writes on node b')
    await b2.kill9()
    writing = false
    await writes
    nodes[1] = await ConcordProcess.start({ dataDir: join(dir, 'b'), nodeId: 'chgb', join: [a.pgAddress] })
    // Killed soon after it rejoined, b may not have proved its catch-up yet: it refuses reads
    // (08001) until an exchange with a proves it, as a client retrying would see.
    const b3 = nodes[1]
    await until(async () => (await b3.query('SELECT count(*) FROM items').then(() => true, () => false)), 60_000, 'node b answers after its crash')
    follower = await client(nodes[1])
    const afterCrash = await changesSince(follower, last)
    expect(afterCrash.length).toBeGreaterThanOrEqual(40)
    apply(copy, afterCrash)
    expect([...copy].sort((x, y) => x[0] - y[0])).toEqual((await follower.query<{ id: number; name: string }>('SELECT id, name FROM items ORDER BY id')).rows.map((r) => [r.id, r.name]))
    // Another node's position is not this node's feed: 55000, and the client reads the table again.
    const err = await a.query("SELECT * FROM concord_changes('items', $1)", [last]).then(() => null, (e: unknown) => e as { code?: string; hint?: string })
    expect(err?.code).toBe('55000')
    expect(err?.hint).toMatch(/Read the table again/)
  }, 300_000)
})
