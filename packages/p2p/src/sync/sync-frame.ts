/**
 * Frames of the direct-message protocol ('/concord/sync/1.0.0'), one per length-prefixed
 * message on a stream.
 *
 * Layout, version 1: [version u8][type u8][payload ...]
 *   HELLO (1): UTF-8 JSON {nodeId, addrs}: the first frame on every stream; names the
 *              sender by its replica node id and lists the multiaddrs it listens on.
 *   DATA  (2): opaque bytes for the replica (`Transport.send`).
 *   PEERS (3): UTF-8 JSON {addrs}: dialable multiaddrs of other cluster members
 *              (peer exchange).
 * Everything comes from the network, so decoding checks every length, count and tag.
 */
export const SYNC_PROTOCOL = '/concord/sync/1.0.0'
export const SYNC_FRAME_VERSION = 1

const TYPE_HELLO = 1
const TYPE_DATA = 2
const TYPE_PEERS = 3

export const MAX_NODE_ID_BYTES = 256
export const MAX_ADDR_CHARS = 512
export const MAX_ADDRS = 64

export type SyncFrame =
  | { type: 'hello'; nodeId: string; addrs: string[] }
  | { type: 'data'; data: Uint8Array }
  | { type: 'peers'; addrs: string[] }

export class SyncFrameError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SyncFrameError'
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeSyncFrame(frame: SyncFrame): Uint8Array {
  switch (frame.type) {
    case 'data': {
      const out = new Uint8Array(2 + frame.data.length)
      out[0] = SYNC_FRAME_VERSION
      out[1] = TYPE_DATA
      out.set(frame.data, 2)
      return out
    }
    case 'hello':
      checkNodeId(frame.nodeId)
      return withHeader(TYPE_HELLO, encoder.encode(JSON.stringify({ nodeId: frame.nodeId, addrs: checkAddrs(frame.addrs) })))
    case 'peers':
      return withHeader(TYPE_PEERS, encoder.encode(JSON.stringify({ addrs: checkAddrs(frame.addrs) })))
  }
}

export function decodeSyncFrame(bytes: Uint8Array): SyncFrame {
  if (bytes.length < 2) throw new SyncFrameError(`frame of ${bytes.length} bytes`)
  if (bytes[0] !== SYNC_FRAME_VERSION) throw new SyncFrameError(`unknown frame version ${bytes[0]}`)
  const payload = bytes.subarray(2)
  switch (bytes[1]) {
    case TYPE_DATA:
      return { type: 'data', data: payload }
    case TYPE_HELLO: {
      const body = parseJson(payload, 4096)
      if (typeof body.nodeId !== 'string') throw new SyncFrameError('hello without a node id')
      checkNodeId(body.nodeId)
      return { type: 'hello', nodeId: body.nodeId, addrs: checkAddrs(body.addrs) }
    }
    case TYPE_PEERS:
      return { type: 'peers', addrs: checkAddrs(parseJson(payload, 64 * 1024).addrs) }
    default:
      throw new SyncFrameError(`unknown frame type ${bytes[1]}`)
  }
}

function withHeader(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + payload.length)
  out[0] = SYNC_FRAME_VERSION
  out[1] = type
  out.set(payload, 2)
  return out
}

function parseJson(payload: Uint8Array, maxBytes: number): Record<string, unknown> {
  if (payload.length > maxBytes) throw new SyncFrameError(`control frame of ${payload.length} bytes exceeds ${maxBytes}`)
  let body: unknown
  try {
    body = JSON.parse(decoder.decode(payload))
  } catch {
    throw new SyncFrameError('control frame is not UTF-8 JSON')
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SyncFrameError('control frame is not an object')
  return body as Record<string, unknown>
}

function checkNodeId(nodeId: string): void {
  const n = encoder.encode(nodeId).length
  if (n === 0 || n > MAX_NODE_ID_BYTES || nodeId.includes('\u0000')) throw new SyncFrameError(`invalid node id of ${n} bytes`)
}

function checkAddrs(addrs: unknown): string[] {
  if (!Array.isArray(addrs)) throw new SyncFrameError('addrs is not a list')
  if (addrs.length > MAX_ADDRS) throw new SyncFrameError(`${addrs.length} addrs exceed ${MAX_ADDRS}`)
  for (const a of addrs) {
    if (typeof a !== 'string' || a.length === 0 || a.length > MAX_ADDR_CHARS || !a.startsWith('/')) {
      throw new SyncFrameError('invalid multiaddr in addrs')
    }
  }
  return addrs as string[]
}
