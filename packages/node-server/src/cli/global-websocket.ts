/**
 * A global `WebSocket` for Node 20, where it exists only behind `--experimental-websocket`
 * (docs/decisions/0015-node-20-runtime.md). libp2p's WebSockets transport dials
 * with the global, so without one a node cannot dial a WebSockets address.
 *
 * Node 20's own WebSocket is undici's: installing undici's from the npm package gives the
 * same implementation in this process, with no flag and no second process. (The `ws`
 * package as the global breaks the private-network handshake over WebSockets.)
 *
 * Invariants: never replaces a WebSocket the runtime already has (Node 22+, or Node 20
 * started with the flag); loads undici only when it is missing.
 */
export async function ensureGlobalWebSocket(): Promise<'native' | 'undici'> {
  if (typeof globalThis.WebSocket === 'function') return 'native'
  const { WebSocket } = await import('undici')
  Object.defineProperty(globalThis, 'WebSocket', { value: WebSocket, writable: true, configurable: true, enumerable: false })
  return 'undici'
}
