/**
 * `concord backup --to URL` and `concord restore --from URL --data-dir DIR`.
 *
 * backup runs `BACKUP DATABASE TO 'URL'` on a running node over the PostgreSQL wire
 * (--host, --pg-port, --user; password from CONCORD_PASSWORD or PGPASSWORD), so the node
 * takes the consistent cut of its own replicated state and writes the backup itself.
 *
 * restore runs offline: it reads and checks the backup chain (every object against the
 * manifest's sha256 and size, before anything is written), then writes the shards into a
 * new data directory's storage; `concord start --data-dir DIR` then serves it. It refuses
 * a data directory that holds data.
 */
import { join } from 'node:path'
import { UsageError } from './start-options.js'
import type { Logger } from '../log/logger.js'

export interface BackupCommandOptions {
  to: string
  host: string
  port: number
  user: string
  database: string
}

export interface RestoreCommandOptions {
  from: string
  dataDir: string
  asOf?: string
}

export function backupHelp(): string {
  return `  concord backup --to URL [--host H] [--pg-port P] [--user U] [--database D]
      back up the running node at H:P (default 127.0.0.1:5432) to URL (file:///path);
      a second backup to the same URL is incremental. Password: CONCORD_PASSWORD or PGPASSWORD
  concord restore --from URL --data-dir DIR [--as-of BACKUP_ID]
      write the backup chain at URL (up to BACKUP_ID, default the latest) into the new data
      directory DIR, then run: concord start --data-dir DIR`
}

function flags(argv: string[], known: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a)
    if (m === null || !known.includes(m[1]!)) throw new UsageError(`unknown option '${a}'`)
    const value = m[2] ?? argv[++i]
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`)
    out.set(m[1]!, value)
  }
  return out
}

export function parseBackupOptions(argv: string[]): BackupCommandOptions {
  const f = flags(argv, ['to', 'host', 'pg-port', 'user', 'database'])
  const to = f.get('to')
  if (to === undefined) throw new UsageError('backup needs --to URL')
  const port = Number(f.get('pg-port') ?? '5432')
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--pg-port: not a port: ${f.get('pg-port')}`)
  return { to, host: f.get('host') ?? '127.0.0.1', port, user: f.get('user') ?? 'concord', database: f.get('database') ?? 'concord' }
}

export function parseRestoreOptions(argv: string[]): RestoreCommandOptions {
  const f = flags(argv, ['from', 'data-dir', 'as-of'])
  const from = f.get('from')
  const dataDir = f.get('data-dir')
  if (from === undefined || dataDir === undefined) throw new UsageError('restore needs --from URL and --data-dir DIR')
  return { from, dataDir, ...(f.has('as-of') ? { asOf: f.get('as-of')! } : {}) }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

/** Runs the backup on the node; resolves to the exit code. */
export async function runBackupCommand(
  o: BackupCommandOptions,
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  const { default: pg } = await import('pg')
  const password = env['CONCORD_PASSWORD'] ?? env['PGPASSWORD']
  const { host, port, user, database } = o
  const client = new pg.Client({ host, port, user, database, ...(password !== undefined ? { password } : {}) })
  client.on('notice', (n) => out(n.message ?? ''))
  await client.connect()
  try {
    await client.query(`BACKUP DATABASE TO ${quote(o.to)}`)
    const r = await client.query<{ id: string; kind: string; bytes: string }>(
      'SELECT id, kind, bytes FROM concord_backups WHERE status = $1 ORDER BY finished DESC LIMIT 1',
      ['succeeded'],
    )
    const last = r.rows[0]
    if (last !== undefined) out(`backup ${last.id} (${last.kind}, ${last.bytes} bytes) stored at ${o.to}`)
    return 0
  } finally {
    await client.end()
  }
}

/** Writes the backup chain into a new data directory; resolves to the exit code. */
export async function runRestoreCommand(o: RestoreCommandOptions, log: Logger, out: (line: string) => void): Promise<number> {
  const [{ planRestore, restoreIntoStorage }, { openBackupStore }, { openDataDir }, { lockDataDir }, { LmdbStorage }] = await Promise.all([
    import('@concord/core'),
    import('../backup/backup-store-url.js'),
    import('../node/data-dir.js'),
    import('../node/data-dir-lock.js'),
    import('../storage/lmdb-storage.js'),
  ])
  const plan = await planRestore(openBackupStore(o.from), o.asOf)
  openDataDir(o.dataDir, log)
  // Not into the directory of a running node (data-dir-lock.ts).
  const lock = lockDataDir(o.dataDir)
  try {
    const storage = new LmdbStorage({ path: join(o.dataDir, 'lmdb') })
    try {
      await restoreIntoStorage(plan, storage)
    } finally {
      await storage.close()
    }
  } finally {
    lock.release()
  }
  const { backup, chain, shards, bytes } = plan
  out(`restored backup ${backup.id} (${chain.length} in its chain, ${shards.length} shards, ${bytes} bytes) into ${o.dataDir}`)
  out(`start it: concord start --data-dir ${o.dataDir}`)
  return 0
}
