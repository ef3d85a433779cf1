import { describe, expect, it } from 'vitest'
import { openDatabase } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'
import type { Notification } from './notification.js'

function inbox(list: Notification[]): string[] {
  return list.map((n) => `${n.channel}:${n.payload}:${n.processId}`)
}

describe('LISTEN / NOTIFY on one node', () => {
  it('a committed NOTIFY reaches every listener of its channel once, with the sender process id; UNLISTEN stops it', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    const listener = db.session({ processId: 11 })
    const other = db.session({ processId: 12 })
    const sender = db.session({ processId: 13 })
    const got: Notification[] = []
    listener.onNotification((n) => got.push(n))
    await listener.query('LISTEN jobs')
    await other.query('LISTEN other_channel')
    await sender.query("NOTIFY jobs, 'first'")
    await sender.query("SELECT pg_notify('jobs', 'second')")
    await sender.query("NOTIFY other_channel")
    expect(inbox(got)).toEqual(['jobs:first:13', 'jobs:second:13'])
    expect(inbox(other.takeNotifications())).toEqual(['other_channel::13'])
    expect((await listener.query('SELECT * FROM pg_listening_channels()')).rows).toEqual([{ pg_listening_channels: 'jobs' }])
    await listener.query('UNLISTEN jobs')
    await sender.query("NOTIFY jobs, 'third'")
    expect(got.length).toBe(2)
    expect((await sender.query('SELECT pg_backend_pid() AS pid')).rows).toEqual([{ pid: 13 }])
    await db.close()
  })

  it('folds a NOTIFY repeated in statements after ones that queued nothing, and hands out what waited once', async () => {
    // A statement outside a block commits its session's notification state, most often an
    // empty one (kept as it is, not made again): what follows must start from nothing.
    const db = await openDatabase({ nodeId: 'n1' })
    const listener = db.session({ processId: 21 })
    const sender = db.session({ processId: 22 })
    await listener.query('LISTEN c')
    await sender.query('SELECT 1')
    await sender.query("NOTIFY c, 'x'")
    await sender.query('SELECT 2')
    // Folding holds within a transaction only: the same text in the next statement goes out again.
    await sender.query("NOTIFY c, 'x'")
    await sender.query('BEGIN')
    await sender.query("NOTIFY c, 'y'")
    await sender.query("NOTIFY c, 'y'")
    await sender.query('COMMIT')
    const first = listener.takeNotifications()
    expect(inbox(first)).toEqual(['c:x:22', 'c:x:22', 'c:y:22'])
    // Taken once: an empty list now, and later notifications do not land in a list handed out before.
    const empty = listener.takeNotifications()
    expect(empty).toEqual([])
    await sender.query("NOTIFY c, 'z'")
    expect(empty).toEqual([])
    expect(inbox(first)).toEqual(['c:x:22', 'c:x:22', 'c:y:22'])
    expect(inbox(listener.takeNotifications())).toEqual(['c:z:22'])
    // A receiver set later gets what waited meanwhile, then the rest as it comes.
    await sender.query("NOTIFY c, 'w'")
    const got: Notification[] = []
    listener.onNotification((n) => got.push(n))
    await sender.query('SELECT 3')
    await sender.query("NOTIFY c, 'v'")
    expect(inbox(got)).toEqual(['c:w:22', 'c:v:22'])
    await db.close()
  })

  it('NOTIFYs of a block go out at COMMIT, folded and in order; a rollback, a failed statement or ROLLBACK TO drops them', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    const listener = db.session({ processId: 1 })
    const sender = db.session({ processId: 2 })
    const got: Notification[] = []
    listener.onNotification((n) => got.push(n))
    await listener.query('LISTEN c')
    await sender.query('BEGIN')
    await sender.query("NOTIFY c, 'a'")
    await sender.query("NOTIFY c, 'b'")
    await sender.query("NOTIFY c, 'a'")
    expect(got).toEqual([])
    await sender.query('SAVEPOINT s')
    await sender.query("NOTIFY c, 'dropped'")
    await sender.query('ROLLBACK TO SAVEPOINT s')
    await sender.query('COMMIT')
    expect(inbox(got)).toEqual(['c:a:2', 'c:b:2'])
    await sender.query('BEGIN')
    await sender.query("NOTIFY c, 'never'")
    await sender.query('ROLLBACK')
    await sender.query('CREATE TABLE t (id INT PRIMARY KEY)')
    expect(await sqlState(sender, "SELECT pg_notify('c', 'failed'), 1 / 0")).toBe('22012')
    await sender.query('BEGIN')
    await sender.query("NOTIFY c, 'aborted'")
    expect(await sqlState(sender, 'INSERT INTO t VALUES (1), (1)')).toBe('23505')
    await sender.query('COMMIT')
    expect(inbox(got)).toEqual(['c:a:2', 'c:b:2'])
    await db.close()
  })

  it('a listener inside a block gets notifications once its block ends; LISTEN in a rolled-back block never listens', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    const a = db.session({ processId: 1 })
    const b = db.session({ processId: 2 })
    const got: Notification[] = []
    a.onNotification((n) => got.push(n))
    await a.query('BEGIN')
    await a.query('LISTEN x')
    await a.query('ROLLBACK')
    await b.query("NOTIFY x, '1'")
    expect(got).toEqual([])
    await a.query('LISTEN x')
    await a.query('BEGIN')
    await b.query("NOTIFY x, '2'")
    expect(got).toEqual([])
    await a.query('COMMIT')
    expect(inbox(got)).toEqual(['x:2:2'])
    // A session listening to itself hears its own NOTIFY when it commits.
    await a.query("NOTIFY x, 'self'")
    expect(inbox(got)).toEqual(['x:2:2', 'x:self:1'])
    await db.close()
  })

  it('refuses an empty channel and a payload of 8000 bytes or more with 22023', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    expect(await sqlState(db, "SELECT pg_notify('', 'x')")).toBe('22023')
    expect(await sqlState(db, "SELECT pg_notify(NULL, 'x')")).toBe('22023')
    expect(await sqlState(db, `NOTIFY c, '${'x'.repeat(8000)}'`)).toBe('22023')
    expect(await sqlState(db, `NOTIFY c, '${'x'.repeat(7999)}'`)).toBe(null)
    await db.close()
  })
})

