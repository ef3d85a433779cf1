/**
 * Options of `concord start`, from (highest first) command-line flags, CONCORD_*
 * environment variables, a JSON config file (`--config` / CONCORD_CONFIG), and defaults.
 * Pure: takes argv, env and a file reader, so it is tested without a process.
 */
import { parseArgs } from 'node:util'
import type { ConcordNodeOptions } from '../node/concord-node.js'
import type { TlsRequirement } from '../pgwire/client-authentication.js'

const TLS_REQUIREMENTS: readonly TlsRequirement[] = ['off', 'remote', 'all', 'cert']

export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

interface Setting {
  key: keyof StartSettings
  flag: string
  env: string
  /** A `flag` takes no value on the command line: its presence sets `sets`; env and config say on|off. */
  /** count: a positive whole number; whole: 0 or more. */
  kind: 'string' | 'port' | 'list' | 'duration' | 'switch' | 'count' | 'whole' | 'flag'
  /** A duration that also takes `off` (0). */
  off?: boolean
  help: string
  default?: string
  sets?: boolean
}

export interface StartSettings {
  dataDir: string
  /** Data in memory only: nothing written, no data directory created. */
  memory: boolean
  /** libp2p listeners and joins; off with --no-p2p. */
  p2p: boolean
  nodeId?: string
  region: string
  host: string
  httpHost?: string
  pgPort: number
  p2pHost: string
  p2pPort: number
  wsPort: number
  wssPort?: number
  join: string[]
  clusterKey?: string
  joinToken?: string
  /** From --password, CONCORD_PASSWORD, the config file, or the contents of --password-file. */
  password?: string
  passwordFile?: string
  /** PEM certificate and key files for TLS on the PostgreSQL port. */
  tlsCert?: string
  tlsKey?: string
  /** Create (on first start) and use a self-signed pair in the data directory. */
  tlsSelfSigned: boolean
  /** PostgreSQL connections that must use TLS: off, remote (beyond loopback), all, or cert (all, with a client certificate). */
  requireTls: TlsRequirement
  /** PEM CA certificate(s) client certificates are checked against (PostgreSQL's cert authentication). */
  tlsClientCa?: string
  /** PEM file of CRLs client certificates are checked against with --tls-client-ca (PostgreSQL's ssl_crl_file). */
  tlsCrlFile?: string
  /** Directory of PEM CRL files (every regular file read), with or instead of --tls-crl-file (PostgreSQL's ssl_crl_dir). */
  tlsCrlDir?: string
  maxConnections: number
  /** Milliseconds a connection has to authenticate. */
  authenticationTimeout: number
  /** Milliseconds a session may wait idle; absent: no limit. */
  idleSessionTimeout?: number
  /** Most bytes of values in one written row. */
  maxRowBytes: number
  /** Milliseconds without use before a shard's document is put away (0: never). */
  hibernateAfter: number
  /** Milliseconds between checks for an idle node whose heap grew, to give it back (0: never). */
  idleHeapReturn: number
  /** Worker threads long read-only statements move to (0: none). */
  offloadWorkers: number
  /** Old-generation heap of one statement worker, MB. */
  offloadHeapMb: number
  /** Milliseconds a statement worker may go unused before it ends, its copies of tables released (0: never). */
  offloadIdle: number
  httpPort?: number
  /** Milliseconds of silence after which a member is declared departed. */
  departAfter: number
  compaction: boolean
  /** Overwritten items a shard's history may hold before it is rewritten as a new generation. */
  compactionMinGarbage: number
}

