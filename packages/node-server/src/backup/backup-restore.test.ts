/**
 * BACKUP DATABASE / RESTORE DATABASE to and from file:// URLs through SQL: an online backup
 * holds every write acknowledged before it began, an incremental backup stores less and
 * restores as a chain (or to a named backup), a corrupted object is named and nothing is
 * applied, and a node holding data refuses a restore.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from '@concord/sql-facade'
import { openBackupStore } from './backup-store-url.js'
import { FileBackupStore } from './file-backup-store.js'

/** Rows acknowledged before the backup starts, and in all once the writes during it end. */
const ACKED = 45_000
const TOTAL = 50_000
const dirs: string[] = []
const dbs: Database[] = []

afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function node(name: string): Promise<Database> {
  const db = await Database.open({ nodeId: name })
  db.backups.openStore = openBackupStore
  dbs.push(db)
  return db
}

function backupDir(): { dir: string; url: string } {
  const dir = mkdtempSync(join(tmpdir(), 'concord-backup-'))
  dirs.push(dir)
  return { dir, url: pathToFileURL(dir).href }
}

function dirBytes(dir: string): number {
  let n = 0
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(join(dir, f))
    if (s.isFile()) n += s.size
  }
  return n
}

async function insertRange(db: Database, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 500) {
    const values: string[] = []
    for (let k = i; k < Math.min(to, i + 500); k++) values.push(`(${k}, 'row ${k}', ${k * 3})`)
    await db.query(`INSERT INTO items VALUES ${values.join(', ')}`)
  }
}

async function rowsOf(db: Database): Promise<Map<number, [string, number]>> {
  const r = await db.query('SELECT id, name, qty FROM items')
  return new Map(r.rowArrays.map((row) => [Number(row[0]), [String(row[1]), Number(row[2])]]))
}

function expectRows(rows: Map<number, [string, number]>, from: number, to: number): void {
  for (let k = from; k < to; k++) expect(rows.get(k), `row ${k}`).toEqual([`row ${k}`, k * 3])
}

