/**
 * A throwaway PostgreSQL 15 instance for the benchmarks that compare Concord with
 * PostgreSQL in the same run: created and started the way `.ci/postgres.sh` does (that
 * script, with its port and data directory), then switched to durable commits (`fsync`,
 * `synchronous_commit` and `full_page_writes` on, as Concord acknowledges a commit only
 * once LMDB has synced it) and, when asked, `wal_level = logical` for a publisher.
 *
 * Invariants: every instance listens on 127.0.0.1 only, with trust authentication, in a
 * data directory under the benchmark's temporary directory (made readable for the
 * `postgres` user when run as root); `stop()` is safe to call twice.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const PG_SCRIPT = fileURLToPath(new URL('../../.ci/postgres.sh', import.meta.url))
const START_TIMEOUT_S = '60'

/** The newest installed PostgreSQL server's bin directory, or null. */
export function pgBinDir(): string | null {
  if (!existsSync('/usr/lib/postgresql')) return null
  for (const v of readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))) {
    const d = `/usr/lib/postgresql/${v}/bin`
    if (existsSync(`${d}/postgres`)) return d
  }
  return null
}

/** PostgreSQL's pgbench: `$PGBENCH`, else Debian's (postgresql-client); undefined when none is installed. */
export function pgbenchPath(): string | undefined {
  return [process.env['PGBENCH'], '/usr/lib/postgresql/15/bin/pgbench', '/usr/bin/pgbench'].find((p) => p !== undefined && existsSync(p))
}

/** Runs a command as the cluster's owner (`postgres` when we are root: PostgreSQL refuses root). */
function asOwner(cmd: string[]): void {
  const root = process.getuid?.() === 0
  execFileSync(root ? 'runuser' : cmd[0]!, root ? ['-u', 'postgres', '--', ...cmd] : cmd.slice(1), { stdio: 'ignore', cwd: '/' })
}

export class PostgresInstance {
  readonly bin: string
  readonly port: number
  readonly data: string
  private running = false

  private constructor(bin: string, port: number, data: string) {
    this.bin = bin
    this.port = port
    this.data = data
  }

  /** Creates (through .ci/postgres.sh), configures for durable commits and starts an instance. */
  static create(bin: string, port: number, data: string, options: { logical?: boolean } = {}): PostgresInstance {
    execFileSync('bash', [PG_SCRIPT], {
      env: { ...process.env, CONCORD_PG_PORT: String(port), CONCORD_PG_DATA: data },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    const p = new PostgresInstance(bin, port, data)
    p.running = true
    const settings = ['fsync = on', 'synchronous_commit = on', 'full_page_writes = on', 'max_connections = 100']
    if (options.logical) settings.push('wal_level = logical', 'max_wal_senders = 10', 'max_replication_slots = 10')
    execFileSync('psql', [p.url('postgres'), '-q', ...settings.flatMap((s) => ['-c', `ALTER SYSTEM SET ${s}`])], { stdio: 'ignore' })
    p.restart()
    return p
  }

  /** A stopped copy of `template`'s data directory on another port (the copy is not part of any timing). */
  static copyOf(template: PostgresInstance, port: number, data: string): PostgresInstance {
    if (template.running) throw new Error('copy a stopped instance')
    // cp -a keeps the owner and the 0700 mode PostgreSQL insists on.
    execFileSync('cp', ['-a', template.data, data])
    return new PostgresInstance(template.bin, port, data)
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`
  }

  /**
   * Starts the server; with `wait`, until it accepts connections (pg_ctl -w, which polls
   * ten times a second). Without, pg_ctl returns once the postmaster is spawned: a caller
   * timing start-up polls a connection itself.
   */
  start(wait = true): void {
    this.logFile()
    asOwner([`${this.bin}/pg_ctl`, '-D', this.data, wait ? '-w' : '-W', '-t', START_TIMEOUT_S, '-l', `${this.data}.log`, 'start', '-o', this.serverOptions()])
    this.running = true
  }

  restart(): void {
    this.logFile()
    asOwner([`${this.bin}/pg_ctl`, '-D', this.data, '-w', '-t', START_TIMEOUT_S, '-l', `${this.data}.log`, 'restart', '-o', this.serverOptions()])
    this.running = true
  }

  /** Fast shutdown (a checkpoint, as a clean stop of a real server does). */
  stop(): void {
    if (!this.running) return
    try {
      asOwner([`${this.bin}/pg_ctl`, '-D', this.data, '-w', '-t', START_TIMEOUT_S, '-m', 'fast', 'stop'])
    } catch {
      // not running
    }
    this.running = false
  }

  /** The postmaster's process id (first line of postmaster.pid), or null when stopped. */
  pid(): number | null {
    try {
      return Number(readFileSync(`${this.data}/postmaster.pid`, 'utf8').split('\n')[0])
    } catch {
      return null
    }
  }

  /** The server log beside the data directory, writable by the owner (who cannot create files in our directory). */
  private logFile(): void {
    const log = `${this.data}.log`
    if (!existsSync(log)) writeFileSync(log, '')
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', log])
  }

  private serverOptions(): string {
    return `-p ${this.port} -k /tmp -c listen_addresses=127.0.0.1`
  }
}