export const SETTINGS: Setting[] = [
  {
    key: 'dataDir', flag: 'data-dir', env: 'CONCORD_DATA_DIR', kind: 'string',
    default: './data',
    help: 'directory for this node’s data, key and identity',
  },
  {
    key: 'memory', flag: 'memory', env: 'CONCORD_MEMORY', kind: 'flag', sets: true,
    default: 'off',
    help: 'data in memory only: nothing written to disk, no data directory; gone at exit',
  },
  {
    key: 'p2p', flag: 'no-p2p', env: 'CONCORD_P2P', kind: 'flag', sets: false,
    default: 'on',
    help: 'no libp2p: no listeners, no joining; the node serves SQL alone',
  },
  {
    key: 'nodeId', flag: 'node-id', env: 'CONCORD_NODE_ID', kind: 'string',
    help: 'node id (default: generated once, kept in the data directory)',
  },
  {
    key: 'region', flag: 'region', env: 'CONCORD_REGION', kind: 'string',
    default: 'default',
    help: 'region this node serves',
  },
  {
    key: 'host', flag: 'host', env: 'CONCORD_HOST', kind: 'string',
    default: '127.0.0.1',
    help: 'address of the PostgreSQL listener (and HTTP, unless --http-host)',
  },
  {
    key: 'httpHost', flag: 'http-host', env: 'CONCORD_HTTP_HOST', kind: 'string',
    help: 'address of the HTTP listener (default: --host); beyond loopback /health omits ids and addresses',
  },
  {
    key: 'pgPort', flag: 'pg-port', env: 'CONCORD_PG_PORT', kind: 'port',
    default: '5432',
    help: 'PostgreSQL port (the next free one if taken)',
  },
  {
    key: 'p2pHost', flag: 'p2p-host', env: 'CONCORD_P2P_HOST', kind: 'string',
    default: '127.0.0.1',
    help: 'address of the libp2p listeners; beyond loopback the node uses a cluster key (created in the data directory if none is given)',
  },
  {
    key: 'p2pPort', flag: 'p2p-port', env: 'CONCORD_P2P_PORT', kind: 'port',
    default: '0',
    help: 'libp2p TCP port (0: any free port)',
  },
  {
    key: 'wsPort', flag: 'ws-port', env: 'CONCORD_WS_PORT', kind: 'port',
    default: '0',
    help: 'libp2p WebSockets port (0: any free port)',
  },
  {
    key: 'wssPort', flag: 'wss-port', env: 'CONCORD_WSS_PORT', kind: 'port',
    help: 'libp2p WebSockets over TLS on this port, for HTTPS pages (0: any free port); the certificate of --tls-cert or --tls-self-signed',
  },
  {
    key: 'join', flag: 'join', env: 'CONCORD_JOIN', kind: 'list',
    help: 'peer to join: host:port of its PostgreSQL server, or a libp2p multiaddr (repeatable, or comma-separated)',
  },
  {
    key: 'clusterKey', flag: 'cluster-key', env: 'CONCORD_CLUSTER_KEY', kind: 'string',
    help: 'swarm key file; only nodes holding it can connect (see `concord gen-cluster-key`); default: <data-dir>/cluster.key if present',
  },
  {
    key: 'joinToken', flag: 'join-token', env: 'CONCORD_JOIN_TOKEN', kind: 'string',
    help: 'one-time token a member printed: admits this node to the cluster\'s member list (needs a --join host:port of that member)',
  },
  {
    key: 'password', flag: 'password', env: 'CONCORD_PASSWORD', kind: 'string',
    help: 'require this password (SCRAM-SHA-256) from PostgreSQL clients; a flag is visible in ps: prefer --password-file or the variable',
  },
  {
    key: 'passwordFile', flag: 'password-file', env: 'CONCORD_PASSWORD_FILE', kind: 'string',
    help: 'read the clients\' password from this file (its first line)',
  },
  {
    key: 'tlsCert', flag: 'tls-cert', env: 'CONCORD_TLS_CERT', kind: 'string',
    help: 'PEM certificate (chain) for TLS on the PostgreSQL port (sslmode=require / verify-full); needs --tls-key',
  },
  {
    key: 'tlsKey', flag: 'tls-key', env: 'CONCORD_TLS_KEY', kind: 'string',
    help: 'PEM private key of --tls-cert',
  },
  {
    key: 'tlsSelfSigned', flag: 'tls-self-signed', env: 'CONCORD_TLS_SELF_SIGNED', kind: 'flag', sets: true,
    default: 'off',
    help: 'TLS with a self-signed certificate created in the data directory on first start (server.crt, server.key; needs openssl)',
  },
  {
    key: 'requireTls', flag: 'require-tls', env: 'CONCORD_REQUIRE_TLS', kind: 'string',
    default: 'off',
    help: 'refuse PostgreSQL connections without TLS (28000): off, remote (from beyond loopback), all, '
      + 'or cert (all, with a client certificate of --tls-client-ca); needs a certificate',
  },
  {
    key: 'tlsClientCa', flag: 'tls-client-ca', env: 'CONCORD_TLS_CLIENT_CA', kind: 'string',
    help: 'PEM CA for client certificates: a verified one logs in the user its common name names, '
      + 'without a password (PostgreSQL\'s cert method); a bundle may hold intermediate CAs',
  },
  {
    key: 'tlsCrlFile', flag: 'tls-crl-file', env: 'CONCORD_TLS_CRL_FILE', kind: 'string',
    help: 'PEM certificate revocation lists (one per CA of --tls-client-ca): a revoked client certificate proves nothing '
      + '(ssl_crl_file); SIGHUP re-reads it and the other TLS files; needs --tls-client-ca',
  },
  {
    key: 'tlsCrlDir', flag: 'tls-crl-dir', env: 'CONCORD_TLS_CRL_DIR', kind: 'string',
    help: 'directory of PEM CRL files, every regular file in it read (ssl_crl_dir; no c_rehash names needed), '
      + 'with --tls-crl-file if both are given; SIGHUP re-reads it; needs --tls-client-ca',
  },
  {
    key: 'maxConnections', flag: 'max-connections', env: 'CONCORD_MAX_CONNECTIONS', kind: 'count',
    default: '100',
    help: 'PostgreSQL sessions at once (max_connections); the next gets 53300',
  },
  {
    key: 'authenticationTimeout', flag: 'authentication-timeout', env: 'CONCORD_AUTHENTICATION_TIMEOUT', kind: 'duration',
    default: '60s',
    help: 'close a PostgreSQL connection that has not authenticated within this (authentication_timeout)',
  },
  {
    key: 'idleSessionTimeout', flag: 'idle-session-timeout', env: 'CONCORD_IDLE_SESSION_TIMEOUT', kind: 'duration',
    help: 'close a PostgreSQL session idle this long (57P05; 25P03 in a transaction block); default: never',
  },
  {
    key: 'offloadWorkers', flag: 'offload-workers', env: 'CONCORD_OFFLOAD_WORKERS', kind: 'whole',
    default: '1',
    help: 'worker threads a read-only statement moves to once it has run offload_after on the event loop, '
      + 'so other clients are served meanwhile; 0: none',
  },
  {
    key: 'offloadHeapMb', flag: 'offload-heap-mb', env: 'CONCORD_OFFLOAD_HEAP_MB', kind: 'count',
    default: '1024',
    help: 'heap of one statement worker in MB; a statement past it gets 53200 and the worker is replaced',
  },
  {
    key: 'offloadIdle', flag: 'offload-idle', env: 'CONCORD_OFFLOAD_IDLE', kind: 'duration', off: true,
    default: '5m',
    help: 'end a statement worker unused this long, releasing the copies of tables it kept for the next long '
      + 'statement (which then starts a fresh worker); off: keep it',
  },
  {
    key: 'maxRowBytes', flag: 'max-row-bytes', env: 'CONCORD_MAX_ROW_BYTES', kind: 'count',
    default: '16777216',
    help: 'bytes of values one written row may hold (INSERT, UPDATE, COPY); a larger row gets 54000',
  },
  {
    key: 'hibernateAfter', flag: 'hibernate-after', env: 'CONCORD_HIBERNATE_AFTER', kind: 'duration', off: true,
    default: 'off',
    help: 'keep only the rows of a shard unused this long, not its CRDT document (less memory; the next write '
      + 'to it loads the document again, holding every client for ~5 s per million rows); off: never',
  },
  {
    key: 'idleHeapReturn', flag: 'idle-heap-return', env: 'CONCORD_IDLE_HEAP_RETURN', kind: 'duration', off: true,
    default: '2s',
    help: 'once the node was idle this long after work that grew its heap (a load, a catch-up, queries), '
      + 'collect it and give the memory back to the system; off: leave it to V8',
  },
  {
    key: 'httpPort', flag: 'http-port', env: 'CONCORD_HTTP_PORT', kind: 'port',
    help: 'serve /health and /metrics on this port (0: any free port)',
  },
  {
    key: 'compaction', flag: 'compaction', env: 'CONCORD_COMPACTION', kind: 'switch',
    default: 'on',
    help: 'rewrite shards as generations of their live data (on|off)',
  },
  {
    key: 'compactionMinGarbage', flag: 'compaction-min-garbage', env: 'CONCORD_COMPACTION_MIN_GARBAGE', kind: 'count',
    default: '1000',
    help: 'overwritten values a shard keeps before it is rewritten as a generation (and at least its live entries)',
  },
  {
    key: 'departAfter', flag: 'depart-after', env: 'CONCORD_DEPART_AFTER', kind: 'duration',
    default: '24h',
    help: 'declare a member departed after this long without a word (e.g. 90m, 24h, 7d)',
  },
]

