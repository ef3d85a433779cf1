import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { encodeBrowserToken } from '@concord/p2p'
import { openReplica } from './open-replica.js'

/**
 * A page opening its replica with a scoped token refuses, itself, the writes its node
 * would drop (sql-facade auth/write-scope.ts). Before, they ran in the page, were
 * acknowledged and reached no node.
 */
describe('openReplica with a scoped token', () => {
  it('writes rows of its writable tables only, and no schema', async () => {
    const name = `scoped-${Math.random().toString(36).slice(2)}`
    // The schema as the node would have sent it: made here by an unscoped open of the same replica.
    const setup = await openReplica({ name, join: [], offline: true })
    await setup.query('CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    await setup.query('CREATE TABLE prices (id INT PRIMARY KEY, cents INT)')
    await setup.query('INSERT INTO prices VALUES (1, 100)')
    await setup.close()

    const token = encodeBrowserToken(await generateKeyPair('Ed25519'), ['notes'], Date.now() + 600_000, ['prices'])
    const db = await openReplica({ name, join: [], offline: true, token })
    try {
      await db.query(`INSERT INTO notes VALUES (1, 'mine')`)
      expect((await db.query('SELECT body FROM notes')).rows).toEqual([{ body: 'mine' }])
      await expect(db.query('UPDATE prices SET cents = 1')).rejects.toMatchObject({ code: '42501', message: 'permission denied for table prices' })
      await expect(db.query('CREATE TABLE extra (id INT PRIMARY KEY)')).rejects.toMatchObject({ code: '42501' })
      expect((await db.query('SELECT cents FROM prices')).rows).toEqual([{ cents: 100 }])
    } finally {
      await db.close()
    }
  })

  it('serves the region a token names, and writes only rows placed in it', async () => {
    const name = `regional-${Math.random().toString(36).slice(2)}`
    const setup = await openReplica({ name, join: [], offline: true, region: 'eu' })
    await setup.query(`CREATE TABLE eu_notes (id INT PRIMARY KEY, body TEXT) WITH (replication_regions = 'eu')`)
    await setup.query('CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    await setup.close()

    const token = encodeBrowserToken(await generateKeyPair('Ed25519'), [], Date.now() + 600_000, [], ['eu'])
    const db = await openReplica({ name, join: [], offline: true, token })
    try {
      expect(db.replica.region).toBe('eu')
      await db.query(`INSERT INTO eu_notes VALUES (1, 'mine')`)
      await expect(db.query(`INSERT INTO notes VALUES (1, 'not placed in eu')`)).rejects.toMatchObject({ code: '42501' })
    } finally {
      await db.close()
    }
  })

  it('serves a read-only region a token names, reads its rows and refuses every write of them', async () => {
    const name = `read-only-region-${Math.random().toString(36).slice(2)}`
    const setup = await openReplica({ name, join: [], offline: true, region: 'eu' })
    await setup.query(`CREATE TABLE eu_notes (id INT PRIMARY KEY, body TEXT) WITH (replication_regions = 'eu')`)
    await setup.query(`CREATE TABLE posts (id INT PRIMARY KEY, region TEXT, body TEXT) WITH (home_region_column = 'region')`)
    await setup.query('CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)')
    await setup.query(`INSERT INTO eu_notes VALUES (1, 'from the node')`)
    await setup.query(`INSERT INTO posts VALUES (1, 'eu', 'from the node')`)
    await setup.close()

    const token = encodeBrowserToken(await generateKeyPair('Ed25519'), ['notes'], Date.now() + 600_000, [], [], ['eu'])
    const db = await openReplica({ name, join: [], offline: true, token })
    try {
      expect(db.replica.region).toBe('eu')
      expect((await db.query('SELECT body FROM eu_notes')).rows).toEqual([{ body: 'from the node' }])
      await expect(db.query(`UPDATE eu_notes SET body = 'mine'`)).rejects.toMatchObject({ code: '42501', message: 'permission denied for table eu_notes' })
      await expect(db.query(`INSERT INTO posts VALUES (2, 'eu', 'mine')`)).rejects.toMatchObject({ code: '42501' })
      await db.query(`INSERT INTO notes VALUES (1, 'mine')`)
      expect((await db.query('SELECT body FROM eu_notes')).rows).toEqual([{ body: 'from the node' }])
      expect((await db.query('SELECT id FROM posts')).rows).toEqual([{ id: 1 }])
    } finally {
      await db.close()
    }
  })

  it('refuses a damaged token before opening anything', async () => {
    await expect(openReplica({ name: 'damaged', join: [], offline: true, token: 'concord-browser-1.!!' })).rejects.toThrow(/not base64url|damaged|browser token/)
  })
})
