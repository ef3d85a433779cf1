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

  it('refuses a damaged token before opening anything', async () => {
    await expect(openReplica({ name: 'damaged', join: [], offline: true, token: 'concord-browser-1.!!' })).rejects.toThrow(/not base64url|damaged|browser token/)
  })
})
