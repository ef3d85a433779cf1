import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../database.js'
import { SimCluster } from '../sim-cluster.js'

let db: Database
afterEach(async () => {
  await db?.close()
})

describe('CREATE SCHEMA / DROP SCHEMA', () => {
  it('creates a schema listed in pg_namespace and information_schema.schemata, and drops it', async () => {
    db = await openDatabase({ nodeId: 'sch1' })
    expect((await db.query('CREATE SCHEMA alter1')).commandTag).toBe('CREATE SCHEMA')
    expect((await db.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'alter1'")).rowArrays).toEqual([['1']])
    expect((await db.query("SELECT schema_name::text FROM information_schema.schemata WHERE schema_name = 'alter1'")).rowArrays).toEqual([['alter1']])
    expect((await db.query("SELECT 'alter1'::regnamespace::text")).rowArrays).toEqual([['alter1']])
    await expect(db.query('CREATE SCHEMA alter1')).rejects.toMatchObject({ code: '42P06', message: 'schema "alter1" already exists' })
    expect((await db.query('CREATE SCHEMA IF NOT EXISTS alter1')).notices).toEqual(['schema "alter1" already exists, skipping'])
    await db.query('REINDEX SCHEMA alter1')
    await db.query('DROP SCHEMA alter1 CASCADE')
    expect((await db.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'alter1'")).rowArrays).toEqual([['0']])
    await expect(db.query('DROP SCHEMA alter1')).rejects.toMatchObject({ code: '3F000', message: 'schema "alter1" does not exist' })
    expect((await db.query('DROP SCHEMA IF EXISTS alter1, alter2')).notices).toEqual(['schema "alter1" does not exist, skipping', 'schema "alter2" does not exist, skipping'])
  })

  it('refuses reserved names, and schema elements with 0A000 (nothing created)', async () => {
    db = await openDatabase({ nodeId: 'sch2' })
    await expect(db.query('CREATE SCHEMA pg_mine')).rejects.toMatchObject({ code: '42939' })
    await expect(db.query('CREATE SCHEMA public')).rejects.toMatchObject({ code: '42P06' })
    await expect(db.query('CREATE SCHEMA s CREATE TABLE t (a int)')).rejects.toMatchObject({ code: '0A000' })
    expect((await db.query("SELECT count(*) FROM pg_namespace WHERE nspname = 's'")).rowArrays).toEqual([['0']])
    await expect(db.query('DROP SCHEMA public')).rejects.toMatchObject({ code: '0A000' })
  })

  it('replicates a schema to the other masters', async () => {
    const cluster = await SimCluster.create({ seed: 3, nodes: [{ id: 'x', region: 'us-west' }, { id: 'y', region: 'eu-central' }] })
    try {
      await cluster.node('x').query('CREATE SCHEMA shared')
      await cluster.settle()
      expect((await cluster.node('y').query("SELECT count(*) FROM pg_namespace WHERE nspname = 'shared'")).rowArrays).toEqual([['1']])
    } finally {
      await cluster.close()
    }
  })
})
