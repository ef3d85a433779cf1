/**
 * The envelope around every gossip message: the origin's replica node id, then the
 * replica's bytes. Gossip is relayed, so the libp2p sender is not necessarily the author,
 * and unsigned gossip carries no author at all.
 *
 * Layout, version 1: [version u8][node id length u8][node id UTF-8][data ...]
 */
import { MAX_NODE_ID_BYTES } from '../sync/sync-frame.js'

export const GOSSIP_ENVELOPE_VERSION = 1

export class GossipEnvelopeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'GossipEnvelopeError'
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeGossipEnvelope(origin: string, data: Uint8Array): Uint8Array {
  const id = encoder.encode(origin)
  if (id.length === 0 || id.length > Math.min(255, MAX_NODE_ID_BYTES)) throw new RangeError(`node id of ${id.length} bytes`)
  const out = new Uint8Array(2 + id.length + data.length)
  out[0] = GOSSIP_ENVELOPE_VERSION
  out[1] = id.length
  out.set(id, 2)
  out.set(data, 2 + id.length)
  return out
}

export function decodeGossipEnvelope(bytes: Uint8Array): { origin: string; data: Uint8Array } {
  if (bytes.length < 3) throw new GossipEnvelopeError(`envelope of ${bytes.length} bytes`)
  if (bytes[0] !== GOSSIP_ENVELOPE_VERSION) throw new GossipEnvelopeError(`unknown envelope version ${bytes[0]}`)
  const idLength = bytes[1]!
  if (idLength === 0 || 2 + idLength > bytes.length) throw new GossipEnvelopeError(`node id length ${idLength} out of range`)
  let origin: string
  try {
    origin = decoder.decode(bytes.subarray(2, 2 + idLength))
  } catch {
    throw new GossipEnvelopeError('node id is not UTF-8')
  }
  return { origin, data: bytes.subarray(2 + idLength) }
}
