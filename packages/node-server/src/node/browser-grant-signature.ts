/**
 * The signature on a browser grant (browser-grants.ts): the issuing node signs, with its
 * libp2p identity key (Ed25519, `<data-dir>/peer.key`), which browser identity may read and
 * write which tables and regions until when. Any node verifies it with the public key inside the
 * issuer's PeerId (an Ed25519 PeerId is the identity multihash of its public key), so a
 * grant needs no shared secret and cannot be altered or made up by whoever relays the
 * catalog.
 *
 * Signed bytes, version 1 (a grant without read-only tables): UTF-8 of
 * `concord-browser-grant-1`, the browser PeerId, the expiry (ms, decimal), the issuer
 * PeerId and the table names, joined by U+0000 (names and PeerIds cannot hold it).
 * Version 2 (with read-only tables): `concord-browser-grant-2`, the same fields, the count
 * of writable tables (decimal), the writable tables, then the read-only ones, so no table
 * moves between the lists without breaking the signature, and a version-1 signature never
 * verifies a grant with read-only tables. Version 3 (with regions): `concord-browser-grant-3`,
 * the browser, expiry and issuer, then each list (writable tables, read-only tables,
 * regions) as its count (decimal) and its names, so a grant signed without regions never
 * verifies with regions added and a name never moves between lists. A grant without
 * regions is still signed as version 1 or 2, so grants issued before regions existed
 * verify as they did, and a node that predates regions verifies no grant with regions
 * (it admits nobody for it rather than the tables alone). Version 4 (with read-only
 * regions): `concord-browser-grant-4`, the fields of version 3, then the read-only regions
 * as a fourth list (count and names), so no region moves between the two region lists
 * without breaking the signature. A grant without read-only regions is signed as before,
 * and a node that predates them verifies no grant with them (it ignores the field and
 * builds an earlier version's bytes, which never match): it admits nobody for such a
 * grant rather than read and write the read-only regions. Only Ed25519 identities sign
 * or verify; anything else is false.
 */
import { createPublicKey, sign, verify } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { ed25519KeyObject } from '../transport/peer-key.js'

export interface SignedGrant {
  browser: string
  tables: readonly string[]
  /** Tables the browser may only read; absent or empty: none (a version-1 grant). */
  readOnly?: readonly string[]
  /** Regions whose shards the browser may read and write; absent or empty: none (version 1 or 2). */
  regions?: readonly string[]
  /** Regions whose shards the browser may only read; absent or empty: none (version 1, 2 or 3). */
  readOnlyRegions?: readonly string[]
  expires: number
  issuer: string
}

const DOMAIN = 'concord-browser-grant-1'
const DOMAIN_READ_ONLY = 'concord-browser-grant-2'
const DOMAIN_REGIONS = 'concord-browser-grant-3'
const DOMAIN_READ_ONLY_REGIONS = 'concord-browser-grant-4'
/** An Ed25519 PeerId's bytes: identity multihash (0x00, 36 bytes) of the protobuf PublicKey {Type: Ed25519, Data: 32 bytes}. */
const ED25519_PEER_ID_PREFIX = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20]
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

function payload(g: SignedGrant): Buffer {
  const readOnly = g.readOnly ?? []
  const regions = g.regions ?? []
  const readOnlyRegions = g.readOnlyRegions ?? []
  const head = [g.browser, String(g.expires), g.issuer]
  const list = (names: readonly string[]): string[] => [String(names.length), ...names]
  // The earliest version that holds every list the grant names (so older grants verify as they did).
  let fields: string[]
  if (readOnlyRegions.length > 0) fields = [DOMAIN_READ_ONLY_REGIONS, ...head, ...list(g.tables), ...list(readOnly), ...list(regions), ...list(readOnlyRegions)]
  else if (regions.length > 0) fields = [DOMAIN_REGIONS, ...head, ...list(g.tables), ...list(readOnly), ...list(regions)]
  else if (readOnly.length > 0) fields = [DOMAIN_READ_ONLY, ...head, String(g.tables.length), ...g.tables, ...readOnly]
  else fields = [DOMAIN, ...head, ...g.tables]
  return Buffer.from(fields.join('\u0000'), 'utf8')
}

/** The signature (base64url) of `g` by `key`, which must be the issuer's Ed25519 identity. */
export function signGrant(key: PrivateKey, g: SignedGrant): string {
  if (key.type !== 'Ed25519' || key.publicKey.toString() !== g.issuer) throw new Error('a browser grant is signed by its issuer\'s Ed25519 identity')
  return sign(null, payload(g), ed25519KeyObject(key)).toString('base64url')
}

/** Whether `signature` is the issuer's signature of `g`. */
export function verifyGrant(g: SignedGrant, signature: string): boolean {
  const raw = ed25519PublicKeyOf(g.issuer)
  if (raw === null || !/^[A-Za-z0-9_-]{86}$/.test(signature)) return false
  try {
    const keyObject = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' })
    return verify(null, payload(g), keyObject, Buffer.from(signature, 'base64url'))
  } catch {
    return false
  }
}

/** The raw Ed25519 public key inside a PeerId (base58btc text), or null when it holds none. */
export function ed25519PublicKeyOf(peerId: string): Buffer | null {
  if (peerId.length > 64) return null
  let n = 0n
  for (const c of peerId) {
    const v = BASE58.indexOf(c)
    if (v < 0) return null
    n = n * 58n + BigInt(v)
  }
  const bytes: number[] = []
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn))
    n >>= 8n
  }
  // Leading '1's are leading zero bytes.
  for (const c of peerId) {
    if (c !== '1') break
    bytes.unshift(0)
  }
  if (bytes.length !== ED25519_PEER_ID_PREFIX.length + 32 || !ED25519_PEER_ID_PREFIX.every((b, i) => bytes[i] === b)) return null
  return Buffer.from(bytes.slice(ED25519_PEER_ID_PREFIX.length))
}
