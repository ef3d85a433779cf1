import { describe, expect, it } from 'vitest'
import { FrameError, FrameGuard } from './frame-guard.js'
import { startupMessage } from './raw-wire-socket.fixture.js'

function startup(): Uint8Array {
  return startupMessage({ user: 'concord' })
}

describe('FrameGuard', () => {
  it('follows SSLRequest, startup and typed messages split across chunks', () => {
    const ssl = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
    const query = Buffer.concat([Buffer.from([0x51, 0, 0, 0, 13]), Buffer.from('select 1\0')])
    const all = Buffer.concat([ssl, startup(), query, query])
    const g = new FrameGuard()
    for (let i = 0; i < all.length; i += 3) g.feed(all.subarray(i, i + 3))
  })
  it('rejects an HTTP request, negative and oversized lengths', () => {
    expect(() => new FrameGuard().feed(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(FrameError)
    expect(() => new FrameGuard().feed(Buffer.alloc(16, 0xff))).toThrow(FrameError)
    const g = new FrameGuard(1000)
    g.feed(startup())
    expect(() => g.feed(Buffer.from([0x51, 0, 0, 0x10, 0]))).toThrow(/length/)
  })
})

describe('FrameGuard on a short initial packet', () => {
  it('rejects an initial length below 8 as soon as its four bytes arrive, before the rest of the header', () => {
    // Found by test/fuzz/pg-wire.fuzz.test.ts: 4 to 7 zero bytes froze the whole node.
    expect(() => new FrameGuard().feed(Buffer.alloc(7))).toThrow(/initial message length 0/)
    expect(() => new FrameGuard().feed(Buffer.from([0, 0, 0, 4]))).toThrow(/initial message length 4/)
    const g = new FrameGuard()
    g.feed(Buffer.from([0, 0]))
    expect(() => g.feed(Buffer.from([0, 0]))).toThrow(FrameError)
    expect(() => new FrameGuard().feed(Buffer.from([0, 0, 0]))).not.toThrow()
  })
})