export interface FileReader {
  (path: string): string
}

function flagType(s: Setting): 'boolean' | 'string' {
  return s.kind === 'flag' ? 'boolean' : 'string'
}

/** Parses `concord start` arguments (after the word `start`). */
export function parseStartOptions(
  argv: string[],
  env: Record<string, string | undefined>,
  readFile: FileReader,
): StartSettings & { quiet: boolean } {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: flagType(s), multiple: s.kind === 'list' }])),
        config: { type: 'string' },
        quiet: { type: 'boolean' },
      },
    })
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''))
  }
  const flags = parsed.values as Record<string, string | string[] | boolean | undefined>
  const configPath = (flags['config'] as string | undefined) ?? env['CONCORD_CONFIG']
  const file = configPath ? readConfig(configPath, readFile) : {}

  const out: Record<string, unknown> = {}
  for (const s of SETTINGS) {
    const fromFlag = s.kind === 'flag' ? (flags[s.flag] === true ? s.sets : undefined) : flags[s.flag]
    let raw: unknown = fromFlag ?? env[s.env] ?? file[s.key] ?? s.default
    let where =
      fromFlag !== undefined ? `--${s.flag}`
      : env[s.env] !== undefined ? s.env
      : file[s.key] !== undefined ? `${configPath}: ${s.key}`
      : 'default'
    if (raw === undefined) continue
    out[s.key] = convert(s, raw, where)
    where = ''
  }
  if (out['passwordFile'] !== undefined) {
    if (out['password'] !== undefined) {
      throw new UsageError('give the password one way: --password-file or --password / CONCORD_PASSWORD, not both')
    }
    out['password'] = readPasswordFile(out['passwordFile'] as string, readFile)
  }
  if ((out['tlsCert'] === undefined) !== (out['tlsKey'] === undefined)) throw new UsageError('give --tls-cert and --tls-key together')
  if (out['wssPort'] !== undefined && out['tlsCert'] === undefined && out['tlsSelfSigned'] !== true) {
    throw new UsageError('--wss-port needs a certificate: give --tls-cert/--tls-key (or --tls-self-signed)')
  }
  if (out['tlsCert'] !== undefined && out['tlsSelfSigned'] === true) {
    throw new UsageError('give --tls-cert/--tls-key or --tls-self-signed, not both')
  }
  if (!TLS_REQUIREMENTS.includes(out['requireTls'] as TlsRequirement)) {
    throw new UsageError(`--require-tls: '${String(out['requireTls'])}' is not one of ${TLS_REQUIREMENTS.join(', ')}`)
  }
  const hasCertificate = out['tlsCert'] !== undefined || out['tlsSelfSigned'] === true
  if ((out['requireTls'] !== 'off' || out['tlsClientCa'] !== undefined) && !hasCertificate) {
    const flag = out['tlsClientCa'] !== undefined ? '--tls-client-ca' : '--require-tls'
    throw new UsageError(`${flag} needs a certificate: give --tls-cert/--tls-key (or --tls-self-signed)`)
  }
  for (const [key, flag] of [['tlsCrlFile', '--tls-crl-file'], ['tlsCrlDir', '--tls-crl-dir']] as const) {
    if (out[key] !== undefined && out['tlsClientCa'] === undefined) {
      throw new UsageError(`${flag} needs --tls-client-ca (the CA whose certificates the CRLs revoke)`)
    }
  }
  if (out['requireTls'] === 'cert' && out['tlsClientCa'] === undefined) {
    throw new UsageError('--require-tls cert needs --tls-client-ca (the CA client certificates are checked against)')
  }
  const join = (out['join'] as string[] | undefined) ?? []
  const settings = { ...(out as unknown as StartSettings), join, quiet: flags['quiet'] === true }
  if (!settings.p2p && settings.join.length > 0) throw new UsageError('--join needs libp2p, which --no-p2p (p2p off) turns off')
  return settings
}