describe('NOTIFY across nodes', () => {
  it('a NOTIFY committed on one node reaches the listeners of the others, not a rolled-back one', async () => {
    const cluster = await SimCluster.create({ seed: 3, nodes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] })
    const onB = cluster.node('b').session({ processId: 7 })
    const onC = cluster.node('c').session({ processId: 8 })
    const got: string[] = []
    onB.onNotification((n) => got.push(`b ${n.channel}:${n.payload}:${n.processId}`))
    onC.onNotification((n) => got.push(`c ${n.channel}:${n.payload}:${n.processId}`))
    await onB.query('LISTEN orders')
    await onC.query('LISTEN orders')
    const sender = cluster.node('a').session({ processId: 42 })
    await sender.query('BEGIN')
    await sender.query("NOTIFY orders, 'rolled back'")
    await sender.query('ROLLBACK')
    await sender.query("NOTIFY orders, 'new order 1'")
    await cluster.advance(2000)
    expect(got.sort()).toEqual(['b orders:new order 1:42', 'c orders:new order 1:42'])
    await cluster.close()
  })

  it('a notification is not stored: a node partitioned away when it was sent never gets it, later ones it does', async () => {
    const cluster = await SimCluster.create({ seed: 4, nodes: [{ id: 'a' }, { id: 'b' }] })
    const onB = cluster.node('b').session({ processId: 1 })
    const got: string[] = []
    onB.onNotification((n) => got.push(n.payload))
    await onB.query('LISTEN c')
    cluster.partition(['a'], ['b'])
    await cluster.node('a').query("NOTIFY c, 'while apart'")
    await cluster.advance(1000)
    cluster.heal()
    await cluster.settle()
    await cluster.node('a').query("NOTIFY c, 'after heal'")
    // settle() waits for converged state; a notice in flight is no state: let virtual time pass.
    await cluster.advance(2000)
    expect(got).toEqual(['after heal'])
    await cluster.close()
  })
})
