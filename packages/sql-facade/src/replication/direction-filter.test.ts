/**
 * Subscriptions over an in-memory network of real Databases (each opened with a
 * transport, so the direction filter is in place): a subscriber copies and follows its
 * publisher, its own writes stay local until the publisher subscribes back, and nodes
 * with no subscription between them replicate everything both ways.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Transport, TransportHandler } from '@concord/core'
import { Database, type DatabaseOptions } from '../database.js'
import type { ConnInfo, PublisherConnector, PublisherInfo } from '../cluster/publisher-connector.js'
import { SqlError } from '../errors/sql-error.js'
import { formatLsn } from './lsn.js'

class Hub {
  readonly nodes = new Map<string, { handler: TransportHandler; topics: Set<string> }>()
  readonly links = new Set<string>()
  link(a: string, b: string): void {
    this.links.add(`${a}|${b}`).add(`${b}|${a}`)
    for (const [x, y] of [[a, b], [b, a]] as const) this.nodes.get(x)?.handler.onPeerUp(y)
  }
  transport(id: string): Transport {
    const hub = this
    const topics = new Set<string>()
    const deliver = (to: string, data: Uint8Array) => setTimeout(() => hub.nodes.get(to)?.handler.onMessage(id, data), 0)
    return {
      start(handler) {
        hub.nodes.set(id, { handler, topics })
      },
      send(peer, data) {
        if (hub.links.has(`${id}|${peer}`)) deliver(peer, data)
      },
      publish(topic, data) {
        for (const [peer, n] of hub.nodes) if (peer !== id && n.topics.has(topic) && hub.links.has(`${id}|${peer}`)) deliver(peer, data)
      },
      subscribe: (t) => void topics.add(t),
      unsubscribe: (t) => void topics.delete(t),
      peers: () => [...hub.nodes.keys()].filter((p) => hub.links.has(`${id}|${p}`)),
      stop() {
        hub.nodes.delete(id)
      },
    }
  }
}

/** Connection strings name nodes as host = node id. */
function connector(hub: Hub, dbs: Map<string, Database>, self: string): PublisherConnector {
  return {
    async describe(conn: ConnInfo): Promise<PublisherInfo> {
      const db = dbs.get(conn.host)
      if (!db) throw new SqlError('08006', `could not connect to the publisher: no node "${conn.host}"`)
      const pubs = (await db.query('SELECT pubname FROM pg_publication')).rows.map((r) => String(r.pubname))
      return { nodeId: db.nodeId, publications: pubs, lsn: db.replica.lsn }
    },
    follow(conn) {
      hub.link(self, conn.host)
    },
  }
}

const open: Database[] = []
afterEach(async () => {
  for (const db of open.splice(0)) await db.close()
})

