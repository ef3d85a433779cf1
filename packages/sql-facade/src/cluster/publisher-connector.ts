/**
 * What the SQL layer needs from its host to make subscriptions and master lists real:
 * reach another node by its PostgreSQL address, learn its node id, and join it over the
 * replication transport. The node server implements it (pg-join); an in-memory or
 * simulated database has none, and subscriptions are then created as with
 * PostgreSQL's `WITH (connect = false)`.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

export interface ConnInfo {
  host: string
  port: number
  dbname: string
  user: string | null
  password: string | null
}

export interface PublisherInfo {
  nodeId: string
  /** Names of the publications the publisher has. */
  publications: string[]
  /** The publisher's current LSN. */
  lsn: number
}

export interface PublisherConnector {
  /** Connects to `conn` over PostgreSQL and describes the node there; throws SqlError 08006 when unreachable. */
  describe(conn: ConnInfo, signal?: AbortSignal): Promise<PublisherInfo>
  /** Keeps this node joined to the node at `conn` (redialed with backoff). */
  follow(conn: ConnInfo): void
}

/**
 * Parses a libpq connection string: a `postgresql://` / `postgres://` URI or `key=value`
 * pairs. Throws 42601 like PostgreSQL's "invalid connection string syntax".
 */
export function parseConnInfo(text: string): ConnInfo {
  const bad = (why: string) => new SqlError(SqlState.syntaxError, `invalid connection string syntax: ${why}`)
  const s = text.trim()
  if (s === '') throw bad('empty connection string')
  let host = ''
  let port = 5432
  let dbname = 'concord'
  let user: string | null = null
  let password: string | null = null
  if (/^postgres(ql)?:\/\//i.test(s)) {
    let u: URL
    try {
      u = new URL(s)
    } catch {
      throw bad(`invalid URI "${s}"`)
    }
    host = decodeURIComponent(u.hostname).replace(/^\[|\]$/g, '')
    if (u.port !== '') port = Number(u.port)
    if (u.pathname.length > 1) dbname = decodeURIComponent(u.pathname.slice(1))
    if (u.username) user = decodeURIComponent(u.username)
    if (u.password) password = decodeURIComponent(u.password)
    for (const [k, v] of u.searchParams) {
      if (k === 'host') host = v
      else if (k === 'port') port = Number(v)
    }
  } else {
    const re = /\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/y
    let rest = s
    while (rest.trim() !== '') {
      re.lastIndex = 0
      const m = re.exec(rest)
      if (!m) throw bad(`missing "=" after "${rest.trim().split(/\s+/)[0]}" in connection info string`)
      rest = rest.slice(re.lastIndex)
      const v = m[2]!.startsWith("'") ? m[2]!.slice(1, -1).replace(/\\(.)/g, '$1') : m[2]!
      switch (m[1]!.toLowerCase()) {
        case 'host': case 'hostaddr': host = v; break
        case 'port': port = Number(v); break
        case 'dbname': dbname = v; break
        case 'user': user = v; break
        case 'password': password = v; break
        case 'connect_timeout': case 'application_name': case 'sslmode': case 'options': break
        default: throw bad(`invalid connection option "${m[1]}"`)
      }
    }
  }
  if (host === '') throw bad('no host in connection string')
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`invalid port number: "${port}"`)
  return { host, port, dbname, user, password }
}

/**
 * Parses a master list (`'node2:5432,node3:5432'`): host:port entries separated by commas,
 * each also accepted as a postgresql:// URI. Throws 22023 on a malformed entry.
 */
export function parseMasterNodes(value: string): ConnInfo[] {
  const out: ConnInfo[] = []
  for (const raw of value.split(',')) {
    const e = raw.trim()
    if (e === '') continue
    if (/^postgres(ql)?:\/\//i.test(e)) {
      out.push(parseConnInfo(e))
      continue
    }
    const m = /^(\[[^\]]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(e)
    const port = m?.[2] ? Number(m[2]) : 5432
    if (!m || port < 1 || port > 65535) {
      throw new SqlError(SqlState.invalidParameterValue, `invalid value for parameter "master_nodes": "${value}"`, { detail: `"${e}" is not host:port.` })
    }
    out.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port, dbname: 'concord', user: null, password: null })
  }
  return out
}
