import { describe, expect, it } from 'vitest'
import { SimCluster } from '../sim-cluster.js'
import type { Database } from '../database.js'
import { scramVerifier } from '../auth/scram-verifier.js'
import { decodeRole, newRoleOid, ROLE_KIND, roleJson } from './role-record.js'
import { moveRoleVerifiers, ROLE_SECRET_KIND, roleVerifier, VERIFIER_ELSEWHERE } from './role-secret.js'

/** The base64 parts of a verifier a party holding it could attack with: salt, StoredKey, ServerKey. */
function verifierParts(v: string): string[] {
  const m = /^SCRAM-SHA-256\$\d+:([^$]+)\$([^:]+):(.+)$/.exec(v)
  if (m === null) throw new Error(`not a verifier: ${v}`)
  return [m[1]!, m[2]!, m[3]!]
}

/** Whether the catalog shard's whole state (what a peer reading the catalog is sent) holds any part of `verifier`. */
function catalogHolds(db: Database, verifier: string): boolean {
  const state = Buffer.from(db.replica.catalogShard.encodeState()).toString('latin1')
  return verifierParts(verifier).some((p) => state.includes(p))
}

async function authid(db: Database, name: string): Promise<unknown> {
  return (await db.query(`SELECT rolpassword FROM pg_authid WHERE rolname = '${name}'`)).rows[0]?.rolpassword
}

