import { describe, expect, it } from 'vitest'
import { Database, openDatabase } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'
import type { Notification } from '../notify/notification.js'
import { MemoryStorage, Simulation, type StoredRecord } from '@concord/core'
import type { ChangeJournalStore, JournalContents, JournalWrite } from './change-feed.js'

interface Change {
  position: string
  op: string
  row: unknown
}

async function changesSince(db: Database, table: string, since: string): Promise<Change[]> {
  const r = await db.query('SELECT position, op, row FROM concord_changes($1, $2)', [table, since])
  return r.rows.map((x) => ({ position: String(x.position), op: String(x.op), row: JSON.parse(String(x.row)) as unknown }))
}

async function positionOf(db: Database, table: string): Promise<string> {
  return String((await db.query('SELECT concord_changes_position($1) AS p', [table])).rows[0]!.p)
}

describe('concord_changes on one node', () => {
  it('lists the changes after a position, oldest first, with the row as JSON; from the last position, none', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT, price NUMERIC(6,2), tags TEXT[])')
    await db.query("INSERT INTO items VALUES (1, 'before', 1, NULL)")
    const start = await positionOf(db, 'items')
    await db.query("INSERT INTO items VALUES (2, 'b', 9.50, '{x,y}')")
    await db.query("UPDATE items SET name = 'B' WHERE id = 2")
    await db.query('DELETE FROM items WHERE id = 1')
    const all = await changesSince(db, 'items', start)
    expect(all.map((c) => [c.op, c.row])).toEqual([
      ['insert', { id: 2, name: 'b', price: 9.5, tags: ['x', 'y'] }],
      ['update', { id: 2, name: 'B', price: 9.5, tags: ['x', 'y'] }],
      ['delete', { id: 1, name: 'before', price: 1, tags: null }],
    ])
    // Positions grow; from any of them, exactly the later changes.
    expect(await changesSince(db, 'items', all[0]!.position)).toEqual(all.slice(1))
    expect(await changesSince(db, 'items', all[2]!.position)).toEqual([])
    expect(await positionOf(db, 'items')).toBe(all[2]!.position)
    await db.close()
  })

  it('a position it no longer holds fails with 55000 (another node, a restart); a malformed one with 22023', async () => {
    const one = await openDatabase({ nodeId: 'n1', random: () => 0.25 })
    const other = await openDatabase({ nodeId: 'n2', random: () => 0.75 })
    for (const db of [one, other]) await db.query('CREATE TABLE t (id INT PRIMARY KEY)')
    const p = await positionOf(one, 't')
    expect(await sqlState(other, `SELECT * FROM concord_changes('t', '${p}')`)).toBe('55000')
    await expect(other.query(`SELECT * FROM concord_changes('t', '${p}')`)).rejects.toThrow(/not from this node's feed .*positions are per node/)
    expect(await sqlState(one, "SELECT * FROM concord_changes('t', 'not a position')")).toBe('22023')
    expect(await sqlState(one, "SELECT * FROM concord_changes('missing', 'x')")).toBe('42P01')
    // A table is followed from its first position on: a position from before does not cover it.
    await one.query('CREATE TABLE u (id INT PRIMARY KEY)')
    await one.query('INSERT INTO t VALUES (1)')
    const fromU = await positionOf(one, 'u')
    expect(await sqlState(one, `SELECT * FROM concord_changes('u', '${p}')`)).toBe('55000')
    expect(await sqlState(one, `SELECT * FROM concord_changes('u', '${fromU}')`)).toBe(null)
    // A position ahead of the feed is malformed.
    expect(await sqlState(one, `SELECT * FROM concord_changes('t', '${p.replace(/\/\d+$/, '/99')}')`)).toBe('22023')
    await one.close()
    await other.close()
  })

  it("another node's position fails with 55000 even when both nodes draw the same random numbers", async () => {
    // Seeded nodes (tests, simulations) share a random source: the epoch mixes in the node id.
    const one = await openDatabase({ nodeId: 'n1', random: () => 0.5 })
    const other = await openDatabase({ nodeId: 'n2', random: () => 0.5 })
    for (const db of [one, other]) {
      await db.query('CREATE TABLE t (id INT PRIMARY KEY)')
      await db.query('INSERT INTO t VALUES (1)')
    }
    const p = await positionOf(one, 't')
    expect(p.split('/')[0]).not.toBe((await positionOf(other, 't')).split('/')[0])
    expect(await sqlState(other, `SELECT * FROM concord_changes('t', '${p}')`)).toBe('55000')
    await one.close()
    await other.close()
  })

  it('keeps the last 50,000 changes of a table: an older position fails with 55000 and a hint to read the table again', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE big (id INT PRIMARY KEY)')
    const start = await positionOf(db, 'big')
    await db.query('INSERT INTO big SELECT g FROM generate_series(1, 50001) g')
    const err = await db.query(`SELECT * FROM concord_changes('big', '${start}')`).then(() => null, (e: unknown) => e as { code: string; hint?: string })
    expect(err?.code).toBe('55000')
    expect(err?.hint).toMatch(/Read the table again/)
    const kept = await db.query(`SELECT count(*)::int AS n, min((row->>'id')::int) AS first FROM concord_changes('big', '${start.replace(/\/\d+$/, '/1')}')`)
    expect(kept.rows).toEqual([{ n: 50_000, first: 2 }])
    await db.close()
  }, 120_000)

  it('LISTEN concord_changes_<table> hands each change as JSON with its position', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE jobs (id INT PRIMARY KEY, state TEXT)')
    const listener = db.session({ processId: 5 })
    const got: Notification[] = []
    listener.onNotification((n) => got.push(n))
    await listener.query('LISTEN concord_changes_jobs')
    await db.query("INSERT INTO jobs VALUES (1, 'new')")
    await db.query("UPDATE jobs SET state = 'done'")
    const payloads = got.map((n) => JSON.parse(n.payload) as Change)
    expect(payloads.map((c) => [c.op, c.row])).toEqual([['insert', { id: 1, state: 'new' }], ['update', { id: 1, state: 'done' }]])
    expect(got.every((n) => n.channel === 'concord_changes_jobs')).toBe(true)
    // The listened changes are in the feed, under the same positions.
    expect((await changesSince(db, 'jobs', payloads[0]!.position)).map((c) => c.position)).toEqual([payloads[1]!.position])
    // A row too big for a notification comes without it: the feed has it.
    await db.query('UPDATE jobs SET state = $1', ['x'.repeat(9000)])
    const last = JSON.parse(got[2]!.payload) as Change & { truncated?: boolean }
    expect([last.op, last.row, last.truncated]).toEqual(['update', null, true])
    expect((await changesSince(db, 'jobs', payloads[1]!.position))[0]!.row).toEqual({ id: 1, state: 'x'.repeat(9000) })
    await db.close()
  })

  it('needs SELECT on the table (42501)', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    await db.query('CREATE TABLE secret (id INT PRIMARY KEY)')
    await db.query("CREATE ROLE app LOGIN PASSWORD 'pw'")
    const app = db.session({ user: 'app' })
    expect(await sqlState(app, "SELECT concord_changes_position('secret')")).toBe('42501')
    await db.query('GRANT SELECT ON secret TO app')
    expect(await sqlState(app, "SELECT concord_changes_position('secret')")).toBe(null)
    await db.close()
  })
})

