/**
 * A connection's encrypted message written to its socket in one system call.
 *
 * `@libp2p/tcp` (11.0.x) sends what the layers above hand it, a list of buffers, with one
 * `socket.write` per buffer, and Noise hands it each message as its 2-byte length and its
 * ciphertext (for a large message, each part as Yamux and the sync protocol gave it, and
 * the tag). A socket that is not corked writes each at once: a single-row commit's gossip
 * went out as a write of 2 bytes and one of 121, the peer woken by the first to read two
 * bytes it could do nothing with (`strace` of a writer, docs/benchmarks.md "Noise frames in
 * one write"). Here the socket is corked while the library writes a list the socket takes
 * whole (at most its high-water mark, 16 KiB: one message, not a bulk transfer's run of
 * frames) and uncorked after it, so Node gathers the list into one `writev`.
 *
 * A larger list is left as the library writes it. Corked, its first large buffer waits in
 * the socket past the high-water mark, so the library's loop stops there until a drain
 * where, uncorked, the write completes at once and the loop goes on: a joiner's catch-up,
 * fed that way, took 1.1-1.3x the CPU.
 *
 * Applied to every transport of a node (libp2p-node.ts): each connection a transport dials
 * or accepts is given to the upgrader, and the upgrader this installs corks the connection
 * first if it has a socket that can be corked (TCP's), and leaves any other as it is.
 */
import type { MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'

/** The part of a Node socket this uses. */
interface Corkable {
  cork(): void
  uncork(): void
  readonly writableHighWaterMark: number
}

/** The fields of `@libp2p/tcp`'s connection this relies on (not in the interface's types). */
interface SocketConnection {
  socket?: unknown
  sendData?: (data: unknown) => unknown
}

const CORKED = Symbol.for('concord.corkedWrites')

function corkable(socket: unknown): socket is Corkable {
  const s = socket as Partial<Corkable> | null | undefined
  return typeof s?.cork === 'function' && typeof s.uncork === 'function' && typeof s.writableHighWaterMark === 'number'
}

/**
 * Makes `connection`'s writes of one list the socket takes whole go out in one system call;
 * true when it now does (false: it has no corkable socket, or a sending method shaped otherwise).
 */
export function corkWrites(connection: unknown): boolean {
  if (writesCorked(connection)) return true
  const c = connection as (SocketConnection & { [CORKED]?: true }) | null
  if (c === null || typeof c !== 'object') return false
  const socket = c.socket
  const send = c.sendData
  if (!corkable(socket) || typeof send !== 'function') return false
  c.sendData = function corkedSendData(this: unknown, data: unknown): unknown {
    // A list the socket takes whole (one message, not a bulk transfer's run of frames).
    const bytes = (data as { byteLength?: unknown } | null)?.byteLength
    if (typeof bytes !== 'number' || bytes > socket.writableHighWaterMark) return send.call(this, data)
    socket.cork()
    try {
      return send.call(this, data)
    } finally {
      socket.uncork()
    }
  }
  c[CORKED] = true
  return true
}

/** True when `connection`'s writes go out corked (`corkWrites`). */
export function writesCorked(connection: unknown): boolean {
  return (connection as { [CORKED]?: true } | null)?.[CORKED] === true
}

/** `upgrader`, corking each connection before upgrading it. */
function corkingUpgrader(upgrader: Upgrader): Upgrader {
  return new Proxy(upgrader, {
    get(target, prop) {
      if (prop === 'upgradeInbound' || prop === 'upgradeOutbound') {
        const upgrade = target[prop] as (maConn: MultiaddrConnection, options: unknown) => Promise<unknown>
        return (maConn: MultiaddrConnection, options: unknown) => {
          corkWrites(maConn)
          return upgrade.call(target, maConn, options)
        }
      }
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** `make`'s transport, whose connections write corked where they can (`corkWrites`). */
export function withCorkedWrites<C>(make: (components: C) => Transport): (components: C) => Transport {
  return (components) => {
    const transport = make(components)
    const dial = transport.dial.bind(transport)
    const createListener = transport.createListener.bind(transport)
    transport.dial = async (ma, options) => dial(ma, { ...options, upgrader: corkingUpgrader(options.upgrader) })
    transport.createListener = (options) => createListener({ ...options, upgrader: corkingUpgrader(options.upgrader) })
    return transport
  }
}
