/**
 * Scoped browser tokens: what a node hands a browser replica so it may connect with a
 * limited scope (docs/security.md, "Scoped browser replicas"). A token carries the libp2p
 * identity the node created for that browser (its private key), the tables it may read
 * and write, the tables it may only read, the regions whose shards it may read and write
 * (core placement/region-scope.ts), those whose shards it may only read, and when it
 * expires. The node records the grant under that identity's PeerId when it issues the
 * token, and Noise proves the identity on every connection, so a token whose tables or
 * expiry were edited changes nothing: the node reads its own record.
 *
 * Layout, version 1: `concord-browser-1.` + base64url(UTF-8 JSON {k, t, e, r?, g?, rg?}):
 * k the key's protobuf bytes (base64url), t the tables it may read and write, r (absent:
 * none) the tables it may only read, g (absent: none) the regions it may read and write,
 * rg (absent: none) the regions it may only read, e the expiry (ms since the epoch); t, r,
 * g and rg together name at least one table or region, g and rg at most 64 regions
 * together and no region in both. `g` and `rg` were added later without a new version: a
 * token without them is what it always was, and a token with them gives an older page's
 * decoder only what it knows (it then refuses writes there itself, or the token whole
 * when it names nothing else; the node, which reads its own signed record, decides the
 * scope either way).
 * Decoding checks every field; a token is a credential, so it is never logged.
 */
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

const PREFIX = 'concord-browser-1.'
const MAX_TOKEN_CHARS = 64 * 1024
const MAX_TABLES = 256
const MAX_REGIONS = 64
const MAX_NAME_CHARS = 256

export interface BrowserToken {
  privateKey: PrivateKey
  /** The PeerId the browser connects as. */
  peerId: string
  /** Tables it may read and write. */
  tables: string[]
  /** Tables it may read only. */
  readOnly: string[]
  /** Regions whose shards it may read and write (core placement/region-scope.ts). */
  regions: string[]
  /** Regions whose shards it may read only. */
  readOnlyRegions: string[]
  /** Milliseconds since the epoch. */
  expires: number
}

export function encodeBrowserToken(
  privateKey: PrivateKey,
  tables: string[],
  expires: number,
  readOnly: string[] = [],
  regions: string[] = [],
  readOnlyRegions: string[] = [],
): string {
  const fields = { k: toBase64Url(privateKeyToProtobuf(privateKey)), t: tables, e: expires }
  const body = JSON.stringify({
    ...fields,
    ...(readOnly.length > 0 ? { r: readOnly } : {}),
    ...(regions.length > 0 ? { g: regions } : {}),
    ...(readOnlyRegions.length > 0 ? { rg: readOnlyRegions } : {}),
  })
  return PREFIX + toBase64Url(new TextEncoder().encode(body))
}

export function decodeBrowserToken(token: string): BrowserToken {
  if (token.length > MAX_TOKEN_CHARS || !token.startsWith(PREFIX)) throw new Error('not a Concord browser token')
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64Url(token.slice(PREFIX.length))))
  } catch {
    throw new Error('browser token is damaged')
  }
  const o = body as { k?: unknown; t?: unknown; e?: unknown; r?: unknown; g?: unknown; rg?: unknown }
  if (typeof body !== 'object' || body === null || typeof o.k !== 'string' || typeof o.e !== 'number' || !Array.isArray(o.t)) {
    throw new Error('browser token is damaged')
  }
  const r = o.r === undefined ? [] : o.r
  const g = o.g === undefined ? [] : o.g
  const rg = o.rg === undefined ? [] : o.rg
  if (!Array.isArray(r) || !Array.isArray(g) || !Array.isArray(rg)) throw new Error('browser token is damaged')
  const names = (list: unknown[]): boolean => list.every((x) => typeof x === 'string' && x.length > 0 && x.length <= MAX_NAME_CHARS)
  const count = o.t.length + r.length
  const tablesOk = [...o.t, ...r].every((x) => typeof x === 'string')
  const regionCount = g.length + rg.length
  if (count + regionCount === 0 || count > MAX_TABLES || regionCount > MAX_REGIONS || !tablesOk || !names(g) || !names(rg)) {
    throw new Error('browser token is damaged')
  }
  // A region both read-write and read-only is no scope a node issues.
  if (rg.some((x) => g.includes(x))) throw new Error('browser token is damaged')
  const privateKey = privateKeyFromProtobuf(fromBase64Url(o.k))
  const peerId = privateKey.publicKey.toString()
  const lists = { tables: o.t as string[], readOnly: r as string[], regions: g as string[], readOnlyRegions: rg as string[] }
  return { privateKey, peerId, ...lists, expires: o.e }
}

function toBase64Url(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url')
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}
