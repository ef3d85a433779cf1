/**
 * Scoped browser replicas (issue 15): a token from `concord_browser_token` limits a browser
 * replica to its tables. Before it, a browser replica was a full peer: it received every
 * table and its inserts, deletes, DDL and cluster-setting changes applied on the node.
 *
 * The "modified client" here speaks the browser's protocol directly from Node: the same
 * libp2p WebSockets connection, sync sessions and replication messages a page's replica
 * uses, with a full SQL database over it that writes whatever it likes. Real node on
 * 127.0.0.1 (loopback, no cluster key: browsers cannot hold one) with the member list on.
 */
import { afterAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { encodeMessage, homeShardId, MemoryStorage, MessageType, shardId, CATALOG_SHARD, SECRETS_SHARD } from '@concord/core'
import { decodeBrowserToken } from '@concord/p2p'
import { openDatabase, restrictWrites, type Database } from '@concord/sql-facade'
import { ConcordNode } from './concord-node.js'
import { Libp2pTransport } from '../transport/libp2p-transport.js'
import { ensureGlobalWebSocket } from '../cli/global-websocket.js'
import type { Logger } from '../log/logger.js'

const nodes: ConcordNode[] = []
const clients: Database[] = []

afterAll(async () => {
  for (const c of clients.splice(0)) await c.close()
  for (const n of nodes.splice(0)) await n.stop()
})

async function query(node: ConcordNode, sql: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' })
  await c.connect()
  try {
    return await c.query(sql)
  } finally {
    await c.end()
  }
}

async function sqlState(node: ConcordNode, sql: string): Promise<string | undefined> {
  try {
    await query(node, sql)
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

/** The ids in a table, or null when it is not there. */
async function ids(run: (sql: string) => Promise<{ rows: unknown[] }>, table: string): Promise<number[] | null> {
  try {
    return (await run(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => Number((r as { id: unknown }).id))
  } catch {
    return null
  }
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** A browser-protocol client: a SQL database on a libp2p transport (WebSockets only, no listener) with the given identity. */
async function browserClient(
  nodeId: string,
  wsAddr: string,
  privateKey?: ReturnType<typeof decodeBrowserToken>['privateKey'],
  region?: string,
): Promise<{ db: Database; transport: Libp2pTransport; storage: MemoryStorage }> {
  await ensureGlobalWebSocket()
  const transport = new Libp2pTransport({ nodeId, listen: [], ...(privateKey ? { privateKey } : {}) })
  const storage = new MemoryStorage()
  const db = await openDatabase({ nodeId, storage, transport, serialWaitMs: 0, ...(region !== undefined ? { region } : {}) })
  clients.push(db)
  transport.join(wsAddr)
  return { db, transport, storage }
}

/** Whether a role can log in to the node with a password (SCRAM-SHA-256). */
async function logsIn(node: ConcordNode, user: string, password: string): Promise<boolean> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user, password, database: 'concord' })
  try {
    await c.connect()
    await c.end()
    return true
  } catch {
    return false
  }
}

/** The base64 parts of a SCRAM verifier (salt, StoredKey, ServerKey): any of them in a browser's hands is a leak. */
function verifierParts(verifier: string): string[] {
  const m = /^SCRAM-SHA-256\$\d+:([^$]+)\$([^:]+):(.+)$/.exec(verifier)
  if (m === null) throw new Error(`not a verifier: ${verifier}`)
  return [m[1]!, m[2]!, m[3]!]
}

/** Which parts of `verifier` a replica holds anywhere: in any shard's state, or in its storage. */
async function heldParts(db: Database, storage: MemoryStorage, verifier: string): Promise<string[]> {
  const texts: string[] = []
  for (const shard of db.replica.shards.values()) texts.push(Buffer.from(shard.encodeState()).toString('latin1'))
  for (const id of await storage.shards()) for (const r of await storage.load(id)) texts.push(Buffer.from(r.data).toString('latin1'))
  return verifierParts(verifier).filter((p) => texts.some((t) => t.includes(p)))
}

/**
 * What a modified client can do beyond its replica's own protocol: push a shard's whole
 * state to the node as an unsolicited UPDATES message (the node never asked for it).
 */
function pushShard(client: { db: Database; transport: Libp2pTransport }, to: string, id: string): void {
  const shard = client.db.replica.shardFor(id)!
  const msg = encodeMessage({ type: MessageType.Updates, prevLsn: 0, lsn: 0, updates: [{ shard: id, generation: shard.generation, update: shard.encodeState() }] })
  client.transport.send(to, msg)
}

/**
 * On node `a` (region eu): a table of eu only, posts homed by a column and a table every
 * region holds, one row each; region us; the member list on (browser tokens need it).
 */
async function regionalTables(a: ConcordNode): Promise<void> {
  await query(a, "CREATE TABLE eu_notes (id INT PRIMARY KEY, body TEXT) WITH (replication_regions = 'eu')")
  await query(a, "CREATE TABLE posts (id INT PRIMARY KEY, region TEXT, body TEXT) WITH (home_region_column = 'region')")
  await query(a, 'CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
  await query(a, "INSERT INTO eu_notes VALUES (1, 'e1')")
  await query(a, "INSERT INTO posts VALUES (1, 'eu', 'p1')")
  await query(a, "INSERT INTO notes VALUES (1, 'n1')")
  await query(a, "CREATE REGION 'us' WITH (PRIMARY)")
  await query(a, `ALTER SYSTEM ADD NODE '${a.transport!.peerId}'`)
}

describe('a scoped browser token', () => {
  it('lets a browser replica read and write only its tables, even with a modified client', async () => {
    const lines: string[] = []
    const log: Logger = { info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
    const a = await ConcordNode.start({ memory: true, nodeId: 'a', pgPort: 0, pgPortSearch: false, logger: log })
    nodes.push(a)
    await query(a, 'CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    await query(a, 'CREATE TABLE secrets (id INT PRIMARY KEY, body TEXT)')
    await query(a, "INSERT INTO notes VALUES (1, 'n1')")
    await query(a, "INSERT INTO secrets VALUES (1, 's1')")
    // Without the member list any identity would connect unscoped: no token then.
    expect(await sqlState(a, "SELECT concord_browser_token(ARRAY['notes'], 600)")).toBe('55000')
    await query(a, `ALTER SYSTEM ADD NODE '${a.transport!.peerId}'`)
    expect(await sqlState(a, "SELECT concord_browser_token(ARRAY['nope'], 600)")).toBe('42P01')
    const token = (await query(a, "SELECT concord_browser_token(ARRAY['notes'], 600) AS t")).rows[0].t as string
    const identity = decodeBrowserToken(token)
    expect(identity.tables).toEqual(['notes'])
    const wsAddr = a.p2pAddresses().find((x) => x.includes('/ws'))!

    const client = await browserClient('browser-1', wsAddr, identity.privateKey)
    const browser = client.db
    const run = (sql: string) => browser.query(sql)
    await until(async () => (await ids(run, 'notes'))?.length === 1, 'the note on the browser replica')
    // It knows the other table's definition (the catalog), never its rows: none is stored
    // there, and a read of it fails (no holder it may read is reachable) rather than answer
    // an empty table, which would be a silently short answer (placement/join-catch-up.ts).
    expect(browser.replica.rowCount('secrets')).toBe(0)
    expect(await ids(run, 'secrets')).toBeNull()

    // In scope: its write applies on the node.
    await browser.query("INSERT INTO notes VALUES (2, 'from the browser')")
    await until(async () => (await ids((s) => query(a, s), 'notes'))?.length === 2, "the browser's note on the node")

    // Out of scope, as a modified client would: rows of another table, a new table, a cluster setting.
    // (Its SQL cannot check the key against a holder of secrets, so it writes the row below SQL.)
    browser.replica.transact((tx) => tx.upsert('secrets', { id: 66, body: 'planted' }))
    await browser.query('DELETE FROM notes WHERE id = 1') // in scope: applies
    await browser.query('CREATE TABLE planted (id INT PRIMARY KEY)')
    await browser.query("ALTER SYSTEM SET conflict_resolution_policy = 'first_write_wins'")
    // Its replica never gets asked for those shards (the node does not tell it they differ), so push them.
    pushShard(client, 'a', shardId('secrets', browser.replica.table('secrets')!.incarnation, 0))
    pushShard(client, 'a', CATALOG_SHARD)
    await until(() => lines.some((l) => l.includes('browser-1') && l.includes(':secrets') && l.includes('outside its token')), 'the node to log the refused write')
    await until(async () => (await ids((s) => query(a, s), 'notes'))?.join() === '2', "the browser's delete on the node")
    // The node keeps writing both tables: only notes reach the browser.
    await query(a, "INSERT INTO secrets VALUES (2, 's2')")
    await query(a, "INSERT INTO notes VALUES (3, 'n3')")
    await until(async () => (await ids(run, 'notes'))?.join() === '2,3', 'the new note on the browser')
    // Only its own planted row is stored there; the node's never arrive.
    expect([1, 2, 66].map((id) => browser.replica.get('secrets', [id]) !== undefined)).toEqual([false, false, true])
    expect(await ids((s) => query(a, s), 'secrets')).toEqual([1, 2])
    expect(await ids((s) => query(a, s), 'planted')).toBeNull()
    expect((await query(a, 'SHOW conflict_resolution_policy')).rows[0].conflict_resolution_policy).not.toBe('first_write_wins')

    // Another identity (no token, not a member) gets nothing at all.
    const stranger = await browserClient('browser-2', wsAddr)
    await until(() => lines.some((l) => l.startsWith('refused peer')), 'the node to refuse the stranger')
    expect(await ids((s) => stranger.db.query(s), 'notes')).toBeNull()
  }, 180_000)

  it('never sends a browser replica a role verifier, and takes none from it', async () => {
    const lines: string[] = []
    const log: Logger = { info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
    const a = await ConcordNode.start({ memory: true, nodeId: 'rs', pgPort: 0, pgPortSearch: false, logger: log })
    nodes.push(a)
    await query(a, 'CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    await query(a, `ALTER SYSTEM ADD NODE '${a.transport!.peerId}'`)
    await query(a, "CREATE ROLE alice LOGIN PASSWORD 'correct horse battery staple'")
    const verifier = (await query(a, "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'")).rows[0].rolpassword as string
    expect(verifierParts(verifier)).toHaveLength(3)
    const token = (await query(a, "SELECT concord_browser_token(ARRAY['notes'], 600) AS t")).rows[0].t as string
    const client = await browserClient('browser-rs', a.p2pAddresses().find((x) => x.includes('/ws'))!, decodeBrowserToken(token).privateKey)
    const browser = client.db
    const run = (sql: string) => browser.query(sql)
    // It has the catalog (the role is there, so its SQL layer knows it), never the verifier.
    await query(a, "INSERT INTO notes VALUES (1, 'n1')")
    await until(async () => (await ids(run, 'notes'))?.join() === '1' && browser.replica.getCatalog('role', 'alice') !== undefined, 'the note and the role on the browser replica')
    expect(await heldParts(browser, client.storage, verifier)).toEqual([])

    // A new password, after the browser synced: neither it nor the old one reaches it.
    await query(a, "ALTER ROLE alice PASSWORD 'another long passphrase'")
    const changed = (await query(a, "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'")).rows[0].rolpassword as string
    await query(a, "INSERT INTO notes VALUES (2, 'n2')")
    await until(async () => (await ids(run, 'notes'))?.join() === '1,2', 'the second note on the browser replica')
    expect(await heldParts(browser, client.storage, verifier)).toEqual([])
    expect(await heldParts(browser, client.storage, changed)).toEqual([])

    // A modified client plants its own verifier for alice and pushes the secrets shard: refused.
    browser.replica.transact((tx) => {
      tx.setSecret('role_secret', String(browser.roles().role('alice')!.oid), 'SCRAM-SHA-256$4096:c2FsdA==$' + 'A'.repeat(43) + '=:' + 'B'.repeat(43) + '=')
    })
    pushShard(client, 'rs', SECRETS_SHARD)
    await until(() => lines.some((l) => l.includes('browser-rs') && l.includes(`${SECRETS_SHARD} is outside its token`)), 'the node to log the refused secrets')
    expect((await query(a, "SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'")).rows[0].rolpassword).toBe(changed)
    expect(await logsIn(a, 'alice', 'another long passphrase')).toBe(true)
    expect(await logsIn(a, 'alice', 'correct horse battery staple')).toBe(false)
  }, 180_000)

  it('serves read-only tables to a browser replica and applies none of its writes to them', async () => {
    const lines: string[] = []
    const log: Logger = { info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
    const a = await ConcordNode.start({ memory: true, nodeId: 'ro', pgPort: 0, pgPortSearch: false, logger: log })
    nodes.push(a)
    await query(a, 'CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    await query(a, 'CREATE TABLE prices (id INT PRIMARY KEY, cents INT)')
    await query(a, 'INSERT INTO prices VALUES (1, 100)')
    await query(a, `ALTER SYSTEM ADD NODE '${a.transport!.peerId}'`)
    expect(await sqlState(a, "SELECT concord_browser_token(ARRAY['notes'], 600, ARRAY['notes'])")).toBe('22023')
    const token = (await query(a, "SELECT concord_browser_token(ARRAY['notes'], 600, ARRAY['prices']) AS t")).rows[0].t as string
    const identity = decodeBrowserToken(token)
    expect([identity.tables, identity.readOnly]).toEqual([['notes'], ['prices']])
    expect((await query(a, `SELECT tables, read_only_tables FROM concord_browser_grants WHERE id = '${identity.peerId}'`)).rows)
      .toEqual([{ tables: 'notes', read_only_tables: 'prices' }])
    const client = await browserClient('browser-ro', a.p2pAddresses().find((x) => x.includes('/ws'))!, identity.privateKey)
    const browser = client.db
    const run = (sql: string) => browser.query(sql)
    // Read: the node's rows reach it, later ones too.
    await until(async () => (await ids(run, 'prices'))?.join() === '1', 'the price on the browser replica')
    await query(a, 'INSERT INTO prices VALUES (2, 200)')
    await until(async () => (await ids(run, 'prices'))?.join() === '1,2', 'the new price on the browser replica')

    // A modified client writes the read-only table anyway and pushes it: the node applies none of it.
    // (Below SQL, as above: its SQL reads the table through a holder until it has caught up.)
    browser.replica.transact((tx) => {
      tx.upsert('prices', { id: 1, cents: 1 })
      tx.upsert('prices', { id: 66, cents: 6 })
    })
    pushShard(client, 'ro', shardId('prices', browser.replica.table('prices')!.incarnation, 0))
    await until(() => lines.some((l) => l.includes('browser-ro') && l.includes(':prices') && l.includes('outside its token')), 'the node to log the refused write')
    await browser.query("INSERT INTO notes VALUES (1, 'in scope')")
    await until(async () => (await ids((s) => query(a, s), 'notes'))?.join() === '1', "the browser's note on the node")
    expect((await query(a, 'SELECT id, cents FROM prices ORDER BY id')).rows).toEqual([{ id: 1, cents: 100 }, { id: 2, cents: 200 }])

    // An honest replica (openReplica applies its token's scope so) refuses such writes itself.
    restrictWrites(browser.replica, { tables: identity.tables, readOnly: identity.readOnly })
    await expect(browser.query('UPDATE prices SET cents = 2')).rejects.toMatchObject({ code: '42501' })
    await browser.query("INSERT INTO notes VALUES (2, 'still fine')")
    await until(async () => (await ids((s) => query(a, s), 'notes'))?.join() === '1,2', "the browser's second note on the node")
  }, 180_000)

  it('limits a browser token naming a region to the rows placed in it: one for another region gets none and changes none, even claiming the region', async () => {
    const lines: string[] = []
    const log: Logger = { info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
    const a = await ConcordNode.start({ memory: true, nodeId: 'eu1', region: 'eu', pgPort: 0, pgPortSearch: false, logger: log })
    nodes.push(a)
    await regionalTables(a)
    expect(await sqlState(a, "SELECT concord_browser_token(ARRAY[]::text[], 600, NULL, ARRAY['mars'])")).toBe('22023')
    expect(await sqlState(a, 'SELECT concord_browser_token(ARRAY[]::text[], 600, NULL, ARRAY[]::text[])')).toBe('22023')
    const issue = async (region: string): Promise<ReturnType<typeof decodeBrowserToken>> =>
      decodeBrowserToken((await query(a, `SELECT concord_browser_token(ARRAY[]::text[], 600, NULL, ARRAY['${region}']) AS t`)).rows[0].t as string)
    const euToken = await issue('eu')
    const usToken = await issue('us')
    expect([euToken.tables, euToken.regions]).toEqual([[], ['eu']])
    expect((await query(a, `SELECT tables, regions FROM concord_browser_grants WHERE id = '${euToken.peerId}'`)).rows).toEqual([{ tables: '', regions: 'eu' }])
    const wsAddr = a.p2pAddresses().find((x) => x.includes('/ws'))!

    // The eu browser: the rows placed in eu (the eu-only table, the posts homed in eu), not the table every region holds.
    const eu = await browserClient('browser-eu', wsAddr, euToken.privateKey, 'eu')
    // The us browser is modified: it claims region eu in its HELLO to be sent eu's rows.
    const us = await browserClient('browser-us', wsAddr, usToken.privateKey, 'eu')
    const has = (db: Database, table: string, id: number): boolean => db.replica.table(table) !== undefined && db.replica.get(table, [id]) !== undefined
    await until(() => has(eu.db, 'eu_notes', 1) && has(eu.db, 'posts', 1), "eu's rows on the eu browser")
    await eu.db.query("INSERT INTO eu_notes VALUES (2, 'from the eu browser')")
    await eu.db.query("INSERT INTO posts VALUES (2, 'eu', 'from the eu browser')")
    await until(async () => (await ids((q) => query(a, q), 'eu_notes'))?.join() === '1,2' && (await ids((q) => query(a, q), 'posts'))?.join() === '1,2',
      "the eu browser's rows on the node")

    // The us browser has the catalog (table definitions) and nothing else; a row the node writes now reaches eu only.
    await until(() => us.db.replica.table('posts') !== undefined && us.db.replica.table('eu_notes') !== undefined, 'the catalog on the us browser')
    await query(a, "INSERT INTO eu_notes VALUES (3, 'e3')")
    await until(() => has(eu.db, 'eu_notes', 3), 'the new eu row on the eu browser')
    expect(['eu_notes', 'posts', 'notes'].map((t) => us.db.replica.rowCount(t))).toEqual([0, 0, 0])
    expect(eu.db.replica.rowCount('notes')).toBe(0)

    // It writes eu's rows below SQL and pushes their shards unasked: logged, never applied.
    us.db.replica.transact((tx) => {
      tx.upsert('eu_notes', { id: 66, body: 'planted' })
      tx.upsert('posts', { id: 67, region: 'eu', body: 'planted' })
    })
    pushShard(us, 'eu1', shardId('eu_notes', us.db.replica.table('eu_notes')!.incarnation, 0))
    pushShard(us, 'eu1', homeShardId(us.db.replica.table('posts')!, 'eu'))
    for (const table of [':eu_notes', ':posts']) {
      await until(() => lines.some((l) => l.includes('browser-us') && l.includes(table) && l.includes('outside its token')), `the node to log the refused ${table}`)
    }
    // A write of the eu browser after the push still arrives, so the push had its chance.
    await eu.db.query("INSERT INTO eu_notes VALUES (4, 'after the push')")
    await until(async () => (await ids((q) => query(a, q), 'eu_notes'))?.join() === '1,2,3,4', "the eu browser's later row on the node")
    expect(await ids((q) => query(a, q), 'posts')).toEqual([1, 2])
    expect(lines.some((l) => l.includes('browser-eu') && l.includes('outside its token') && !l.includes(': catalog '))).toBe(false)

    // An honest page (openReplica applies the token's regions) refuses rows outside them itself.
    restrictWrites(eu.db.replica, { tables: [], readOnly: [], regions: ['eu'] })
    // (Its SQL would first look for a holder of notes; the guard is what every row write passes.)
    expect(() => eu.db.replica.transact((tx) => tx.upsert('notes', { id: 9, body: 'not placed in eu' }))).toThrow(expect.objectContaining({ code: '42501' }))
    await eu.db.query("INSERT INTO eu_notes VALUES (5, 'still fine')")
  }, 180_000)

  it('serves a read-only region\'s rows to a browser replica and applies none of its writes to them', async () => {
    const lines: string[] = []
    const log: Logger = { info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
    const a = await ConcordNode.start({ memory: true, nodeId: 'eur', region: 'eu', pgPort: 0, pgPortSearch: false, logger: log })
    nodes.push(a)
    await regionalTables(a)
    // Each read-only region must be the cluster's, and none may be read-write too.
    expect(await sqlState(a, "SELECT concord_browser_token(ARRAY[]::text[], 600, NULL, NULL, ARRAY['mars'])")).toBe('22023')
    expect(await sqlState(a, "SELECT concord_browser_token(ARRAY[]::text[], 600, NULL, ARRAY['eu'], ARRAY['eu'])")).toBe('22023')
    const token = (await query(a, "SELECT concord_browser_token(ARRAY['notes'], 600, NULL, NULL, ARRAY['eu']) AS t")).rows[0].t as string
    const identity = decodeBrowserToken(token)
    expect([identity.tables, identity.regions, identity.readOnlyRegions]).toEqual([['notes'], [], ['eu']])
    expect((await query(a, `SELECT tables, regions, read_only_regions FROM concord_browser_grants WHERE id = '${identity.peerId}'`)).rows)
      .toEqual([{ tables: 'notes', regions: '', read_only_regions: 'eu' }])
    const client = await browserClient('browser-ro-eu', a.p2pAddresses().find((x) => x.includes('/ws'))!, identity.privateKey, 'eu')
    const browser = client.db
    const has = (table: string, id: number): boolean => browser.replica.table(table) !== undefined && browser.replica.get(table, [id]) !== undefined

    // Read: eu's rows reach it (the eu-only table, the posts homed in eu), later ones too.
    await until(() => has('eu_notes', 1) && has('posts', 1) && has('notes', 1), "eu's rows and the note on the browser replica")
    await query(a, "INSERT INTO eu_notes VALUES (2, 'e2')")
    await query(a, "INSERT INTO posts VALUES (2, 'eu', 'p2')")
    await until(() => has('eu_notes', 2) && has('posts', 2), "eu's later rows on the browser replica")

    // A modified client writes them anyway, below SQL, and pushes their shards unasked: logged, never applied.
    browser.replica.transact((tx) => {
      tx.upsert('eu_notes', { id: 1, body: 'overwritten' })
      tx.upsert('eu_notes', { id: 66, body: 'planted' })
      tx.upsert('posts', { id: 67, region: 'eu', body: 'planted' })
    })
    pushShard(client, 'eur', shardId('eu_notes', browser.replica.table('eu_notes')!.incarnation, 0))
    pushShard(client, 'eur', homeShardId(browser.replica.table('posts')!, 'eu'))
    for (const table of [':eu_notes', ':posts']) {
      await until(() => lines.some((l) => l.includes('browser-ro-eu') && l.includes(table) && l.includes('outside its token')), `the node to log the refused ${table}`)
    }
    // Its writable table's row, written after the push, arrives: the push had its chance.
    await browser.query("INSERT INTO notes VALUES (2, 'from the browser')")
    await until(async () => (await ids((q) => query(a, q), 'notes'))?.join() === '1,2', "the browser's note on the node")
    expect((await query(a, 'SELECT id, body FROM eu_notes ORDER BY id')).rows).toEqual([{ id: 1, body: 'e1' }, { id: 2, body: 'e2' }])
    expect(await ids((q) => query(a, q), 'posts')).toEqual([1, 2])

    // An honest page (openReplica applies the token's read-only regions) refuses such writes itself.
    restrictWrites(browser.replica, { tables: identity.tables, readOnly: identity.readOnly, regions: identity.regions, readOnlyRegions: identity.readOnlyRegions })
    await expect(browser.query("INSERT INTO eu_notes VALUES (5, 'refused')")).rejects.toMatchObject({ code: '42501' })
    expect(() => browser.replica.transact((tx) => tx.upsert('posts', { id: 5, region: 'eu', body: 'refused' }))).toThrow(expect.objectContaining({ code: '42501' }))
    expect(has('eu_notes', 5) || has('posts', 5)).toBe(false)
    await browser.query("INSERT INTO notes VALUES (3, 'still fine')")
    await until(async () => (await ids((q) => query(a, q), 'notes'))?.join() === '1,2,3', "the browser's later note on the node")
  }, 180_000)
})
