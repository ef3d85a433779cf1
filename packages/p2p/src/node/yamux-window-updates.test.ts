import { describe, expect, it } from 'vitest'
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import type { Logger } from '@libp2p/interface'
import { updateDeferred } from './yamux-window-updates.js'

/** Yamux frame types (the specification's numbers; the library does not export its enum). */
const DATA = 0
const WINDOW_UPDATE = 1
const WINDOW = 256 * 1024

interface Header {
  type: number
  flag: number
  streamID: number
  length: number
}

function quietLog(): Logger {
  const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => log })
  return log as unknown as Logger
}

/**
 * Two ends of one Yamux stream, each the library's own YamuxStream, joined back to back:
 * what one sends the other handles in a later microtask, as a muxer would after reading it.
 */
function streamPair(state: StreamState, rtt = -1) {
  const frames: Array<{ from: 'a' | 'b'; header: Header }> = []
  const ends: Record<'a' | 'b', YamuxStream> = {} as Record<'a' | 'b', YamuxStream>
  const make = (name: 'a' | 'b', other: 'a' | 'b'): YamuxStream =>
    new YamuxStream({
      id: '1',
      streamId: 1,
      state,
      direction: name === 'a' ? 'outbound' : 'inbound',
      log: quietLog(),
      getRTT: () => rtt,
      sendFrame: (header: Header, body?: { subarray(): Uint8Array }) => {
        frames.push({ from: name, header })
        const data = body === undefined ? null : body.subarray()
        queueMicrotask(() => {
          const frame = { header, data } as never
          if (header.type === DATA) ends[other].handleData(frame)
          else ends[other].handleWindowUpdate(frame)
        })
        return true
      },
    } as never)
  ends.a = make('a', 'b')
  ends.b = make('b', 'a')
  return { ...ends, frames }
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

describe('Yamux window updates', () => {
  it('sends one once half the receive window is used, not one per data frame', async () => {
    const { a, b, frames } = streamPair(StreamState.Established)
    const received: number[] = []
    b.addEventListener('message', (e) => received.push(e.data.byteLength))
    // 100 small messages, as replication sends one per commit: 100 data frames, no update.
    for (let i = 0; i < 100; i++) {
      a.send(new Uint8Array(200))
      await settle()
    }
    expect(received.reduce((s, n) => s + n, 0)).toBe(100 * 200)
    expect(frames.filter((f) => f.from === 'a' && f.header.type === DATA)).toHaveLength(100)
    expect(frames.filter((f) => f.from === 'b')).toHaveLength(0)
    // Past half the window: one update, for everything used so far.
    a.send(new Uint8Array(WINDOW / 2))
    await settle()
    const updates = frames.filter((f) => f.from === 'b')
    expect(updates).toHaveLength(1)
    expect(updates[0]!.header).toMatchObject({ type: WINDOW_UPDATE, flag: 0, length: 100 * 200 + WINDOW / 2 })
  })

  it.each([
    ['without', -1],
    ['with', 1000],
  ])('never leaves a sender without window (%s the window growing): 8 MiB in 1 KiB messages arrive whole', async (_, rtt) => {
    const { a, b, frames } = streamPair(StreamState.Established, rtt)
    let bytes = 0
    let checksum = 0
    b.addEventListener('message', (e) => {
      const chunk = e.data.subarray()
      bytes += chunk.byteLength
      for (let i = 0; i < chunk.length; i += 97) checksum = (checksum + chunk[i]! * (i + 1)) % 1_000_003
    })
    let expected = 0
    const total = 8 * 1024 * 1024
    for (let sent = 0, n = 0; sent < total; sent += 1024, n++) {
      const chunk = new Uint8Array(1024).fill(n % 251)
      for (let i = 0; i < chunk.length; i += 97) expected = (expected + chunk[i]! * (i + 1)) % 1_000_003
      if (!a.send(chunk)) await a.onDrain()
      if (n % 64 === 0) await settle()
    }
    for (let i = 0; i < 100 && bytes < total; i++) await settle()
    expect(bytes).toBe(total)
    expect(checksum).toBe(expected)
    const updates = frames.filter((f) => f.from === 'b' && f.header.type === WINDOW_UPDATE)
    // 8 MiB through a 256 KiB window needs an update per half window at most: 64 (fewer
    // as the window grows, which a round trip the library measures long lets it do).
    expect(updates.length).toBeGreaterThanOrEqual(1)
    expect(updates.length).toBeLessThanOrEqual(64)
    if (rtt < 0) expect(updates.length).toBeGreaterThanOrEqual(total / WINDOW)
  })

  it('leaves the flagged updates of an opening stream to the library', () => {
    expect(updateDeferred({ state: StreamState.SYNReceived, recvWindow: WINDOW, recvWindowCapacity: WINDOW - 10 })).toBe(false)
    expect(updateDeferred({ state: StreamState.Init, recvWindow: WINDOW, recvWindowCapacity: WINDOW })).toBe(false)
    expect(updateDeferred({ state: StreamState.Established, recvWindow: WINDOW, recvWindowCapacity: WINDOW - 10 })).toBe(true)
    // Fields the library no longer has: its own behaviour.
    expect(updateDeferred({ state: StreamState.Established })).toBe(false)
  })

  it('answers an opening stream\'s first data frame with its ACK', async () => {
    const { a, frames } = streamPair(StreamState.SYNReceived)
    a.send(new Uint8Array(10))
    await settle()
    // a was SYNReceived: its data frame carried the ACK; b, SYNReceived too, answers with its own.
    const fromB = frames.filter((f) => f.from === 'b')
    expect(fromB).toHaveLength(1)
    expect(fromB[0]!.header.flag).not.toBe(0)
  })
})
