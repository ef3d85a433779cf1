/**
 * Scheduled backups in virtual time: `ALTER SYSTEM SET backup_schedule` plus
 * `backup_target` make the node back up on its own, incrementally, into a real file://
 * store; the seed's disaster_recovery_config table drives the interval (rpo_minutes) and
 * which region's nodes run it (backup_region); scheduled runs appear in concord_backups
 * and restore like any backup; retention deletes whole old chains (by count or age). Time moves only when the test advances it; the file
 * writes themselves are real and awaited with a bounded wait.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from '@concord/sql-facade'
import { VirtualTime } from '../../../core/src/sim/virtual-time.fixture.js'
import { openBackupStore } from './backup-store-url.js'

const dirs: string[] = []
const dbs: Database[] = []

afterEach(async () => {
  for (const db of dbs.splice(0)) await db.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function backupDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'concord-backup-schedule-'))
  dirs.push(dir)
  return pathToFileURL(dir).href
}

async function node(name: string, time: VirtualTime, region = 'default'): Promise<Database> {
  const db = await Database.open({ nodeId: name, clock: time.clock, scheduler: time.scheduler, region })
  db.backups.openStore = openBackupStore
  dbs.push(db)
  return db
}

type Run = { kind: string; status: string; trigger: string; started: string }

async function runs(db: Database): Promise<Run[]> {
  const r = await db.query("SELECT kind, status, trigger, started::text AS started FROM concord_backups ORDER BY started, id")
  return r.rows as Run[]
}

/** Waits (bounded, real time) until no backup or scheduled run is under way: their file reads and writes are real I/O. */
async function settled(db: Database): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (!db.backups.schedule.running && !db.backups.history.some((r) => r.status === 'running')) return
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error('a backup is still running after 10 s')
}

/**
 * Virtual time runs on while a run's real file I/O is under way, so a run's cut (its
 * `started`) may come up to one step after it was due: gaps are checked within a step.
 */
const STEP = 10_000

/** Advances virtual time in steps, letting each scheduled run finish before the next step. */
async function advance(time: VirtualTime, db: Database, ms: number, step = STEP): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await time.advance(Math.min(step, ms - done))
    await settled(db)
  }
}