describe('concord_changes across nodes', () => {
  it("a node's feed lists the changes replicated from its peers", async () => {
    const cluster = await SimCluster.create({ seed: 21, nodes: [{ id: 'a' }, { id: 'b' }] })
    await cluster.node('a').query('CREATE TABLE kv (k TEXT PRIMARY KEY, v INT)')
    await cluster.settle()
    const b = cluster.node('b')
    const p = await positionOf(b, 'kv')
    await cluster.node('a').query("INSERT INTO kv VALUES ('x', 1)")
    await cluster.settle()
    await b.query("INSERT INTO kv VALUES ('y', 2)")
    expect((await changesSince(b, 'kv', p)).map((c) => [c.op, c.row])).toEqual([['insert', { k: 'x', v: 1 }], ['insert', { k: 'y', v: 2 }]])
    // After a restart the feed starts afresh: an old position fails with 55000.
    cluster.crash('b')
    await cluster.restart('b')
    expect(await sqlState(cluster.node('b'), `SELECT * FROM concord_changes('kv', '${p}')`)).toBe('55000')
    await cluster.close()
  })
})

/** A journal store in memory, written when asked and on disk at `sync()`, as LMDB's is after a commit. */
class MemoryJournal implements ChangeJournalStore {
  contents: JournalContents | null = null
  private unsynced: Array<{ w: JournalWrite; durable: () => void }> = []

  load(): JournalContents | null {
    return this.contents === null ? null : structuredClone(this.contents)
  }

  write(w: JournalWrite, durable: () => void): void {
    this.unsynced.push({ w, durable })
  }

  /** Puts what was written on disk, then tells the feed. */
  sync(): void {
    const due = this.unsynced
    this.unsynced = []
    for (const { w } of due) {
      const c = (this.contents ??= { epoch: w.epoch, seq: 0, tables: [] })
      c.seq = w.seq
      for (const f of w.floors) {
        let t = c.tables.find((x) => x.table === f.table)
        if (t === undefined) c.tables.push((t = { table: f.table, floor: f.floor, changes: [] }))
        t.floor = f.floor
        t.changes = t.changes.filter((x) => x.seq > f.floor)
      }
      for (const x of w.changes) c.tables.find((t) => t.table === x.table)!.changes.push({ seq: x.seq, op: x.op, row: x.row })
    }
    for (const { durable } of due) durable()
  }