async function cluster(ids: string[], options: Partial<DatabaseOptions> = {}): Promise<{ hub: Hub; dbs: Map<string, Database> }> {
  const hub = new Hub()
  const dbs = new Map<string, Database>()
  for (const id of ids) {
    const db = await Database.open({ nodeId: id, transport: hub.transport(id), antiEntropyIntervalMs: 50, ...options })
    dbs.set(id, db)
    open.push(db)
    db.setConnector(connector(hub, dbs, id))
  }
  return { hub, dbs }
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const names = async (db: Database) => (await db.query('SELECT name FROM items ORDER BY name')).rows.map((r) => r.name)

describe('subscriptions are directional', () => {
  it('a subscriber copies, follows, and keeps its own writes until the publisher subscribes back', async () => {
    const { dbs } = await cluster(['pub', 'sub'])
    const pub = dbs.get('pub')!
    const sub = dbs.get('sub')!
    await pub.query('CREATE TABLE items (name TEXT PRIMARY KEY)')
    await pub.query("INSERT INTO items VALUES ('a')")
    await pub.query('CREATE PUBLICATION p FOR ALL TABLES')
    await sub.query("CREATE SUBSCRIPTION s CONNECTION 'host=pub' PUBLICATION p")
    await until(async () => (await sub.query("SELECT 1 FROM pg_tables WHERE tablename = 'items'")).rows.length === 1 && (await names(sub)).length === 1, 'initial copy')
    await pub.query("INSERT INTO items VALUES ('b')")
    await until(async () => (await names(sub)).join() === 'a,b', 'follow')
    await sub.query("INSERT INTO items VALUES ('local')")
    await new Promise((r) => setTimeout(r, 300))
    expect(await names(pub)).toEqual(['a', 'b'])
    await sub.query('CREATE PUBLICATION back FOR TABLE items')
    await pub.query("CREATE SUBSCRIPTION back_s CONNECTION 'host=sub' PUBLICATION back")
    await until(async () => (await names(pub)).join() === 'a,b,local', 'two-way')
    // Positions: the publisher's slot for s reaches its own LSN once the subscriber acknowledges.
    await until(async () => (await pub.query("SELECT confirmed_flush_lsn AS l FROM pg_replication_slots WHERE slot_name = 's'")).rows[0]?.l === formatLsn(pub.replica.lsn), 'slot position')
  })

  it('a publication FOR TABLE carries only its tables', async () => {
    const { dbs } = await cluster(['pub', 'sub'])
    const pub = dbs.get('pub')!
    const sub = dbs.get('sub')!
    await pub.query('CREATE TABLE items (name TEXT PRIMARY KEY)')
    await pub.query('CREATE TABLE secrets (name TEXT PRIMARY KEY)')
    await pub.query("INSERT INTO items VALUES ('a')")
    await pub.query("INSERT INTO secrets VALUES ('s')")
    await pub.query('CREATE PUBLICATION p FOR TABLE items')
    await sub.query("CREATE SUBSCRIPTION s CONNECTION 'host=pub' PUBLICATION p")
    await until(async () => (await sub.query("SELECT 1 FROM pg_tables WHERE tablename = 'items'")).rows.length === 1 && (await names(sub)).length === 1, 'initial copy')
    await new Promise((r) => setTimeout(r, 300))
    expect((await sub.query('SELECT count(*) AS n FROM secrets')).rows).toEqual([{ n: '0' }])
    await pub.query('ALTER PUBLICATION p ADD TABLE secrets')
    await until(async () => (await sub.query('SELECT count(*) AS n FROM secrets')).rows[0]!.n === '1', 'the added table')
  })

  it('a table renamed on the publisher stays in its publication and keeps flowing under its new name', async () => {
    const { dbs } = await cluster(['pub', 'sub'])
    const pub = dbs.get('pub')!
    const sub = dbs.get('sub')!
    await pub.query('CREATE TABLE items (name TEXT PRIMARY KEY)')
    await pub.query("INSERT INTO items VALUES ('a')")
    await pub.query('CREATE PUBLICATION p FOR TABLE items')
    await sub.query("CREATE SUBSCRIPTION s CONNECTION 'host=pub' PUBLICATION p")
    await until(async () => (await sub.query("SELECT 1 FROM pg_tables WHERE tablename = 'items'")).rows.length === 1 && (await names(sub)).length === 1, 'initial copy')
    await pub.query('ALTER TABLE items RENAME TO goods')
    await pub.query("INSERT INTO goods VALUES ('b')")
    expect((await pub.query("SELECT pubname, tablename FROM pg_publication_tables")).rows).toEqual([{ pubname: 'p', tablename: 'goods' }])
    await until(async () => (await sub.query("SELECT 1 FROM pg_tables WHERE tablename = 'goods'")).rows.length === 1 &&
      (await sub.query('SELECT name FROM goods ORDER BY name')).rows.map((r) => r.name).join() === 'a,b', 'the renamed table and its new row')
  })

  it('nodes with no subscription between them replicate everything both ways', async () => {
    const { hub, dbs } = await cluster(['a', 'b'])
    hub.link('a', 'b')
    await dbs.get('a')!.query('CREATE TABLE items (name TEXT PRIMARY KEY)')
    await dbs.get('a')!.query("INSERT INTO items VALUES ('x')")
    await until(async () => (await dbs.get('b')!.query("SELECT 1 FROM pg_tables WHERE tablename = 'items'")).rows.length === 1, 'schema')
    await dbs.get('b')!.query("INSERT INTO items VALUES ('y')")
    await until(async () => (await names(dbs.get('a')!)).join() === 'x,y' && (await names(dbs.get('b')!)).join() === 'x,y', 'both ways')
  })

  it("generations are built where every linked node accepts them, and a subscriber's local writes survive them without leaking", async () => {
    // sub opens first, so it is the oldest member, but its generations would carry its
    // local writes to pub: pub builds them instead
    const { dbs } = await cluster(['sub', 'pub'], { compaction: { minGarbage: 4, ratio: 0.05 }, maxMessageBytes: 4096 })
    const pub = dbs.get('pub')!
    const sub = dbs.get('sub')!
    const big = 'x'.repeat(200)
    await pub.query('CREATE TABLE items (name TEXT PRIMARY KEY, n INT)')
    await pub.query(`INSERT INTO items SELECT 'pub ' || g || ' ${big}', 0 FROM generate_series(1, 40) g`)
    await pub.query('CREATE PUBLICATION p FOR ALL TABLES')
    await sub.query("CREATE SUBSCRIPTION s CONNECTION 'host=pub' PUBLICATION p")
    await until(async () => (await sub.query("SELECT 1 FROM pg_tables WHERE tablename = 'items'")).rows.length === 1 && (await names(sub)).length === 40 && sub.replica.rowCount('items') === 40, 'initial copy')
    const shardId = [...sub.replica.shards.keys()].find((id) => id.endsWith(':items'))!
    expect(sub.replica.builderOf(shardId)).toBe('pub')
    expect(pub.replica.builderOf(shardId)).toBe('pub')
    await sub.query(`INSERT INTO items SELECT 'local ' || g, 0 FROM generate_series(1, 30) g`)
    for (let u = 1; u <= 5; u++) await pub.query('UPDATE items SET n = $1', [u])
    await until(async () => pub.replica.generationsAdopted > 0 && sub.replica.generationsAdopted > 0, 'a generation built on pub and adopted by sub')
    await until(async () => (await sub.query('SELECT count(*) AS c FROM items WHERE n = 5')).rows[0]!.c === '40', 'sub follows pub across the generation')
    await new Promise((r) => setTimeout(r, 300))
    expect((await sub.query("SELECT count(*) AS c FROM items WHERE name LIKE 'local%'")).rows[0]!.c).toBe('30')
    expect((await pub.query('SELECT count(*) AS c FROM items')).rows[0]!.c).toBe('40')
    // the generation, larger than one message, went in fragments; sub's local rows were refused
    expect(pub.replica.replicator.stats.fragmentedSent).toBeGreaterThan(0)
    expect(sub.replica.generationsAdopted).toBeGreaterThan(0)
  })
})
