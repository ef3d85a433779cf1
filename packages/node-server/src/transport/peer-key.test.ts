import { describe, expect, it } from 'vitest'
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { newPeerKey, withKeptSigningKey } from './peer-key.js'

describe('the peer key signing with a kept key object', () => {
  it('signs as libp2p does, byte for byte, and is otherwise the same key', async () => {
    const key = await newPeerKey()
    const kept = withKeptSigningKey(key)
    for (const size of [0, 1, 300, 70_000]) {
      const message = new Uint8Array(size).map((_, i) => (i * 31 + size) & 255)
      const signature = await kept.sign(message)
      expect(signature).toBeInstanceOf(Uint8Array)
      expect(signature).toEqual(await key.sign(message))
      expect(await key.publicKey.verify(message, signature)).toBe(true)
      // A list of chunks (Uint8ArrayList) is signed as its bytes.
      const list = { subarray: () => message } as unknown as Uint8Array
      expect(await kept.sign(list)).toEqual(signature)
    }
    expect(kept.type).toBe('Ed25519')
    expect(kept.raw).toBe(key.raw)
    expect(kept.publicKey.equals(key.publicKey)).toBe(true)
    expect(kept.equals(key)).toBe(true)
    expect(privateKeyFromProtobuf(privateKeyToProtobuf(kept)).equals(key)).toBe(true)
    // A different key's signature does not verify: the kept key object is this key's.
    const other = withKeptSigningKey(await newPeerKey())
    expect(await key.publicKey.verify(new Uint8Array([1, 2, 3]), await other.sign(new Uint8Array([1, 2, 3])))).toBe(false)
  })

  it('honours an aborted signal as libp2p does', async () => {
    const kept = withKeptSigningKey(await newPeerKey())
    const ac = new AbortController()
    ac.abort()
    expect(() => kept.sign(new Uint8Array([1]), { signal: ac.signal })).toThrow()
  })
})