describe('role verifiers live in the secrets shard', () => {
  it('CREATE ROLE .. PASSWORD keeps the verifier out of the catalog; it replicates to the other node and survives a crash', async () => {
    const cluster = await SimCluster.create({ seed: 341, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query("CREATE ROLE alice LOGIN PASSWORD 'correct horse'")
    const stored = decodeRole('alice', a.replica.getCatalog(ROLE_KIND, 'alice')!)!
    expect(stored.password).toBe(VERIFIER_ELSEWHERE)
    const verifier = a.replica.getSecret(ROLE_SECRET_KIND, String(stored.oid))!
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:/)
    expect(verifier).not.toBe(VERIFIER_ELSEWHERE)
    expect(await authid(a, 'alice')).toBe(verifier)
    expect(catalogHolds(a, verifier)).toBe(false)
    await cluster.settle()
    expect(await authid(b, 'alice')).toBe(verifier)
    expect(roleVerifier(b.replica, b.roles().role('alice')!)).toBe(verifier)
    // Kept in b's storage: after a crash it is there before any peer sends it again.
    cluster.crash('b')
    const b2 = await cluster.restart('b')
    expect(b2.replica.getSecret(ROLE_SECRET_KIND, String(stored.oid))).toBe(verifier)
    cluster.crash('a')
    const a2 = await cluster.restart('a')
    expect(await authid(a2, 'alice')).toBe(verifier)
    await cluster.close()
  })

  it('ALTER ROLE .. PASSWORD and RENAME on another node replace the verifier everywhere', async () => {
    const cluster = await SimCluster.create({ seed: 345, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    await a.query("CREATE ROLE alice LOGIN PASSWORD 'correct horse'")
    const stored = decodeRole('alice', a.replica.getCatalog(ROLE_KIND, 'alice')!)!
    const verifier = (await authid(a, 'alice')) as string
    await cluster.settle()

    await b.query("ALTER ROLE alice PASSWORD 'battery staple'")
    await b.query('ALTER ROLE alice RENAME TO alicia')
    await cluster.settle()
    const changed = (await authid(a, 'alicia')) as string
    expect(changed).not.toBe(verifier)
    expect(changed).toBe(await authid(b, 'alicia'))
    for (const db of [a, b]) expect(catalogHolds(db, verifier) || catalogHolds(db, changed)).toBe(false)

    await a.query('ALTER ROLE alicia PASSWORD NULL')
    expect(a.replica.getSecret(ROLE_SECRET_KIND, String(stored.oid))).toBeUndefined()
    expect(await authid(a, 'alicia')).toBeNull()
    await a.query("ALTER ROLE alicia PASSWORD 'again'")
    await a.query('DROP ROLE alicia')
    await cluster.settle()
    for (const db of [a, b]) expect(db.replica.getSecret(ROLE_SECRET_KIND, String(stored.oid))).toBeUndefined()
    await cluster.close()
  })

  it('a verifier an earlier version kept in the catalog is used, then moved out of every copy of the catalog', async () => {
    const cluster = await SimCluster.create({ seed: 342, nodes: [{ id: 'a' }, { id: 'b' }] })
    const a = cluster.node('a')
    const b = cluster.node('b')
    // As an earlier version wrote it, on b: the verifier in the role record.
    const legacy = scramVerifier('old secret')
    const role = { oid: newRoleOid('bob'), name: 'bob', superuser: false, inherit: true, createrole: false, createdb: false, login: true, connlimit: -1, password: legacy, validUntil: null }
    b.replica.transact((tx) => tx.setCatalog(ROLE_KIND, 'bob', roleJson(role)))
    await cluster.settle()
    expect(roleVerifier(a.replica, a.roles().role('bob')!)).toBe(legacy)
    expect(catalogHolds(a, legacy)).toBe(true)

    // Moved by another writer than the one that wrote it: b's entry must not keep it.
    expect(a.replica.transact((tx) => moveRoleVerifiers(tx))).toEqual(['bob'])
    expect(a.replica.transact((tx) => moveRoleVerifiers(tx))).toEqual([])
    await cluster.settle()
    for (const db of [a, b]) {
      expect(decodeRole('bob', db.replica.getCatalog(ROLE_KIND, 'bob')!)!.password).toBe(VERIFIER_ELSEWHERE)
      expect(roleVerifier(db.replica, db.roles().role('bob')!)).toBe(legacy)
      expect(await authid(db, 'bob')).toBe(legacy)
      expect(catalogHolds(db, legacy)).toBe(false)
    }
    await cluster.close()
  })

  it('older entries of a record that hold a verifier, of live and of dropped roles, leave the catalog with the move', async () => {
    const cluster = await SimCluster.create({ seed: 344, nodes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] })
    const [a, b, c] = [cluster.node('a'), cluster.node('b'), cluster.node('c')]
    const legacy = (name: string, password: string | null) => ({
      oid: newRoleOid(name), name, superuser: false, inherit: true, createrole: false, createdb: false, login: true, connlimit: -1, password, validUntil: null,
    })
    // As earlier versions wrote them: dave's password set on a, then removed on b (his record
    // resolves to no password, a's entry still holds the verifier); erin's set on a, then
    // the role dropped on b (b's entry deletes it, a's still holds the verifier).
    const dave = scramVerifier('dave secret')
    const erin = scramVerifier('erin secret')
    a.replica.transact((tx) => {
      tx.setCatalog(ROLE_KIND, 'dave', roleJson(legacy('dave', dave)))
      tx.setCatalog(ROLE_KIND, 'erin', roleJson(legacy('erin', erin)))
    })
    await cluster.settle()
    b.replica.transact((tx) => {
      tx.setCatalog(ROLE_KIND, 'dave', roleJson(legacy('dave', null)))
      tx.setCatalog(ROLE_KIND, 'erin', null)
    })
    await cluster.settle()
    expect(catalogHolds(c, dave) && catalogHolds(c, erin)).toBe(true)
    // What a record resolves to says nothing of them; every node's entries do.
    expect(c.replica.transact((tx) => moveRoleVerifiers(tx))).toEqual([])
    expect(c.replica.transact((tx) => moveRoleVerifiers(tx, c.replica.catalogEntryValues(ROLE_KIND)))).toEqual(['dave', 'erin'])
    await cluster.settle()
    for (const db of [a, b, c]) {
      expect(catalogHolds(db, dave) || catalogHolds(db, erin)).toBe(false)
      expect(db.roles().role('dave')?.password).toBeNull()
      expect(db.roles().role('erin')).toBeUndefined()
    }
    expect(c.replica.transact((tx) => moveRoleVerifiers(tx, c.replica.catalogEntryValues(ROLE_KIND)))).toEqual([])
    await cluster.close()
  })

  it('a role whose secret has not arrived matches no password', async () => {
    const cluster = await SimCluster.create({ seed: 343, nodes: [{ id: 'a' }] })
    const a = cluster.node('a')
    const role = { oid: newRoleOid('carol'), name: 'carol', superuser: false, inherit: true, createrole: false, createdb: false, login: true, connlimit: -1, password: VERIFIER_ELSEWHERE, validUntil: null }
    a.replica.transact((tx) => tx.setCatalog(ROLE_KIND, 'carol', roleJson(role)))
    expect(roleVerifier(a.replica, a.roles().role('carol')!)).toBe(VERIFIER_ELSEWHERE)
    // The placeholder is a well-formed verifier (an earlier version refuses every password with it, rather than none).
    expect(verifierParts(VERIFIER_ELSEWHERE)).toHaveLength(3)
    await cluster.close()
  })
})