describe('BACKUP DATABASE and RESTORE DATABASE (file://)', () => {
  it('restores every write acknowledged before the backup began, with writes running during it', async () => {
    const src = await node('src')
    await src.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT, qty INT)')
    await src.query(`INSERT INTO items SELECT g, 'row ' || g, g * 3 FROM generate_series(0, ${ACKED - 1}) g`)
    const { url } = backupDir()
    const backup = src.query(`BACKUP DATABASE TO '${url}'`)
    // Writes while the backup runs: in the backup wholly or not at all.
    const during = insertRange(src, ACKED, TOTAL)
    await Promise.all([backup, during])
    await src.close()
    dbs.splice(dbs.indexOf(src), 1)

    const dst = await node('dst')
    await dst.query(`RESTORE DATABASE FROM '${url}'`)
    const rows = await rowsOf(dst)
    expectRows(rows, 0, ACKED)
    for (const [k, v] of rows) expect(v, `row ${k}`).toEqual([`row ${k}`, k * 3])
    expect(rows.size).toBeLessThanOrEqual(TOTAL)
  }, 180_000)

  it('stores only the changes in an incremental backup and restores the chain, or a named backup of it', async () => {
    const src = await node('src')
    await src.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT, qty INT)')
    await insertRange(src, 0, 4000)
    const { dir, url } = backupDir()
    await src.query(`BACKUP DATABASE TO '${url}'`)
    const fullBytes = dirBytes(dir)
    await insertRange(src, 4000, 4200)
    await src.query(`BACKUP DATABASE TO '${url}'`)
    const incrementalBytes = dirBytes(dir) - fullBytes
    expect(incrementalBytes).toBeLessThan(fullBytes / 4)

    const history = await src.query('SELECT id, kind, status, bytes, url FROM concord_backups ORDER BY started, id')
    expect(history.rowArrays.map((r) => [r[1], r[2], r[4]])).toEqual([['full', 'succeeded', url], ['incremental', 'succeeded', url]])
    const [firstId, secondId] = history.rowArrays.map((r) => String(r[0]))
    const manifest = JSON.parse(readFileSync(join(dir, 'backups', secondId!, 'manifest.json'), 'utf8')) as { kind: string; parent: string }
    expect(manifest).toMatchObject({ kind: 'incremental', parent: firstId })

    const chain = await node('chain')
    await chain.query(`RESTORE DATABASE FROM '${url}'`)
    const all = await rowsOf(chain)
    expect(all.size).toBe(4200)
    expectRows(all, 0, 4200)

    const first = await node('first')
    await first.query(`RESTORE DATABASE FROM '${url}' AS OF BACKUP '${firstId}'`)
    const older = await rowsOf(first)
    expect(older.size).toBe(4000)
    expectRows(older, 0, 4000)
  })

  it('detects a corrupted object before applying anything, naming it (XX001)', async () => {
    const src = await node('src')
    await src.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT, qty INT)')
    await insertRange(src, 0, 1000)
    const { dir, url } = backupDir()
    await src.query(`BACKUP DATABASE TO '${url}'`)
    const [id] = readdirSync(join(dir, 'backups'))
    const objects = readdirSync(join(dir, 'backups', id!)).filter((f) => f.endsWith('.ydoc'))
    const biggest = objects.map((f) => join(dir, 'backups', id!, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!
    const data = readFileSync(biggest)
    data[Math.floor(data.length / 2)] ^= 0xff
    writeFileSync(biggest, data)

    const dst = await node('dst')
    const name = biggest.slice(dir.length + 1)
    await expect(dst.query(`RESTORE DATABASE FROM '${url}'`)).rejects.toMatchObject({ code: 'XX001', message: expect.stringContaining(name) })
    await expect(dst.query('SELECT count(*) FROM items')).rejects.toMatchObject({ code: '42P01' })

    writeFileSync(biggest, data.subarray(0, 10))
    await expect(dst.query(`RESTORE DATABASE FROM '${url}'`)).rejects.toMatchObject({ code: 'XX001', message: expect.stringMatching(/truncated/) })
  })

  it('refuses to restore into a node holding user data (55000) and an unknown backup id (42704)', async () => {
    const src = await node('src')
    await src.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT, qty INT)')
    const { url } = backupDir()
    await src.query(`BACKUP DATABASE TO '${url}'`)
    await expect(src.query(`RESTORE DATABASE FROM '${url}'`)).rejects.toMatchObject({ code: '55000' })
    const dst = await node('dst')
    await expect(dst.query(`RESTORE DATABASE FROM '${url}' AS OF BACKUP 'nope'`)).rejects.toMatchObject({ code: '42704' })
  })

  it('shows a running backup in pg_stat_progress_backup, and its row in concord_backups when done', async () => {
    const src = await node('src')
    await src.query('CREATE TABLE items (id INT PRIMARY KEY, name TEXT, qty INT)')
    await insertRange(src, 0, 500)
    // A store whose writes wait until the test lets them through.
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => (release = r))
    src.backups.openStore = (url) => {
      const files = new FileBackupStore(url)
      return { url: files.url, get: (n) => files.get(n), list: (p) => files.list(p), delete: (n) => files.delete(n), put: async (n, d) => { await gate; await files.put(n, d) } }
    }
    const { url } = backupDir()
    const backup = src.query(`BACKUP DATABASE TO '${url}'`)
    let progress: unknown[][] = []
    // Bounded wait for the cut (the phase before it lists the prefix).
    for (let i = 0; i < 500 && progress[0]?.[1] !== 'writing'; i++) {
      progress = (await src.query('SELECT url, phase, shards_total, shards_done FROM pg_stat_progress_backup')).rowArrays
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(progress).toHaveLength(1)
    expect(progress[0]!.slice(0, 2)).toEqual([url, 'writing'])
    expect(Number(progress[0]![2])).toBeGreaterThanOrEqual(2)
    expect(Number(progress[0]![3])).toBe(0)
    expect(await src.query("SELECT status FROM concord_backups")).toMatchObject({ rowArrays: [['running']] })
    release()
    await backup
    expect((await src.query('SELECT * FROM pg_stat_progress_backup')).rowArrays).toEqual([])
    expect(await src.query("SELECT status FROM concord_backups")).toMatchObject({ rowArrays: [['succeeded']] })
  })

  it('lets only superusers run BACKUP and RESTORE (42501)', async () => {
    const db = await node('n')
    await db.query("CREATE ROLE alice WITH LOGIN PASSWORD 's3cret'")
    const alice = db.session({ user: 'alice' })
    const { url } = backupDir()
    await expect(alice.query(`BACKUP DATABASE TO '${url}'`)).rejects.toMatchObject({ code: '42501' })
    await expect(alice.query(`RESTORE DATABASE FROM '${url}'`)).rejects.toMatchObject({ code: '42501' })
    await db.query(`BACKUP DATABASE TO '${url}'`)
  })

  it('fails with 0A000 for a URL scheme it does not know and without backup storage', async () => {
    const db = await node('n')
    await expect(db.query("BACKUP DATABASE TO 'ftp://backups/prod'")).rejects.toMatchObject({ code: '0A000' })
    const bare = await Database.open({ nodeId: 'bare' })
    dbs.push(bare)
    await expect(bare.query("BACKUP DATABASE TO 'file:///tmp/x'")).rejects.toMatchObject({ code: '0A000' })
  })
})
