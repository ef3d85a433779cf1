import '../node/promise-with-resolvers.js'
import { describe, expect, it } from 'vitest'
import { noise } from '@chainsafe/libp2p-noise'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { LengthPrefixedDecoder, multiaddrConnectionPair } from '@libp2p/utils'
import type { ConnectionEncrypter, Logger, MessageStream } from '@libp2p/interface'
import { quietLengthDecoder, readsQuietly, withQuietReads } from './noise-reads.js'

function quietLog(): Logger {
  const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => log })
  return log as unknown as Logger
}

async function encrypter(): Promise<ConnectionEncrypter> {
  const privateKey = await generateKeyPair('Ed25519')
  const components = { privateKey, logger: { forComponent: () => quietLog() }, upgrader: { getStreamMuxers: () => new Map() } }
  return withQuietReads(noise())(components as never)
}

/** What `stream` receives, as one array, once it holds `bytes`. */
function received(stream: MessageStream, bytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let total = 0
  return new Promise((resolve) => {
    stream.addEventListener('message', (evt) => {
      const chunk = evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()
      parts.push(chunk.slice())
      total += chunk.byteLength
      if (total < bytes) return
      const all = new Uint8Array(total)
      let at = 0
      for (const p of parts) {
        all.set(p, at)
        at += p.byteLength
      }
      resolve(all)
    })
  })
}

describe('Noise reads', () => {
  it('with the library\'s decoder, a buffer too short for a length waits for more, however the bytes arrive', () => {
    // Noise's framing: a big-endian u16 length, then the message.
    const u16 = (data: { byteLength: number }): number => {
      const list = data as unknown as { get(i: number): number }
      return list.get(0) * 256 + list.get(1)
    }
    const quiet = quietLengthDecoder(u16)
    expect(quiet(new Uint8Array(0))).toBe(0)
    expect(quiet(Uint8Array.of(1))).toBe(0)
    const bodies = [Uint8Array.of(7), new Uint8Array(300).fill(3), Uint8Array.of(), Uint8Array.of(1, 2, 3)]
    const wire: number[] = []
    for (const b of bodies) wire.push(b.byteLength >> 8, b.byteLength & 0xff, ...b)
    for (const cut of [1, 2, 3, 301, wire.length]) {
      const decoder = new LengthPrefixedDecoder({ lengthDecoder: quiet, encodingLength: () => 2 })
      const got: number[][] = []
      for (let at = 0; at < wire.length; at += cut) {
        for (const frame of decoder.decode(Uint8Array.from(wire.slice(at, at + cut)))) got.push([...frame.subarray()])
      }
      // The library's decoder drops empty messages either way.
      expect(got).toEqual(bodies.filter((b) => b.byteLength > 0).map((b) => [...b]))
    }
  })

  it('connections secured by the library read quietly and carry messages both ways whole, one over many Noise messages', async () => {
    const [outConn, inConn] = multiaddrConnectionPair()
    const [a, b] = [await encrypter(), await encrypter()]
    const [outbound, inbound] = await Promise.all([a.secureOutbound(outConn), b.secureInbound(inConn)])
    // The library's decoder was found and wrapped on both ends (fails if a later version renames it).
    expect(readsQuietly(outbound.connection)).toBe(true)
    expect(readsQuietly(inbound.connection)).toBe(true)
    const small = Uint8Array.from({ length: 300 }, (_, i) => i % 251)
    const large = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) % 253)
    const atB = received(inbound.connection, small.byteLength + large.byteLength)
    outbound.connection.send(small)
    outbound.connection.send(large)
    const gotB = await atB
    expect(gotB.subarray(0, small.byteLength)).toEqual(small)
    expect(gotB.subarray(small.byteLength)).toEqual(large)
    const atA = received(outbound.connection, small.byteLength)
    inbound.connection.send(small)
    expect(await atA).toEqual(small)
  })
})
