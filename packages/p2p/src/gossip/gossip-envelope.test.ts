import { describe, expect, it } from 'vitest'
import { decodeGossipEnvelope, encodeGossipEnvelope, GossipEnvelopeError } from './gossip-envelope.js'

describe('gossip envelope', () => {
  it('round trips origin and data', () => {
    expect(decodeGossipEnvelope(encodeGossipEnvelope('node-é', Uint8Array.of(7)))).toEqual({ origin: 'node-é', data: Uint8Array.of(7) })
  })
  it('rejects truncated and foreign envelopes', () => {
    expect(() => decodeGossipEnvelope(Uint8Array.of(1, 9, 65))).toThrow(GossipEnvelopeError)
    expect(() => decodeGossipEnvelope(Uint8Array.of(7, 1, 65))).toThrow(/version/)
    expect(() => decodeGossipEnvelope(Uint8Array.of(1, 0, 65))).toThrow(GossipEnvelopeError)
  })
})
