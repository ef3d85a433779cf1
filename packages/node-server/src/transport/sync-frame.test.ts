import { describe, expect, it } from 'vitest'
import { decodeSyncFrame, encodeSyncFrame, SyncFrameError } from './sync-frame.js'
import { decodeGossipEnvelope, encodeGossipEnvelope, GossipEnvelopeError } from './gossip-envelope.js'
import { backoffDelay } from './backoff.js'

const json = (s: string): Uint8Array => Uint8Array.of(1, 1, ...new TextEncoder().encode(s))

describe('sync frames', () => {
  it('round trip hello, data and peers', () => {
    const frames = [
      { type: 'hello' as const, nodeId: 'n1', addrs: ['/ip4/127.0.0.1/tcp/1'] },
      { type: 'data' as const, data: Uint8Array.of(0, 1, 255) },
      { type: 'peers' as const, addrs: [] },
    ]
    for (const f of frames) expect(decodeSyncFrame(encodeSyncFrame(f))).toEqual(f)
  })
  it('reject unknown versions and types, bad JSON, missing or oversized fields', () => {
    expect(() => decodeSyncFrame(Uint8Array.of(2, 2))).toThrow(SyncFrameError)
    expect(() => decodeSyncFrame(Uint8Array.of(1, 9))).toThrow(/type/)
    expect(() => decodeSyncFrame(Uint8Array.of(1))).toThrow(SyncFrameError)
    expect(() => decodeSyncFrame(json('{'))).toThrow(/JSON/)
    expect(() => decodeSyncFrame(json('[]'))).toThrow(/object/)
    expect(() => decodeSyncFrame(json('{"addrs":[]}'))).toThrow(/node id/)
    expect(() => decodeSyncFrame(json(`{"nodeId":"${'x'.repeat(300)}","addrs":[]}`))).toThrow(/node id/)
    expect(() => decodeSyncFrame(json('{"nodeId":"a","addrs":[1]}'))).toThrow(/multiaddr/)
    expect(() => decodeSyncFrame(Uint8Array.of(1, 1, 0xc3, 0x28))).toThrow(/UTF-8/)
  })
})

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

describe('backoff', () => {
  it('doubles from the initial delay up to the cap, with at most 25 % jitter', () => {
    const top = { random: () => 1 }
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, { initialMs: 100, ...top }))).toEqual([100, 200, 400, 800])
    expect(backoffDelay(50, { initialMs: 100, maxMs: 1000, ...top })).toBe(1000)
    expect(backoffDelay(0, { initialMs: 100, random: () => 0 })).toBe(75)
  })
})
