/**
 * `concord admit`: puts a node on the cluster's member list (docs/security.md,
 * "Membership") from the command line, through a member's PostgreSQL port.
 *
 * - `concord admit <join token> --data-dir DIR --pg-port P`: the joiner's side. Redeems a
 *   one-time join token a member printed for the node whose data directory is DIR (its
 *   libp2p identity, `peer.key`, created now if the node never started), so that node is a
 *   member before it first dials: it may then join by any address, a libp2p multiaddr
 *   included (`--join-token` at start needs the member's PostgreSQL address).
 * - `concord admit <peer id> --pg-port P`: the administrator's side, for a joiner that
 *   logged its PeerId (`libp2p peer id 12D3Koo..` at start): `ALTER SYSTEM ADD NODE`, as a
 *   superuser.
 *
 * Password: CONCORD_PASSWORD or PGPASSWORD, as `concord backup`. Invariant: the command
 * writes nothing but, for a token, the identity file of a data directory that had none.
 */
import { join } from 'node:path'
import { UsageError } from './start-options.js'

export interface AdmitCommandOptions {
  /** A join token (43 base64url characters) or a PeerId. */
  subject: string
  host: string
  port: number
  user: string
  database: string
  dataDir?: string
}

const JOIN_TOKEN = /^[A-Za-z0-9_-]{43}$/
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{46,64}$/

export function admitHelp(): string {
  return `  concord admit <join token> --data-dir DIR [--host H] [--pg-port P] [--user U]
      redeem a join token a member printed (at start, "--join-token ..") for the node of DIR,
      on the member at H:P (default 127.0.0.1:5432): that node may then join by any address
  concord admit <peer id> [--host H] [--pg-port P] [--user U]
      add the node with that libp2p peer id (logged at its start) to the member list, as a
      superuser (ALTER SYSTEM ADD NODE). Password: CONCORD_PASSWORD or PGPASSWORD`
}

export function parseAdmitOptions(argv: string[]): AdmitCommandOptions {
  const known = ['host', 'pg-port', 'user', 'database', 'data-dir']
  const f = new Map<string, string>()
  const positional: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a)
    if (m === null) {
      positional.push(a)
      continue
    }
    if (!known.includes(m[1]!)) throw new UsageError(`unknown option '${a}'`)
    const value = m[2] ?? argv[++i]
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`)
    f.set(m[1]!, value)
  }
  if (positional.length !== 1) throw new UsageError('admit takes one argument: a join token, or the peer id of the node to add')
  const subject = positional[0]!
  if (!JOIN_TOKEN.test(subject) && !PEER_ID.test(subject)) {
    throw new UsageError(`'${subject.slice(0, 80)}' is neither a join token (43 characters a member printed) nor a libp2p peer id`)
  }
  if (JOIN_TOKEN.test(subject) && !f.has('data-dir')) {
    throw new UsageError('a join token admits the node of a data directory: give --data-dir')
  }
  const port = Number(f.get('pg-port') ?? '5432')
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--pg-port: not a port: ${f.get('pg-port')}`)
  return {
    subject,
    host: f.get('host') ?? '127.0.0.1',
    port,
    user: f.get('user') ?? 'concord',
    database: f.get('database') ?? 'concord',
    ...(f.has('data-dir') ? { dataDir: f.get('data-dir')! } : {}),
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

/** Admits the node; resolves to the exit code (errors are thrown, with the member's SQLSTATE in the message). */
export async function runAdmitCommand(
  o: AdmitCommandOptions,
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  let peerId = o.subject
  let sql = `ALTER SYSTEM ADD NODE ${quote(peerId)}`
  if (JOIN_TOKEN.test(o.subject)) {
    const [{ openDataDir }, { loadOrCreatePeerKey }, { silentLogger }] = await Promise.all([
      import('../node/data-dir.js'), import('../transport/peer-key.js'), import('../log/logger.js'),
    ])
    openDataDir(o.dataDir!, silentLogger)
    peerId = (await loadOrCreatePeerKey(join(o.dataDir!, 'peer.key'))).publicKey.toString()
    sql = `ALTER SYSTEM ADD NODE ${quote(peerId)} WITH JOIN TOKEN ${quote(o.subject)}`
  }
  const { default: pg } = await import('pg')
  const password = env['CONCORD_PASSWORD'] ?? env['PGPASSWORD']
  const client = new pg.Client({
    host: o.host,
    port: o.port,
    user: o.user,
    database: o.database,
    connectionTimeoutMillis: 10_000,
    ...(password !== undefined ? { password } : {}),
  })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.query(sql)
  } catch (err) {
    const code = (err as { code?: string }).code
    throw new Error(`${o.host}:${o.port} refused to admit ${peerId}: ${(err as Error).message}${code ? ` (${code})` : ''}`)
  } finally {
    await client.end().catch(() => {})
  }
  out(`admitted ${peerId} to the cluster's member list (on ${o.host}:${o.port})`)
  return 0
}
