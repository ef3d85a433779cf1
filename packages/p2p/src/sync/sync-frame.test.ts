import { describe, expect, it } from 'vitest'
import { decodeSyncFrame, encodeSyncFrame, SyncFrameError } from './sync-frame.js'

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
