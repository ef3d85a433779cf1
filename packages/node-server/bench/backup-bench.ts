/**
 * Backup and restore throughput (issue 18): 50,000 rows backed up to a file:// URL and
 * restored into a new node, against pg_dump -Fc / pg_restore of the same rows on
 * PostgreSQL 15 in the same run (CONCORD_PG_URL, from .ci/postgres.sh).
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
import { Database } from '@concord/sql-facade'
import { openBackupStore } from '../src/backup/backup-store-url.js'

const ROWS = 50_000
const PG_BIN = '/usr/lib/postgresql/15/bin'
const CREATE = 'CREATE TABLE items (id INT PRIMARY KEY, name TEXT, qty INT)'
const FILL = `INSERT INTO items SELECT g, 'item number ' || g, g % 1000 FROM generate_series(1, ${ROWS}) g`

function mb(bytes: number, ms: number): string {
  return (bytes / 1e6 / (ms / 1000)).toFixed(1)
}

async function concord(dir: string): Promise<{ bytes: number; backupMs: number; restoreMs: number }> {
  const url = pathToFileURL(join(dir, 'concord')).href
  const src = await Database.open({ nodeId: 'bench-src' })
  src.backups.openStore = openBackupStore
  await src.query(CREATE)
  await src.query(FILL)
  let t = performance.now()
  await src.query(`BACKUP DATABASE TO '${url}'`)
  const backupMs = performance.now() - t
  const bytes = Number((await src.query('SELECT bytes FROM concord_backups')).rowArrays[0]![0])
  await src.close()
  const dst = await Database.open({ nodeId: 'bench-dst' })
  dst.backups.openStore = openBackupStore
  t = performance.now()
  await dst.query(`RESTORE DATABASE FROM '${url}'`)
  const restoreMs = performance.now() - t
  const n = Number((await dst.query('SELECT count(*) FROM items')).rowArrays[0]![0])
  if (n !== ROWS) throw new Error(`restored ${n} rows, expected ${ROWS}`)
  await dst.close()
  return { bytes, backupMs, restoreMs }
}

async function postgres(dir: string, url: string): Promise<{ bytes: number; backupMs: number; restoreMs: number }> {
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
try {
  const c = await concord(dir)
  const pgUrl = process.env['CONCORD_PG_URL']
  const p = pgUrl === undefined ? null : await postgres(dir, pgUrl)
  const line = (name: string, r: { bytes: number; backupMs: number; restoreMs: number }): string =>
    `${name.padEnd(10)} backup ${mb(r.bytes, r.backupMs)} MB/s ${Math.round(ROWS / (r.backupMs / 1000))} rows/s` +
    `  restore ${mb(r.bytes, r.restoreMs)} MB/s ${Math.round(ROWS / (r.restoreMs / 1000))} rows/s  (${(r.bytes / 1e6).toFixed(2)} MB)`
  console.log(`${ROWS} rows`)
  console.log(line('concord', c))
  if (p !== null) {
    console.log(line('postgres', p))
    console.log(`rows/s ratio concord/postgres: backup ${(p.backupMs / c.backupMs).toFixed(2)}, restore ${(p.restoreMs / c.restoreMs).toFixed(2)}`)
  } else console.log('postgres: CONCORD_PG_URL not set, no baseline')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