  /** A crash: what was not on disk is gone. */
  crash(): void {
    this.unsynced = []
  }

  async close(): Promise<void> {
    this.sync()
  }
}

describe('concord_changes with a journal store (kept across restarts)', () => {
  it('shows only what is on disk, and resumes from a position after the database is opened again', async () => {
    const storage = new MemoryStorage()
    const journal = new MemoryJournal()
    const db = await openDatabase({ nodeId: 'n1', storage, changeJournal: journal })
    await db.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
    const listener = db.session({ processId: 7 })
    const got: Notification[] = []
    listener.onNotification((n) => got.push(n))
    await listener.query('LISTEN concord_changes_t')
    journal.sync()
    const p = await positionOf(db, 't')
    await db.query("INSERT INTO t VALUES (1, 'a')")
    // Not on disk yet: neither listed nor notified.
    expect(await changesSince(db, 't', p)).toEqual([])
    expect(got).toEqual([])
    journal.sync()
    const first = await changesSince(db, 't', p)
    expect(first.map((c) => [c.op, c.row])).toEqual([['insert', { id: 1, v: 'a' }]])
    expect(got.map((n) => (JSON.parse(n.payload) as Change).position)).toEqual([first[0]!.position])
    await db.query("UPDATE t SET v = 'b' WHERE id = 1")
    await db.close()

    // Opened again on the same storage and journal: the same epoch, nothing missed.
    const again = await openDatabase({ nodeId: 'n1', storage, changeJournal: journal })
    await again.query("INSERT INTO t VALUES (2, 'c')")
    journal.sync()
    expect((await changesSince(again, 't', first[0]!.position)).map((c) => [c.op, c.row])).toEqual([
      ['update', { id: 1, v: 'b' }],
      ['insert', { id: 2, v: 'c' }],
    ])
    expect(await changesSince(again, 't', p)).toHaveLength(3)
    // The position moves once a change is on disk.
    const before = await positionOf(again, 't')
    await again.query('DELETE FROM t WHERE id = 2')
    expect(await positionOf(again, 't')).toBe(before)
    journal.sync()
    expect(await positionOf(again, 't')).not.toBe(before)
    expect((await changesSince(again, 't', before)).map((c) => [c.op, c.row])).toEqual([['delete', { id: 2, v: 'c' }]])
    await again.close()
  })
})

/** Counts the appends handed to it. */
class CountingStorage extends MemoryStorage {
  appends = 0
  override append(batch: Array<{ shard: string; record: StoredRecord }>): void {
    this.appends++
    super.append(batch)
  }
}

describe('concord_changes with a journal store, on a node that hands peers\' rows to storage a turn later', () => {
  it("writes a peer's row's entry after the row's records were handed to storage (so no crash keeps the entry without the row)", async () => {
    const due: Array<() => void> = []
    const storage = new CountingStorage()
    const appendsAtEntry: number[] = []
    const journal = new MemoryJournal()
    const write = journal.write.bind(journal)
    journal.write = (w, durable) => {
      if (w.changes.length > 0) appendsAtEntry.push(storage.appends)
      write(w, durable)
    }
    const sim = new Simulation({ seed: 11 })
    const a = await Database.attach(await sim.addNode({ id: 'a' }))
    const b = await Database.attach(await sim.addNode({ id: 'b', options: { storage, handOffRemote: (fn) => due.push(fn) } }), false, undefined, { changeJournal: journal })
    await a.query('CREATE TABLE kv (k TEXT PRIMARY KEY, v INT)')
    for (let i = 0; i < 100 && b.replica.table('kv') === undefined; i++) {
      for (const fn of due.splice(0)) fn()
      await sim.advance(20)
    }
    for (const fn of due.splice(0)) fn()
    const p = await positionOf(b, 'kv')
    journal.sync()
    const before = storage.appends
    await a.query("INSERT INTO kv VALUES ('x', 1)")
    for (let i = 0; i < 200 && appendsAtEntry.length === 0; i++) await sim.advance(2)
    // The entry went to the journal in the task that applied the row, its records handed over first.
    expect(appendsAtEntry).toEqual([before + 1])
    for (const fn of due.splice(0)) fn()
    journal.sync()
    expect((await changesSince(b, 'kv', p)).map((c) => [c.op, c.row])).toEqual([['insert', { k: 'x', v: 1 }]])
    expect(storage.appends).toBe(before + 1)
    await a.close()
    await b.close()
  })
})