/** The first line of the file, without its line ending (as PostgreSQL's own password files). */
function readPasswordFile(path: string, readFile: FileReader): string {
  let text: string
  try {
    text = readFile(path)
  } catch (err) {
    throw new UsageError(`cannot read password file ${path}: ${(err as Error).message}`)
  }
  const line = text.split(/\r?\n/)[0] ?? ''
  if (line === '') throw new UsageError(`password file ${path} is empty`)
  return line
}

function readConfig(path: string, readFile: FileReader): Record<string, unknown> {
  let text: string
  try {
    text = readFile(path)
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new UsageError(`config file ${path} is not JSON: ${(err as Error).message}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UsageError(`config file ${path} must hold a JSON object`)
  const known = new Set<string>(SETTINGS.map((s) => s.key))
  for (const k of Object.keys(body)) {
    if (!known.has(k)) throw new UsageError(`config file ${path}: unknown setting '${k}' (known: ${[...known].join(', ')})`)
  }
  return body as Record<string, unknown>
}

function convert(s: Setting, raw: unknown, where: string): unknown {
  switch (s.kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw new UsageError(`${where}: expected a non-empty string`)
      return raw
    case 'port': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${where}: '${String(raw)}' is not a port number (0-65535)`)
      return n
    }
    case 'duration': {
      if (s.off === true && (raw === 'off' || raw === 0)) return 0
      // A number (config file) is milliseconds; a string carries its unit.
      const m = typeof raw === 'string' ? /^(\d+)(ms|s|m|h|d)$/.exec(raw.trim()) : null
      const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
      const n = typeof raw === 'number' ? raw : m === null ? NaN : Number(m[1]) * unit[m[2] as keyof typeof unit]
      if (!Number.isSafeInteger(n) || n <= 0) {
        const or = s.off === true ? ', or off' : ''
        throw new UsageError(`${where}: '${String(raw)}' is not a duration (a positive number with ms, s, m, h or d${or})`)
      }
      return n
    }
    case 'count':
    case 'whole': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN
      const least = s.kind === 'count' ? 1 : 0
      const what = least === 1 ? 'positive' : 'non-negative'
      if (!Number.isSafeInteger(n) || n < least) throw new UsageError(`${where}: '${String(raw)}' is not a ${what} whole number`)
      return n
    }
    case 'switch':
    case 'flag':
      if (raw === true || raw === 'on' || raw === 'true') return true
      if (raw === false || raw === 'off' || raw === 'false') return false
      throw new UsageError(`${where}: '${String(raw)}' is not on or off`)
    case 'list': {
      const items = Array.isArray(raw) ? raw : [raw]
      const out: string[] = []
      for (const item of items) {
        if (typeof item !== 'string') throw new UsageError(`${where}: expected strings`)
        for (const part of item.split(',')) if (part.trim()) out.push(part.trim())
      }
      return out
    }
  }
}

