/**
 * Which addresses a browser replica dials. Pure functions of a multiaddr's text.
 *
 * A page can open WebSockets only (no TCP, no listening), so only `/ws` and `/wss`
 * addresses are dialable. libp2p's default gater in browsers refuses private and
 * loopback addresses; a replica talking to node peers on a LAN or on the same machine
 * needs exactly those, so the gater here allows them (the app chose its `join` list).
 */
import { peerIdOf } from '@concord/p2p'

const IPV4_LOOPBACK = /^127\./
const IPV4_PRIVATE = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.)/

/** Whether a multiaddr names a WebSocket endpoint a page can dial. */
export function isWebSocketAddr(addr: string): boolean {
  const parts = addr.split('/')
  return parts.includes('ws') || parts.includes('wss')
}

/** Loopback or private-range hosts: the addresses browsers refuse by default. */
export function isLocalAddr(addr: string): boolean {
  const parts = addr.split('/')
  const i4 = parts.indexOf('ip4')
  if (i4 >= 0) {
    const host = parts[i4 + 1] ?? ''
    return IPV4_LOOPBACK.test(host) || IPV4_PRIVATE.test(host)
  }
  const i6 = parts.indexOf('ip6')
  if (i6 >= 0) {
    const host = (parts[i6 + 1] ?? '').toLowerCase()
    return host === '::1' || host.startsWith('fc') || host.startsWith('fd') || host.startsWith('fe80')
  }
  const dns = Math.max(parts.indexOf('dns'), parts.indexOf('dns4'), parts.indexOf('dns6'))
  return dns >= 0 && parts[dns + 1] === 'localhost'
}

/** Gater rule: dial WebSocket addresses, loopback and private ones included. */
export function denyDial(addr: string): boolean {
  return !isWebSocketAddr(addr)
}

/** Peer-exchange addresses worth dialing: WebSocket, with a peer id, unspecified hosts dropped. */
export function exchangeCandidates(addrs: readonly string[], limit: number): string[] {
  const out: string[] = []
  for (const a of addrs) {
    if (out.length >= limit) break
    if (!isWebSocketAddr(a) || peerIdOf(a) === undefined) continue
    if (a.includes('/ip4/0.0.0.0/') || a.includes('/ip6/::/')) continue
    out.push(a)
  }
  return out
}
