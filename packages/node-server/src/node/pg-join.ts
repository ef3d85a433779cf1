/**
 * `--join host:port` with a PostgreSQL address: asks that node for its libp2p addresses
 * over the PostgreSQL protocol (`SHOW concord.p2p_addresses`, answered by the SQL layer),
 * so users can join a cluster with the address they already know, as the seed's
 * `CREATE SUBSCRIPTION .. CONNECTION 'postgresql://host:port/db'` does. A joiner holding
 * a join token redeems it on the same connection (join-tokens.ts). The pg client loads
 * on the first such join, not with the node.
 */

export const P2P_ADDRESSES_QUERY = 'SHOW concord.p2p_addresses'

export interface PgAddress {
  host: string
  port: number
}

/** Parses 'host:port', 'host' (port 5432) or 'postgres[ql]://user@host:port/db'; null if it is a multiaddr. */
export function parsePgAddress(addr: string): PgAddress | null {
  if (addr.startsWith('/')) return null
  if (/^postgres(ql)?:\/\//.test(addr)) {
    const u = new URL(addr)
    return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 5432 }
  }
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(addr)
  if (!m) throw new Error(`--join '${addr}' is neither host:port nor a multiaddr`)
  const port = m[2] ? Number(m[2]) : 5432
  if (port < 1 || port > 65535) throw new Error(`--join '${addr}': bad port`)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port }
}

/**
 * The peer's dialable multiaddrs, best first: TCP on the host we reached it by, then the
 * rest. With `admit`, first redeems a join token there for this node's PeerId (the
 * statement's error, 28000 for a bad token, is thrown as it is).
 */
export async function fetchP2pAddresses(
  addr: PgAddress,
  password: string | undefined,
  admit?: { peerId: string; token: string },
  timeoutMs = 5000,
): Promise<string[]> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ host: addr.host, port: addr.port, user: 'concord', database: 'concord', password, connectionTimeoutMillis: timeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    if (admit !== undefined) await client.query(`ALTER SYSTEM ADD NODE ${quote(admit.peerId)} WITH JOIN TOKEN ${quote(admit.token)}`)
    const r = await client.query<{ address: string }>(P2P_ADDRESSES_QUERY)
    const all = r.rows.map((row) => row.address).filter((a) => typeof a === 'string' && a.startsWith('/'))
    const score = (a: string): number => (a.includes(`/${addr.host}/`) ? 0 : 2) + (a.includes('/ws') ? 1 : 0)
    return all.sort((a, b) => score(a) - score(b))
  } finally {
    await client.end().catch(() => {})
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}
