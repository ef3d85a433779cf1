import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { fromDuplexStream } from 'pg-gateway/node'
import { describe, expect, it } from 'vitest'
import { startupMessage } from './raw-wire-socket.fixture.js'
import { socketDuplex } from './socket-duplex.js'

/** Enough of a socket for socketDuplex: data events, pause and resume, destroy, write. */
function fakeSocket(): Socket & EventEmitter {
  const s = new EventEmitter() as Socket & EventEmitter
  Object.assign(s, { pause: () => s, resume: () => s, destroy: () => s, write: () => true, end: () => s, setNoDelay: () => s })
  return s
}

const startupPacket = startupMessage({ user: 'concord', database: 'concord' })

describe('socketDuplex', () => {
  it('hands pg-gateway a startup packet that arrives as a slice of a larger buffer whole, with its own length', async () => {
    const socket = fakeSocket()
    const duplex = socketDuplex(socket, () => {})
    const seen: number[] = []
    void fromDuplexStream(duplex, {
      onMessage(data) {
        seen.push(data.byteLength)
        // Bounded: before the fix pg-gateway read a length of 0 and handed over empty messages forever.
        if (seen.length > 10) throw new Error('too many messages')
        return new Uint8Array(0)
      },
    })
    // Zeros where pg-gateway looked for the length: the packet sits 64 bytes into its buffer.
    const pool = Buffer.alloc(64 + startupPacket.length)
    startupPacket.copy(pool, 64)
    socket.emit('data', pool.subarray(64))
    for (let i = 0; i < 20 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5))
    expect(seen).toEqual([startupPacket.length])
  })
})