export function toNodeOptions(s: StartSettings): ConcordNodeOptions {
  return {
    dataDir: s.dataDir,
    memory: s.memory,
    p2p: s.p2p,
    nodeId: s.nodeId,
    region: s.region,
    host: s.host,
    ...(s.httpHost !== undefined ? { httpHost: s.httpHost } : {}),
    pgPort: s.pgPort,
    p2pHost: s.p2pHost,
    p2pPort: s.p2pPort,
    wsPort: s.wsPort,
    ...(s.wssPort !== undefined ? { wssPort: s.wssPort } : {}),
    join: s.join,
    clusterKeyFile: s.clusterKey,
    ...(s.joinToken !== undefined ? { joinToken: s.joinToken } : {}),
    password: s.password,
    ...(s.tlsCert !== undefined && s.tlsKey !== undefined ? { tls: { certFile: s.tlsCert, keyFile: s.tlsKey } } : {}),
    ...(s.tlsSelfSigned ? { tls: 'self-signed' as const } : {}),
    ...(s.requireTls !== 'off' ? { requireTls: s.requireTls } : {}),
    ...(s.tlsClientCa !== undefined ? { tlsClientCaFile: s.tlsClientCa } : {}),
    ...(s.tlsCrlFile !== undefined ? { tlsCrlFile: s.tlsCrlFile } : {}),
    ...(s.tlsCrlDir !== undefined ? { tlsCrlDir: s.tlsCrlDir } : {}),
    maxConnections: s.maxConnections,
    authenticationTimeoutMs: s.authenticationTimeout,
    ...(s.idleSessionTimeout !== undefined ? { idleSessionTimeoutMs: s.idleSessionTimeout } : {}),
    maxRowBytes: s.maxRowBytes,
    hibernateAfterMs: s.hibernateAfter,
    idleHeapReturnMs: s.idleHeapReturn,
    offloadWorkers: s.offloadWorkers,
    offloadHeapMb: s.offloadHeapMb,
    offloadIdleMs: s.offloadIdle,
    httpPort: s.httpPort,
    compaction: { enabled: s.compaction, departAfterMs: s.departAfter, minGarbage: s.compactionMinGarbage },
  }
}

/** The placeholder `--help` shows after each kind of flag. */
const PLACEHOLDER: Record<Setting['kind'], string> = {
  string: 'value',
  port: 'port',
  list: 'addr',
  duration: 'time',
  switch: 'on|off',
  count: 'n',
  whole: 'n',
  flag: '',
}

export function startHelp(): string {
  const lines = SETTINGS.map((s) => {
    const flag = s.kind === 'flag' ? `  --${s.flag}` : `  --${s.flag} <${PLACEHOLDER[s.kind]}>`
    const fallback = s.default !== undefined && s.kind !== 'flag' ? ` [${s.default}]` : ''
    const env = s.kind === 'flag' ? `${s.env}=on|off` : s.env
    return `${flag.padEnd(28)} ${s.help}${fallback}\n${''.padEnd(29)}env ${env}, config key "${s.key}"`
  })
  return [
    ...lines,
    `${'  --config <file>'.padEnd(28)} JSON file with any of the config keys above (env CONCORD_CONFIG)`,
    `${'  --quiet'.padEnd(28)} log warnings and errors only`,
  ].join('\n')
}
