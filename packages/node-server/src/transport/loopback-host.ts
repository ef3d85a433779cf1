/**
 * Whether an address is reachable from this machine only: 127.0.0.0/8, ::1, localhost.
 * Listeners on such addresses are "closed" in docs/security.md's sense (other users of
 * the machine can still reach them).
 */
export function isLoopbackHost(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === 'localhost'
}

/** The host of a listen multiaddr (`/ip4/<host>/tcp/..`, `/ip6/..`, `/dns4/..`); undefined if it has none. */
export function multiaddrHost(addr: string): string | undefined {
  const m = /^\/(?:ip4|ip6|dns|dns4|dns6)\/([^/]+)/.exec(addr)
  return m?.[1]
}
