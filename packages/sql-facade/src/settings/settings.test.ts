import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'
import { sqlState } from '../errors/sql-state.fixture.js'

const show = async (db: { query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }> }, name: string) => (await db.query(`SHOW ${name}`)).rows[0]![name]

describe('cluster settings are transactional', () => {
  it('a rolled-back SET of a cluster setting changes nothing on any node', async () => {
    const cluster = await SimCluster.create({ seed: 21, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query("BEGIN; SET conflict_resolution_policy = 'first_write_wins'")
    // The block's own session sees its pending value; nobody else does.
    expect(await show(a, 'conflict_resolution_policy')).toBe('first_write_wins')
    expect(await show(a.session(), 'conflict_resolution_policy')).toBe('last_write_wins')
    await a.query('ROLLBACK')
    await cluster.settle()
    for (const db of [a, b]) {
      expect(await show(db, 'conflict_resolution_policy')).toBe('last_write_wins')
      expect((await db.query("SELECT setting, source FROM pg_settings WHERE name = 'conflict_resolution_policy'")).rows).toEqual([{ setting: 'last_write_wins', source: 'default' }])
    }
    // The rolled-back policy is not in force: concurrent writes still resolve last-write-wins.
    await a.query('CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)')
    await a.query("INSERT INTO kv VALUES (1, 'start')")
    await cluster.settle()
    cluster.partition(['a'], ['b'])
    await a.query("UPDATE kv SET v = 'first' WHERE k = 1")
    await cluster.advance(20)
    await b.query("UPDATE kv SET v = 'second' WHERE k = 1")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) expect((await db.query('SELECT v FROM kv')).rows).toEqual([{ v: 'second' }])
    await cluster.close()
  })

  it('a committed SET of a cluster setting is written at COMMIT, with the block, and reaches every node', async () => {
    const cluster = await SimCluster.create({ seed: 22, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query('CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)')
    await a.query("BEGIN; SET conflict_resolution_policy = 'first_write_wins'; INSERT INTO kv VALUES (1, 'start')")
    await cluster.settle()
    expect(await show(b, 'conflict_resolution_policy')).toBe('last_write_wins')
    await a.query('COMMIT')
    await cluster.settle()
    expect(await show(b, 'conflict_resolution_policy')).toBe('first_write_wins')
    expect((await b.query('SELECT v FROM kv')).rows).toEqual([{ v: 'start' }])
    cluster.partition(['a'], ['b'])
    await a.query("UPDATE kv SET v = 'first' WHERE k = 1")
    await cluster.advance(20)
    await b.query("UPDATE kv SET v = 'second' WHERE k = 1")
    cluster.heal()
    await cluster.settle()
    for (const db of [a, b]) expect((await db.query('SELECT v FROM kv')).rows).toEqual([{ v: 'first' }])
    await cluster.close()
  })

  it('ROLLBACK TO SAVEPOINT drops a cluster SET made after the savepoint', async () => {
    const cluster = await SimCluster.create({ seed: 23, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    await a.query("BEGIN; SET wal_keep_size = '1MB'; SAVEPOINT s; SET conflict_resolution_policy = 'first_write_wins'; ROLLBACK TO SAVEPOINT s; COMMIT")
    await cluster.settle()
    const b = cluster.node('b')
    expect(await show(b, 'conflict_resolution_policy')).toBe('last_write_wins')
    expect(await show(b, 'wal_keep_size')).toBe('1MB')
    await cluster.close()
  })

  it('SET LOCAL of a cluster or node setting is refused with 55P02; a failed block writes nothing', async () => {
    const cluster = await SimCluster.create({ seed: 24, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    await a.query("BEGIN; SET multi_master_enabled = on")
    expect(await sqlState(a, "SET LOCAL conflict_resolution_policy = 'first_write_wins'")).toBe('55P02')
    expect(await sqlState(a, 'SELECT 1')).toBe('25P02')
    expect((await a.query('COMMIT')).command).toBe('ROLLBACK')
    await cluster.settle()
    expect(await show(cluster.node('b'), 'multi_master_enabled')).toBe('off')
    expect(await sqlState(a, "BEGIN; SET LOCAL master_nodes = 'x:1'")).toBe('55P02')
    await a.query('ROLLBACK')
    await cluster.close()
  })
})

describe('node settings configure their node and persist there', () => {
  it('SET master_nodes and node_id apply to every session of the node, not to other nodes, and survive a restart', async () => {
    const cluster = await SimCluster.create({ seed: 25, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    await a.query("SET master_nodes = 'node2:5432,node3:5432'")
    await a.query('SET node_id = 1')
    expect(await show(a.session(), 'master_nodes')).toBe('node2:5432,node3:5432')
    await cluster.settle()
    expect(await show(cluster.node('b'), 'master_nodes')).toBe('')
    expect(await show(cluster.node('b'), 'node_id')).toBe('b')
    cluster.crash('a')
    const again = await cluster.restart('a')
    expect(await show(again, 'master_nodes')).toBe('node2:5432,node3:5432')
    expect(await show(again, 'node_id')).toBe('1')
    expect((await again.query("SELECT name, scope, source FROM pg_settings WHERE name IN ('master_nodes', 'node_id') ORDER BY name")).rows).toEqual([
      { name: 'master_nodes', scope: 'node', source: 'node' },
      { name: 'node_id', scope: 'node', source: 'node' },
    ])
    await cluster.close()
  })

  it('a node setting SET in a rolled-back block is not persisted', async () => {
    const cluster = await SimCluster.create({ seed: 26, nodes: [{ id: 'a' }] })
    const a = cluster.node('a')
    await a.query("BEGIN; SET master_nodes = 'h:1'")
    expect(await show(a, 'master_nodes')).toBe('h:1')
    expect(await show(a.session(), 'master_nodes')).toBe('')
    await a.query('ROLLBACK')
    expect(await show(a, 'master_nodes')).toBe('')
    cluster.crash('a')
    expect(await show(await cluster.restart('a'), 'master_nodes')).toBe('')
    await cluster.close()
  })
})

describe('session settings follow PostgreSQL', () => {
  let db: Database
  beforeEach(async () => {
    db = await openDatabase({ nodeId: 'n1' })
  })
  afterEach(async () => {
    await db.close()
  })

  it('ROLLBACK undoes SET, ROLLBACK TO SAVEPOINT undoes what followed it, SET LOCAL ends with the block', async () => {
    await db.query("SET work_mem = '2MB'")
    await db.query("BEGIN; SET work_mem = '8MB'; SAVEPOINT s; SET work_mem = '16MB'")
    expect(await show(db, 'work_mem')).toBe('16MB')
    await db.query('ROLLBACK TO SAVEPOINT s')
    expect(await show(db, 'work_mem')).toBe('8MB')
    await db.query("SET LOCAL work_mem = '32MB'")
    expect(await show(db, 'work_mem')).toBe('32MB')
    await db.query("SET work_mem = '9MB'; SET LOCAL work_mem = '33MB'")
    expect(await show(db, 'work_mem')).toBe('33MB')
    await db.query('COMMIT')
    expect(await show(db, 'work_mem')).toBe('9MB')
    await db.query("BEGIN; SET work_mem = '5MB'; SAVEPOINT a; SET work_mem = '6MB'; RELEASE a; ROLLBACK")
    expect(await show(db, 'work_mem')).toBe('9MB')
    await db.query("BEGIN; SET work_mem = '5MB'; SAVEPOINT a; SET work_mem = '6MB'; RELEASE a; COMMIT")
    expect(await show(db, 'work_mem')).toBe('6MB')
    await db.query('BEGIN; RESET work_mem; ROLLBACK')
    expect(await show(db, 'work_mem')).toBe('6MB')
    await db.query('RESET work_mem')
    expect(await show(db, 'work_mem')).toBe('4MB')
  })

  it('a failed block rolls back its SETs; SET LOCAL outside a block only warns', async () => {
    await db.query("BEGIN; SET search_path = 'x'")
    expect(await sqlState(db, 'SELECT * FROM missing')).toBe('42P01')
    await db.query('COMMIT')
    expect(await show(db, 'search_path')).toBe('"$user", public')
    const r = await db.query("SET LOCAL work_mem = '1MB'")
    expect(r.notices).toEqual(['SET LOCAL can only be used in transaction blocks'])
    expect(await show(db, 'work_mem')).toBe('4MB')
  })

  it('sessions do not see each other\'s SET; ALTER SYSTEM sets this node\'s default for new sessions', async () => {
    const other = db.session()
    await db.query("SET work_mem = '8MB'")
    expect(await show(other, 'work_mem')).toBe('4MB')
    await db.query("ALTER SYSTEM SET work_mem = '12MB'")
    expect(await show(other, 'work_mem')).toBe('12MB')
    expect(await show(db, 'work_mem')).toBe('8MB')
    await db.query('ALTER SYSTEM RESET work_mem')
    expect(await show(other, 'work_mem')).toBe('4MB')
  })

  it('set_config in a block is undone by ROLLBACK and does not override a later SET', async () => {
    await db.query("BEGIN; SELECT set_config('work_mem', '7MB', false); SET work_mem = '8MB'; SELECT 1; COMMIT")
    expect(await show(db, 'work_mem')).toBe('8MB')
    await db.query("BEGIN; SELECT set_config('work_mem', '3MB', false); ROLLBACK")
    expect(await show(db, 'work_mem')).toBe('8MB')
    await db.query("SELECT set_config('wal_keep_size', '2MB', false)")
    expect(await show(db.session(), 'wal_keep_size')).toBe('2MB')
  })

  it('refuses what PostgreSQL refuses', async () => {
    expect(await sqlState(db, "SET server_version = '1'")).toBe('55P02')
    expect(await sqlState(db, 'SET no_such_setting = 1')).toBe('42704')
    expect(await sqlState(db, 'SHOW no_such_setting')).toBe('42704')
    await db.query('BEGIN')
    expect(await sqlState(db, "ALTER SYSTEM SET work_mem = '1MB'")).toBe('25001')
    await db.query('ROLLBACK; BEGIN')
    expect(await sqlState(db, 'DISCARD ALL')).toBe('25001')
    await db.query('ROLLBACK')
  })

  it('SET default_transaction_read_only / transaction_read_only make transactions read-only (they were refused)', async () => {
    const s = db.session()
    await s.query('CREATE TABLE ro_t (a int)')
    await s.query('SET default_transaction_read_only = on')
    expect((await s.query('SHOW default_transaction_read_only')).rowArrays).toEqual([['on']])
    expect(await sqlState(s, 'INSERT INTO ro_t VALUES (1)')).toBe('25006')
    await s.query('BEGIN')
    expect((await s.query('SHOW transaction_read_only')).rowArrays).toEqual([['on']])
    await s.query('SET transaction_read_only = off')
    await s.query('INSERT INTO ro_t VALUES (1)')
    await s.query('COMMIT')
    expect(await sqlState(s, 'BEGIN; SET default_transaction_read_only = off')).toBe('0A000')
    await s.query('ROLLBACK')
    await s.query('RESET ALL')
    await s.query('INSERT INTO ro_t VALUES (2)')
    await s.query('BEGIN')
    await s.query('SET transaction_read_only = on')
    expect(await sqlState(s, 'INSERT INTO ro_t VALUES (3)')).toBe('25006')
    await s.query('ROLLBACK')
    expect(await sqlState(s, "SET default_transaction_read_only = 'maybe'")).toBe('22023')
    expect((await s.query('SELECT count(*)::int FROM ro_t')).rowArrays).toEqual([[2]])
  })

  it('a read-only block turns read-write only before its first query and outside savepoints (25001, as PostgreSQL)', async () => {
    const s = db.session()
    await s.query('BEGIN')
    await s.query('SET TRANSACTION READ ONLY')
    await s.query('SET TRANSACTION READ WRITE')
    await s.query('SET TRANSACTION READ ONLY')
    await s.query('SELECT 1')
    expect(await sqlState(s, 'SET TRANSACTION READ WRITE')).toBe('25001')
    await s.query('ROLLBACK')
    await s.query('BEGIN READ ONLY')
    await s.query('SAVEPOINT sp')
    expect(await sqlState(s, 'SET transaction_read_only = off')).toBe('25001')
    await s.query('ROLLBACK')
    await s.query('BEGIN READ ONLY')
    await s.query('SHOW transaction_read_only')
    await s.query('SET transaction_read_only = off')
    await s.query('ROLLBACK')
  })

  it('DISCARD PLANS and DISCARD SEQUENCES keep the session\'s settings (they reset them all before)', async () => {
    const s = db.session()
    await s.query("SET work_mem = '7MB'")
    await s.query('PREPARE keep AS SELECT 1')
    await s.query('CREATE TEMP TABLE kept (a int)')
    for (const sql of ['DISCARD PLANS', 'DISCARD SEQUENCES']) {
      expect((await s.query(sql)).command).toBe(sql)
      expect((await s.query('SHOW work_mem')).rowArrays).toEqual([['7MB']])
      expect((await s.query('EXECUTE keep')).rowArrays).toEqual([[1]])
    }
    // In a block DISCARD ALL fails before it drops anything.
    await s.query('BEGIN')
    expect(await sqlState(s, 'DISCARD ALL')).toBe('25001')
    await s.query('ROLLBACK')
    expect((await s.query('SELECT count(*)::int FROM kept')).rowArrays).toEqual([[0]])
    await s.query('DISCARD ALL')
    expect((await s.query('SHOW work_mem')).rowArrays).toEqual([['4MB']])
    expect(await sqlState(s, 'SELECT * FROM kept')).toBe('42P01')
  })

  it('pg_settings and SHOW ALL tell each parameter\'s scope', async () => {
    const r = await db.query("SELECT name, scope, context FROM pg_settings WHERE name IN ('work_mem', 'master_nodes', 'conflict_resolution_policy', 'server_version') ORDER BY name")
    expect(r.rows).toEqual([
      { name: 'conflict_resolution_policy', scope: 'cluster', context: 'superuser' },
      { name: 'master_nodes', scope: 'node', context: 'sighup' },
      { name: 'server_version', scope: 'node', context: 'internal' },
      { name: 'work_mem', scope: 'session', context: 'user' },
    ])
    const all = (await db.query('SHOW ALL')).rows.find((x) => x.name === 'multi_master_enabled')
    expect(all).toMatchObject({ setting: 'off' })
    expect(String(all!.description)).toContain('scope: cluster')
  })
})

describe('settings Concord does not implement are refused, not ignored', () => {
  it('the connection timeouts other than 0 raise 0A000 in a session without a connection; 0 is accepted', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    for (const name of ['idle_in_transaction_session_timeout', 'idle_session_timeout']) {
      await db.query(`SET ${name} = 0`)
      await db.query(`SET ${name} = '0ms'`)
      await expect(db.query(`SET ${name} = '100ms'`)).rejects.toMatchObject({ code: '0A000' })
      await expect(db.query(`SET ${name} = 5000`)).rejects.toMatchObject({ code: '0A000' })
      expect((await db.query(`SHOW ${name}`)).rows[0]).toEqual({ [name]: '0ms' })
    }
    // A client's connection (the node's PostgreSQL server) takes them (node-server session-idle-timeouts.test.ts).
    await db.session({ connection: true }).query(`SET idle_session_timeout = '100ms'`)
    await db.close()
  })

  it('max_connections answers what the embedding server set, and is read-only', async () => {
    const db = await openDatabase({ nodeId: 'n1' })
    expect((await db.query('SHOW max_connections')).rows).toEqual([{ max_connections: '100' }])
    db.setServerParameter('max_connections', '7')
    expect((await db.query('SHOW max_connections')).rows).toEqual([{ max_connections: '7' }])
    expect((await db.query("SELECT setting, source FROM pg_settings WHERE name = 'max_connections'")).rows).toEqual([{ setting: '7', source: 'command line' }])
    await expect(db.query('SET max_connections = 3')).rejects.toMatchObject({ code: '55P02' })
    await db.close()
  })

  it('TimeZone other than UTC raises 0A000; UTC spellings are accepted; DateStyle takes any style and order', async () => {
    const db = await openDatabase({ nodeId: 'tz' })
    for (const z of ['UTC', 'utc', 'GMT', 'Etc/UTC', 'Z', '+00:00', '0']) await db.query(`SET TimeZone = '${z}'`)
    await db.query('SET TIME ZONE UTC')
    await expect(db.query("SET TimeZone = 'Europe/Berlin'")).rejects.toMatchObject({ code: '0A000' })
    await expect(db.query("SET TIME ZONE 'America/New_York'")).rejects.toMatchObject({ code: '0A000' })
    await expect(db.query("SET TimeZone = 'Mars/Olympus'")).rejects.toMatchObject({ code: '22023' })
    for (const s of ['ISO, MDY', 'ISO', 'iso,mdy', 'MDY']) await db.query(`SET DateStyle = '${s}'`)
    expect((await db.query('SHOW DateStyle')).rows).toEqual([{ DateStyle: 'ISO, MDY' }])
    // A part not named keeps its value; German alone also sets DMY (as in PostgreSQL).
    await db.query("SET DateStyle = 'Postgres, DMY'")
    await db.query('SET DateStyle = SQL')
    expect((await db.query('SHOW DateStyle')).rows).toEqual([{ DateStyle: 'SQL, DMY' }])
    await db.query("SET DateStyle = 'ISO, MDY'")
    await db.query("SET DateStyle = 'German'")
    expect((await db.query('SHOW DateStyle')).rows).toEqual([{ DateStyle: 'German, DMY' }])
    await expect(db.query("SET DateStyle = 'Klingon'")).rejects.toMatchObject({ code: '22023' })
    await expect(db.query("SET DateStyle = 'ISO, German'")).rejects.toMatchObject({ code: '22023' })
    await db.close()
  })
})

describe('a session reads each setting afresh once it may have changed', () => {
  it('after its own SET, a savepoint rollback, the block end, RESET ALL and a peer\'s cluster setting', async () => {
    const cluster = await SimCluster.create({ seed: 23, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    const dates = async () => (await a.query("SELECT DATE '2024-03-05' AS d")).rows[0]!['d']
    expect(await dates()).toBe('2024-03-05')
    await a.query("SET DateStyle = 'SQL, DMY'")
    expect(await dates()).toBe('05/03/2024')
    await a.query("BEGIN; SAVEPOINT s; SET LOCAL DateStyle = 'German'")
    expect(await dates()).toBe('05.03.2024')
    await a.query('ROLLBACK TO SAVEPOINT s')
    expect(await dates()).toBe('05/03/2024')
    await a.query("SET LOCAL DateStyle = 'Postgres, MDY'")
    expect(await dates()).toBe('03-05-2024')
    await a.query('COMMIT')
    expect(await dates()).toBe('05/03/2024')
    await a.query('RESET ALL')
    expect(await dates()).toBe('2024-03-05')
    expect(await show(a, 'conflict_resolution_policy')).toBe('last_write_wins')
    await b.query("SET conflict_resolution_policy = 'first_write_wins'")
    await cluster.settle()
    expect(await show(a, 'conflict_resolution_policy')).toBe('first_write_wins')
    await cluster.close()
  })

  it('after a block that set nothing, one whose SET it keeps at COMMIT, and one whose SET ROLLBACK undoes', async () => {
    const db = await openDatabase({ nodeId: 'memo' })
    const s = db.session()
    const dates = async () => (await s.query("SELECT DATE '2024-03-05' AS d")).rows[0]!['d']
    await s.query("SET DateStyle = 'SQL, DMY'")
    expect(await dates()).toBe('05/03/2024')
    await s.query('BEGIN')
    expect(await dates()).toBe('05/03/2024')
    await s.query('COMMIT')
    expect(await dates()).toBe('05/03/2024')
    await s.query("BEGIN; SET DateStyle = 'German'; COMMIT")
    expect(await dates()).toBe('05.03.2024')
    await s.query("BEGIN; SET DateStyle = 'ISO'")
    expect(await dates()).toBe('2024-03-05')
    await s.query('ROLLBACK')
    expect(await dates()).toBe('05.03.2024')
    await s.query("BEGIN; SET statement_timeout = '5s'; SET LOCAL statement_timeout = '7s'; COMMIT")
    expect(await show(s, 'statement_timeout')).toBe('5s')
    await db.close()
  })
})
