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
    expect([t.tables, t.readOnly, t.regions, t.readOnlyRegions, t.expires]).toEqual([['notes'], ['prices'], [], [], 99])
    // A region token made before read-only regions: its regions, none read-only.
    const regional = decodeBrowserToken(token({ k: b64url(privateKeyToProtobuf(key)), t: [], e: 99, g: ['eu'] }))
    expect([regional.regions, regional.readOnlyRegions]).toEqual([['eu'], []])
  })

  it('round-trip read-only regions apart from the read-write ones, alone or with them', async () => {
    const key = await generateKeyPair('Ed25519')
    const t = decodeBrowserToken(encodeBrowserToken(key, ['notes'], 1234, [], ['us'], ['eu']))
    expect([t.tables, t.regions, t.readOnlyRegions]).toEqual([['notes'], ['us'], ['eu']])
    // Read-only regions alone make a token.
    const alone = decodeBrowserToken(encodeBrowserToken(key, [], 1, [], [], ['eu']))
    expect([alone.regions, alone.readOnlyRegions]).toEqual([[], ['eu']])
    // The field is written only when there is one (older pages decode such tokens as before).
    const body = (tok: string): Record<string, unknown> =>
      JSON.parse(Buffer.from(tok.slice('concord-browser-1.'.length), 'base64url').toString('utf8'))
    expect(body(encodeBrowserToken(key, [], 1, [], ['eu']))).not.toHaveProperty('rg')
    expect(body(encodeBrowserToken(key, [], 1, [], [], ['eu']))).toMatchObject({ rg: ['eu'] })
  })

  it('refuse damaged read-only region lists: not names, a region in both lists, more than 64 regions in the two', async () => {
    const k = b64url(privateKeyToProtobuf(await generateKeyPair('Ed25519')))
    const regions = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `r${from + i}`)
    const damaged = [
      { rg: 'eu' }, { rg: [1] }, { rg: [''] }, { g: ['eu'], rg: ['eu'] }, { g: regions(32), rg: regions(33, 32) }, { rg: regions(65) },
    ]
    for (const fields of damaged) {
      expect(() => decodeBrowserToken(token({ k, t: [], e: 1, ...fields })), JSON.stringify(fields).slice(0, 40)).toThrow('damaged')
    }
    expect(decodeBrowserToken(token({ k, t: [], e: 1, g: regions(32), rg: regions(32, 32) })).readOnlyRegions).toHaveLength(32)
  })

  it('refuse damaged region lists: not an array, not names, too many, and a token naming nothing', async () => {
    const k = b64url(privateKeyToProtobuf(await generateKeyPair('Ed25519')))
    for (const g of ['eu', [1], [''], ['x'.repeat(257)], Array.from({ length: 65 }, (_, i) => `r${i}`)]) {
      expect(() => decodeBrowserToken(token({ k, t: ['notes'], e: 1, g })), JSON.stringify(g).slice(0, 40)).toThrow('damaged')
    }
    expect(() => decodeBrowserToken(token({ k, t: [], e: 1, g: [] }))).toThrow('damaged')
  })
})
