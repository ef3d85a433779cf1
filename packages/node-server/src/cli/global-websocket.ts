/**
 * A global `WebSocket` for Node 20, where it exists only behind `--experimental-websocket`
 * (docs/decisions/0015-node-20-runtime.md). libp2p's WebSockets transport dials
 * with the global, so without one a node cannot dial a WebSockets address.
 *
 * Node 20's own WebSocket is undici's: installing undici's from the npm package gives the
 * same implementation in this process, with no flag and no second process. (The `ws`
 * package as the global breaks the private-network handshake over WebSockets.)
 *
 * The global is a getter that loads undici the first time something reads it (a
 * WebSockets dial): loading undici took about 0.4 s of a node's 2.3 s start to first
 * query, and a node that never dials a WebSockets address never needs it
 * (docs/benchmarks.md, "Start-up, catch-up and memory (wave 8)").
 *
 * Invariants: never replaces a WebSocket the runtime already has (Node 22+, or Node 20
 * started with the flag); loads undici only when it is missing, and then only once; a
 * value assigned to the global replaces the getter, as an assignment to the plain
 * property did.
 */
import { createRequire } from 'node:module'

type WebSocketClass = typeof globalThis.WebSocket

/** undici's WebSocket, loaded synchronously (a getter cannot wait); undici is CommonJS. */
function loadUndiciWebSocket(): WebSocketClass {
  const require = createRequire(import.meta.url)
  return (require('undici') as { WebSocket: WebSocketClass }).WebSocket
}

/**
 * Installs the global on `target` (globalThis unless a test gives another object) unless
 * it has one; `load` is called on the first read of the global, at most once.
 */
export function installGlobalWebSocket(
  target: object = globalThis,
  load: () => WebSocketClass = loadUndiciWebSocket,
): 'native' | 'undici' {
  const present = Object.getOwnPropertyDescriptor(target, 'WebSocket') !== undefined
  if (present || typeof (target as { WebSocket?: unknown }).WebSocket === 'function') return 'native'
  let loaded: WebSocketClass | undefined
  Object.defineProperty(target, 'WebSocket', {
    get: () => (loaded ??= load()),
    set: (value: unknown) => {
      Object.defineProperty(target, 'WebSocket', { value, writable: true, configurable: true, enumerable: false })
    },
    configurable: true,
    enumerable: false,
  })
  return 'undici'
}

/** `installGlobalWebSocket` on globalThis (kept async for its callers that await it). */
export function ensureGlobalWebSocket(): Promise<'native' | 'undici'> {
  return Promise.resolve(installGlobalWebSocket())
}
