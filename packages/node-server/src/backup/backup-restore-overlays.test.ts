/**
 * A backup taken on a node that holds an older generation as an overlay (it adopted a
 * generation another node built while a third node's row, not yet re-applied, lives only
 * in the old one) restores into a running node through RESTORE DATABASE, to the latest
 * backup or to a named older one: the restored node shows the same rows as the node
 * backed up, the overlay's row included. The cluster runs in the simulator (SimCluster),
 * the store is a real directory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Database, SimCluster } from '@concord/sql-facade'
import { openBackupStore } from './backup-store-url.js'

const dirs: string[] = []
const closers: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const c of closers.splice(0)) await c()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function freshNode(name: string): Promise<Database> {
  const db = await Database.open({ nodeId: name })
  db.backups.openStore = openBackupStore
  closers.push(() => db.close())
  return db
}

async function rows(db: Database): Promise<unknown[][]> {
  return (await db.query('SELECT id, v FROM t ORDER BY id')).rowArrays
}

describe('RESTORE DATABASE of a backup holding older generations', () => {
  it('restores the overlays too, into a running node, to the latest backup and to a named one', async () => {
    const compaction = { minGarbage: 4, ratio: 0.1, departAfterMs: 3_600_000 }
    const cluster = await SimCluster.create({
      seed: 21,
      nodes: ['a', 'b', 'c'].map((id) => ({ id, options: { compaction } })),
    })
    closers.push(() => cluster.close())
    const [a, b, c] = ['a', 'b', 'c'].map((id) => cluster.node(id))
    await a!.query('CREATE TABLE t (id INT PRIMARY KEY, v TEXT)')
    await a!.query("INSERT INTO t VALUES (1, 'first')")
    await cluster.settle()
    // c's row reaches b but not a; a rewrites row 1 until it builds a new generation.
    cluster.partition(['a'], ['b', 'c'])
    await c!.query("INSERT INTO t VALUES (99, 'from c')")
    for (let u = 0; u < 10; u++) await a!.query(`UPDATE t SET v = 'a${u}' WHERE id = 1`)
    await cluster.advance(3_000)
    // b adopts a's generation away from c: c's row stays in b's old generation, an overlay.
    cluster.partition(['a', 'b'], ['c'])
    await cluster.advance(3_000)
    const dataShard = [...b!.replica.shards.values()].find((s) => s.id.endsWith(':t'))!
    expect(dataShard.prevs.length).toBeGreaterThan(0)
    const expected = await rows(b!)
    expect(expected).toEqual([[1, 'a9'], [99, 'from c']])

    const dir = mkdtempSync(join(tmpdir(), 'concord-backup-overlays-'))
    dirs.push(dir)
    const url = pathToFileURL(dir).href
    b!.backups.openStore = openBackupStore
    await b!.query(`BACKUP DATABASE TO '${url}'`)
    const firstId = String((await b!.query('SELECT id FROM concord_backups')).rowArrays[0]![0])
    await b!.query("INSERT INTO t VALUES (2, 'after the first backup')")
    await b!.query(`BACKUP DATABASE TO '${url}'`)

    const latest = await freshNode('restored-latest')
    await latest.query(`RESTORE DATABASE FROM '${url}'`)
    expect(await rows(latest)).toEqual([[1, 'a9'], [2, 'after the first backup'], [99, 'from c']])
    // It takes writes after the restore.
    await latest.query("INSERT INTO t VALUES (3, 'new')")
    expect((await latest.query('SELECT count(*) FROM t')).rowArrays).toEqual([['4']])

    const named = await freshNode('restored-named')
    await named.query(`RESTORE DATABASE FROM '${url}' AS OF BACKUP '${firstId}'`)
    expect(await rows(named)).toEqual(expected)
  })
})
