/**
 * Backup and restore throughput (issue 18): 50,000 rows backed up to a file:// URL and to
 * s3:// on an s3rver started here on 127.0.0.1, each restored into a new running node
 * (RESTORE DATABASE) and offline into a new LMDB data directory (what `concord restore
 * --data-dir` does), against pg_dump -Fc / pg_restore of the same rows on PostgreSQL 15
 * in the same run (CONCORD_PG_URL, from .ci/postgres.sh).
 *
 *   export "$(bash .ci/postgres.sh)"; NODE_OPTIONS=--conditions=@concord/source \
 *     node --import tsx packages/node-server/bench/backup-bench.ts
 *
 * Figures: MB/s (bytes of the backup) and rows/s, each side, and Concord / PostgreSQL.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import S3rver from 's3rver'
import { planRestore, restoreIntoStorage } from '@concord/core'
import { Database, type BackupStoreSettings } from '@concord/sql-facade'
import { openBackupStore } from '../src/backup/backup-store-url.js'
import { LmdbStorage } from '../src/storage/lmdb-storage.js'

const ROWS = 50_000
const S3_PORT = 46101
const S3: BackupStoreSettings = { s3Endpoint: `http://127.0.0.1:${S3_PORT}`, s3Region: 'us-east-1', s3AccessKeyId: 'S3RVER', s3SecretAccessKey: 'S3RVER', s3ForcePathStyle: true }
const PG_BIN = '/usr/lib/postgresql/15/bin'
const CREATE = 'CREATE TABLE items (id INT PRIMARY KEY, name TEXT, qty INT)'
const FILL = `INSERT INTO items SELECT g, 'item number ' || g, g % 1000 FROM generate_series(1, ${ROWS}) g`

function mb(bytes: number, ms: number): string {
  return (bytes / 1e6 / (ms / 1000)).toFixed(1)
}

interface Run {
  bytes: number
  backupMs: number
  restoreMs: number
  /** Offline restore into a new LMDB data directory (concord restore --data-dir). */
  offlineMs?: number
  /** Then a node opening that directory until it answers a count of the rows. */
  startMs?: number
}

async function concord(dir: string, url: string, name: string): Promise<Run> {
  const open = (u: string): ReturnType<typeof openBackupStore> => openBackupStore(u, S3)
  const src = await Database.open({ nodeId: `bench-src-${name}` })
  src.backups.openStore = open
  await src.query(CREATE)
  await src.query(FILL)
  let t = performance.now()
  await src.query(`BACKUP DATABASE TO '${url}'`)
  const backupMs = performance.now() - t
  const bytes = Number((await src.query('SELECT bytes FROM concord_backups')).rowArrays[0]![0])
  await src.close()
  const dst = await Database.open({ nodeId: `bench-dst-${name}` })
  dst.backups.openStore = open
  t = performance.now()
  await dst.query(`RESTORE DATABASE FROM '${url}'`)
  const restoreMs = performance.now() - t
  const n = Number((await dst.query('SELECT count(*) FROM items')).rowArrays[0]![0])
  if (n !== ROWS) throw new Error(`restored ${n} rows, expected ${ROWS}`)
  await dst.close()
  const path = join(dir, `lmdb-${name}`)
  const storage = new LmdbStorage({ path })
  t = performance.now()
  await restoreIntoStorage(await planRestore(open(url)), storage)
  await storage.close()
  const offlineMs = performance.now() - t
  // A node opening the restored directory loads and resolves the rows before it serves them.
  t = performance.now()
  const served = new LmdbStorage({ path })
  const node = await Database.open({ nodeId: `bench-served-${name}`, storage: served })
  const m = Number((await node.query('SELECT count(*) FROM items')).rowArrays[0]![0])
  const startMs = performance.now() - t
  await node.close()
  await served.close()
  if (m !== ROWS) throw new Error(`the restored data directory serves ${m} rows, expected ${ROWS}`)
  return { bytes, backupMs, restoreMs, offlineMs, startMs }
}

async function postgres(dir: string, url: string): Promise<Run> {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  for (const db of ['concord_backup_bench_src', 'concord_backup_bench_dst']) {
    await admin.query(`DROP DATABASE IF EXISTS ${db}`)
    await admin.query(`CREATE DATABASE ${db}`)
  }
  const dbUrl = (name: string): string => {
    const u = new URL(url)
    u.pathname = `/${name}`
    return u.href
  }
  const src = new pg.Client({ connectionString: dbUrl('concord_backup_bench_src') })
  await src.connect()
  await src.query(CREATE)
  await src.query(FILL)
  await src.end()
  const file = join(dir, 'pg.dump')
  let t = performance.now()
  execFileSync(join(PG_BIN, 'pg_dump'), ['-Fc', '-f', file, dbUrl('concord_backup_bench_src')])
  const backupMs = performance.now() - t
  t = performance.now()
  execFileSync(join(PG_BIN, 'pg_restore'), ['-d', dbUrl('concord_backup_bench_dst'), file])
  const restoreMs = performance.now() - t
  for (const db of ['concord_backup_bench_src', 'concord_backup_bench_dst']) await admin.query(`DROP DATABASE ${db}`)
  await admin.end()
  return { bytes: statSync(file).size, backupMs, restoreMs }
}

const dir = mkdtempSync(join(tmpdir(), 'concord-backup-bench-'))
const s3 = new S3rver({ address: '127.0.0.1', port: S3_PORT, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'bench', configs: [] }] })
try {
  await s3.run()
  const file = await concord(dir, pathToFileURL(join(dir, 'concord')).href, 'file')
  const bucket = await concord(dir, 's3://bench/prod', 's3')
  const pgUrl = process.env['CONCORD_PG_URL']
  const p = pgUrl === undefined ? null : await postgres(dir, pgUrl)
  const rate = (r: Run, ms: number): string => `${mb(r.bytes, ms)} MB/s ${Math.round(ROWS / (ms / 1000))} rows/s`
  const line = (name: string, r: Run): string =>
    `${name.padEnd(16)} backup ${rate(r, r.backupMs)}  restore ${rate(r, r.restoreMs)}` +
    `${r.offlineMs === undefined ? '' : `  offline restore ${rate(r, r.offlineMs)}, + start ${rate(r, r.offlineMs + r.startMs!)}`}` +
    `  (${(r.bytes / 1e6).toFixed(2)} MB)`
  console.log(`${ROWS} rows`)
  console.log(line('concord file://', file))
  console.log(line('concord s3rver', bucket))
  if (p !== null) {
    console.log(line('postgres', p))
    for (const [name, c] of [['file://', file], ['s3rver', bucket]] as const) {
      console.log(`rows/s ratio concord ${name}/postgres: backup ${(p.backupMs / c.backupMs).toFixed(2)}, restore ${(p.restoreMs / c.restoreMs).toFixed(2)}, offline restore ${(p.restoreMs / c.offlineMs!).toFixed(2)}, + start ${(p.restoreMs / (c.offlineMs! + c.startMs!)).toFixed(2)}`)
    }
  } else console.log('postgres: CONCORD_PG_URL not set, no baseline')
} finally {
  await s3.close()
  rmSync(dir, { recursive: true, force: true })
}
