/**
 * What a page's `join` accepts, turned into the WebSocket multiaddrs it dials. The forms
 * follow `concord start --join` (a list, each entry repeatable or comma-separated; a
 * multiaddr; `host:port`; a URL), with what a page can reach instead of TCP:
 *
 * - a multiaddr (`/ip4/10.0.0.5/tcp/4002/ws/p2p/12D3KooW...`): used as is; it must be a
 *   `/ws` or `/wss` one, as a page opens WebSockets only;
 * - `ws://host:port` or `wss://host:port`: that WebSocket listener;
 * - `host:port` (`[v6]:port` too): the node's WebSocket port (`--ws-port`), `/wss` when
 *   the page itself is HTTPS (browsers refuse plain WebSockets from HTTPS pages);
 * - `postgres://...`: refused with a clear error: `concord start --join` asks that
 *   address for the node's libp2p addresses over PostgreSQL, which a page cannot speak.
 *
 * Without `/p2p/<id>` the peer id is learned from the first connection (join-loop.ts).
 * Invariants: every returned address is a WebSocket multiaddr; anything else throws a
 * `JoinAddressError` naming the entry and what to give instead.
 */
import { isWebSocketAddr } from './dial-policy.js'

export class JoinAddressError extends Error {
  constructor(entry: string, why: string) {
    super(`join '${entry}': ${why}`)
    this.name = 'JoinAddressError'
  }
}

const HINT = "give the node's WebSocket address: host:ws-port, ws://host:port, or the /ws multiaddr from SHOW concord.p2p_addresses"

/** Expands a join list (entries may be comma-separated) into WebSocket multiaddrs. */
export function joinAddresses(join: string | readonly string[], secure = false): string[] {
  const entries = (typeof join === 'string' ? [join] : join).flatMap((e) => e.split(',')).map((e) => e.trim()).filter((e) => e !== '')
  return entries.map((e) => toWebSocketMultiaddr(e, secure))
}

export function toWebSocketMultiaddr(entry: string, secure: boolean): string {
  if (entry.startsWith('/')) {
    if (!isWebSocketAddr(entry)) throw new JoinAddressError(entry, `a page can dial only /ws or /wss addresses; ${HINT}`)
    return entry
  }
  if (/^postgres(ql)?:\/\//i.test(entry)) throw new JoinAddressError(entry, `a page cannot open PostgreSQL connections; ${HINT}`)
  const url = /^wss?:\/\//i.test(entry) ? parseUrl(entry) : undefined
  if (url) {
    const wss = url.protocol === 'wss:'
    const port = url.port !== '' ? Number(url.port) : wss ? 443 : 80
    if (url.pathname !== '/' && url.pathname !== '') throw new JoinAddressError(entry, 'a WebSocket URL with a path is not a node listener')
    return `${hostPart(url.hostname.replace(/^\[|\]$/g, ''))}/tcp/${port}/${wss ? 'wss' : 'ws'}`
  }
  const m = /^(\[[^\]]+\]|[^:/\s]+):(\d{1,5})$/.exec(entry)
  if (!m) throw new JoinAddressError(entry, `neither host:port, a ws:// URL nor a multiaddr; ${HINT}`)
  const port = Number(m[2])
  if (port < 1 || port > 65535) throw new JoinAddressError(entry, 'bad port')
  return `${hostPart(m[1]!.replace(/^\[|\]$/g, ''))}/tcp/${port}/${secure ? 'wss' : 'ws'}`
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

function hostPart(host: string): string {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return `/ip4/${host}`
  if (host.includes(':')) return `/ip6/${host}`
  return `/dns/${host}`
}