describe('scheduled backups', () => {
  it('backs up every backup_schedule to backup_target, the first one full and then incrementals', async () => {
    const time = new VirtualTime()
    const db = await node('sched', time)
    await db.query('CREATE TABLE items (id INT PRIMARY KEY, v TEXT)')
    await db.query("INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 100) g")
    const url = backupDir()
    await advance(time, db, 120_000)
    expect(await runs(db)).toEqual([])
    await db.query(`ALTER SYSTEM SET backup_target = '${url}'`)
    await db.query("ALTER SYSTEM SET backup_schedule = '15 min'")
    // The first run comes within a poll of the settings (no backup yet: due at once).
    await advance(time, db, 60_000)
    expect((await runs(db)).map((r) => [r.kind, r.status, r.trigger])).toEqual([['full', 'succeeded', 'schedule']])
    await db.query("INSERT INTO items SELECT g, 'v' || g FROM generate_series(101, 150) g")
    await advance(time, db, 14 * 60_000)
    expect(await runs(db)).toHaveLength(1)
    await advance(time, db, 2 * 60_000)
    await advance(time, db, 15 * 60_000)
    const all = await runs(db)
    expect(all.map((r) => [r.kind, r.status, r.trigger])).toEqual([
      ['full', 'succeeded', 'schedule'],
      ['incremental', 'succeeded', 'schedule'],
      ['incremental', 'succeeded', 'schedule'],
    ])
    for (let i = 1; i < all.length; i++) {
      const gap = Date.parse(all[i]!.started) - Date.parse(all[i - 1]!.started)
      expect(gap).toBeGreaterThanOrEqual(15 * 60_000)
      expect(gap).toBeLessThanOrEqual(15 * 60_000 + STEP)
    }
    const schedule = await db.query('SELECT source, interval_seconds, target, problem FROM concord_backup_schedule')
    expect(schedule.rowArrays).toEqual([['backup_schedule', '900', url, null]])

    // Restored like any backup: every row written before the last run.
    const dst = await node('dst', new VirtualTime())
    await dst.query(`RESTORE DATABASE FROM '${url}'`)
    expect((await dst.query('SELECT count(*) FROM items')).rowArrays).toEqual([['150']])

    // Off again: no more runs.
    await db.query('ALTER SYSTEM RESET backup_schedule')
    await advance(time, db, 60 * 60_000, 5 * 60_000)
    expect(await runs(db)).toHaveLength(3)
  })

  it('takes its interval from disaster_recovery_config.rpo_minutes, on nodes of backup_region that have a backup_target', async () => {
    const time = new VirtualTime()
    const eu = await node('eu-node', time, 'eu-central')
    const url = backupDir()
    await eu.query(`ALTER SYSTEM SET backup_target = '${url}'`)
    // The seed's table, as the seed creates it.
    await eu.query('CREATE TABLE disaster_recovery_config (rpo_minutes INT DEFAULT 15, rto_minutes INT DEFAULT 5, backup_region VARCHAR(100))')
    await advance(time, eu, 10 * 60_000)
    expect(await runs(eu)).toEqual([])
    await eu.query("INSERT INTO disaster_recovery_config (rpo_minutes, backup_region) VALUES (10, 'us-west')")
    await advance(time, eu, 30 * 60_000)
    expect(await runs(eu)).toEqual([])
    expect((await eu.query('SELECT source FROM concord_backup_schedule')).rowArrays).toEqual([[null]])

    await eu.query("UPDATE disaster_recovery_config SET backup_region = 'eu-central'")
    await advance(time, eu, 60_000)
    await advance(time, eu, 34 * 60_000)
    const all = await runs(eu)
    expect(all.map((r) => [r.kind, r.trigger])).toEqual([['full', 'schedule'], ['incremental', 'schedule'], ['incremental', 'schedule'], ['incremental', 'schedule']])
    const gap = Date.parse(all[1]!.started) - Date.parse(all[0]!.started)
    expect(gap).toBeGreaterThanOrEqual(10 * 60_000)
    expect(gap).toBeLessThanOrEqual(10 * 60_000 + STEP)
    expect((await eu.query('SELECT source, interval_seconds FROM concord_backup_schedule')).rowArrays).toEqual([['disaster_recovery_config', '600']])

    // backup_schedule wins over the table.
    await eu.query("ALTER SYSTEM SET backup_schedule = '1 h'")
    await advance(time, eu, 60_000)
    expect((await eu.query('SELECT source, interval_seconds FROM concord_backup_schedule')).rowArrays).toEqual([['backup_schedule', '3600']])
  })

  it('says what is missing when the table asks for backups and this node has no backup_target', async () => {
    const time = new VirtualTime()
    const db = await node('no-target', time)
    const lines: string[] = []
    db.backups.log = (line) => lines.push(line)
    await db.query('CREATE TABLE disaster_recovery_config (rpo_minutes INT DEFAULT 15, rto_minutes INT DEFAULT 5, backup_region VARCHAR(100))')
    await db.query('INSERT INTO disaster_recovery_config DEFAULT VALUES')
    await advance(time, db, 2 * 60_000)
    expect(await runs(db)).toEqual([])
    const [row] = (await db.query('SELECT source, problem FROM concord_backup_schedule')).rowArrays
    expect(row![0]).toBe('disaster_recovery_config')
    expect(String(row![1])).toMatch(/backup_target is not set/)
    expect(lines.filter((l) => /backup_target is not set/.test(l))).toHaveLength(1)
  })

  it('retries a failed scheduled backup and lists the failure in concord_backups', async () => {
    const time = new VirtualTime()
    const db = await node('flaky', time)
    let fail = true
    const url = backupDir()
    db.backups.openStore = (u, settings) => {
      if (fail) throw new Error('store unreachable')
      return openBackupStore(u, settings)
    }
    await db.query(`ALTER SYSTEM SET backup_target = '${url}'`)
    await db.query("ALTER SYSTEM SET backup_schedule = '1 h'")
    await advance(time, db, 30_000)
    expect((await runs(db)).map((r) => r.status)).toEqual(['failed'])
    // Retried after a minute (not the hour of the schedule), failing again while the store is down.
    await advance(time, db, 60_000)
    expect((await runs(db)).map((r) => r.status)).toEqual(['failed', 'failed'])
    expect(String((await db.query('SELECT problem FROM concord_backup_schedule')).rowArrays[0]![0])).toMatch(/store unreachable/)
    fail = false
    await advance(time, db, 2 * 60_000)
    expect((await runs(db)).map((r) => [r.status, r.kind])).toEqual([['failed', null], ['failed', null], ['succeeded', 'full']])
  })

  it('starts a new chain every backup_chain_length backups and keeps the newest backup_retention_chains chains', async () => {
    const time = new VirtualTime()
    const db = await node('retention', time)
    await db.query('CREATE TABLE items (id INT PRIMARY KEY, v TEXT)')
    const url = backupDir()
    await db.query("ALTER SYSTEM SET backup_chain_length = 2")
    await db.query("ALTER SYSTEM SET backup_retention_chains = 2")
    await db.query(`ALTER SYSTEM SET backup_target = '${url}'`)
    await db.query("ALTER SYSTEM SET backup_schedule = '15 min'")
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      await db.query(`INSERT INTO items VALUES (${i}, 'v${i}')`)
      await advance(time, db, 15 * 60_000)
      const r = await db.query('SELECT id FROM concord_backups ORDER BY started, id')
      ids.push(String(r.rowArrays[r.rowArrays.length - 1]![0]))
    }
    const all = await runs(db)
    expect(all.map((r) => r.kind)).toEqual(['full', 'incremental', 'full', 'incremental', 'full', 'incremental'])
    // The oldest chain is gone from the store, the two newest are whole.
    expect(readdirSync(join(fileURLToPath(url), 'backups')).sort()).toEqual(ids.slice(2).sort())
    const gone = await node('gone', new VirtualTime())
    await expect(gone.query(`RESTORE DATABASE FROM '${url}' AS OF BACKUP '${ids[1]}'`)).rejects.toMatchObject({ code: '42704' })
    const older = await node('older', new VirtualTime())
    await older.query(`RESTORE DATABASE FROM '${url}' AS OF BACKUP '${ids[3]}'`)
    expect((await older.query('SELECT count(*) FROM items')).rowArrays).toEqual([['4']])
    const latest = await node('latest', new VirtualTime())
    await latest.query(`RESTORE DATABASE FROM '${url}'`)
    expect((await latest.query('SELECT count(*) FROM items')).rowArrays).toEqual([['6']])
  })

  it('deletes the chains last written longer ago than backup_retention_age, never the newest', async () => {
    const time = new VirtualTime()
    const db = await node('age', time)
    await db.query('CREATE TABLE items (id INT PRIMARY KEY, v TEXT)')
    const url = backupDir()
    // Every backup a chain of its own: full each time.
    await db.query('ALTER SYSTEM SET backup_chain_length = 1')
    await db.query("ALTER SYSTEM SET backup_retention_age = '40 min'")
    await db.query(`ALTER SYSTEM SET backup_target = '${url}'`)
    await db.query("ALTER SYSTEM SET backup_schedule = '15 min'")
    await advance(time, db, 76 * 60_000)
    const r = await db.query('SELECT id, kind FROM concord_backups ORDER BY started, id')
    expect(r.rowArrays.map((row) => row[1])).toEqual(['full', 'full', 'full', 'full', 'full', 'full'])
    const ids = r.rowArrays.map((row) => String(row[0]))
    expect(readdirSync(join(fileURLToPath(url), 'backups')).sort()).toEqual(ids.slice(3).sort())
  })

  it('validates the settings and never shows the S3 secret key', async () => {
    const db = await node('settings', new VirtualTime())
    await expect(db.query("ALTER SYSTEM SET backup_target = 'ftp://x/y'")).rejects.toMatchObject({ code: '22023' })
    await expect(db.query("ALTER SYSTEM SET backup_schedule = '15'")).rejects.toMatchObject({ code: '22023' })
    await expect(db.query("ALTER SYSTEM SET backup_schedule = 'often'")).rejects.toMatchObject({ code: '22023' })
    await expect(db.query('ALTER SYSTEM SET backup_retention_chains = -1')).rejects.toMatchObject({ code: '22023' })
    await expect(db.query("ALTER SYSTEM SET backup_retention_age = '5'")).rejects.toMatchObject({ code: '22023' })
    await db.query("ALTER SYSTEM SET backup_s3_secret_access_key = 'wJalrXUtnFEMI'")
    await db.query("ALTER SYSTEM SET backup_s3_access_key_id = 'AKIDEXAMPLE'")
    expect((await db.query('SHOW backup_s3_secret_access_key')).rowArrays).toEqual([['********']])
    expect((await db.query("SELECT current_setting('backup_s3_secret_access_key')")).rowArrays).toEqual([['********']])
    const all = JSON.stringify((await db.query('SELECT * FROM pg_settings')).rowArrays) + JSON.stringify((await db.query('SHOW ALL')).rowArrays)
    expect(all).not.toContain('wJalrXUtnFEMI')
    expect(all).toContain('AKIDEXAMPLE')
  })
})
