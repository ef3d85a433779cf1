import { describe, expect, it } from 'vitest'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { decodeBrowserToken, encodeBrowserToken } from './browser-token.js'

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
const token = (body: unknown): string => 'concord-browser-1.' + b64url(new TextEncoder().encode(JSON.stringify(body)))

describe('browser tokens', () => {
  it('round-trip tables, read-only tables, regions and the expiry', async () => {
    const key = await generateKeyPair('Ed25519')
    const t = decodeBrowserToken(encodeBrowserToken(key, ['notes'], 1234, ['prices'], ['eu-central']))
    expect([t.peerId, t.tables, t.readOnly, t.regions, t.expires])
      .toEqual([key.publicKey.toString(), ['notes'], ['prices'], ['eu-central'], 1234])
    // Regions alone make a token.
    expect(decodeBrowserToken(encodeBrowserToken(key, [], 1, [], ['eu-central'])).regions).toEqual(['eu-central'])
  })

  it('decode a token made before regions existed as it was: its tables, no region', async () => {
    const key = await generateKeyPair('Ed25519')
    const old = token({ k: b64url(privateKeyToProtobuf(key)), t: ['notes'], e: 99, r: ['prices'] })
    const t = decodeBrowserToken(old)
    expect([t.tables, t.readOnly, t.regions, t.expires]).toEqual([['notes'], ['prices'], [], 99])
  })

  it('refuse damaged region lists: not an array, not names, too many, and a token naming nothing', async () => {
    const k = b64url(privateKeyToProtobuf(await generateKeyPair('Ed25519')))
    for (const g of ['eu', [1], [''], ['x'.repeat(257)], Array.from({ length: 65 }, (_, i) => `r${i}`)]) {
      expect(() => decodeBrowserToken(token({ k, t: ['notes'], e: 1, g })), JSON.stringify(g).slice(0, 40)).toThrow('damaged')
    }
    expect(() => decodeBrowserToken(token({ k, t: [], e: 1, g: [] }))).toThrow('damaged')
  })
})
