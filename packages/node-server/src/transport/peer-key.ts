/**
 * The node's libp2p identity, kept in its data directory so its PeerId (and so the
 * `/p2p/..` part of its multiaddrs) survives restarts. File: the key's protobuf bytes,
 * owner-only (0600; a wider file from an older version is narrowed when loaded). A node
 * without a data directory (`--memory`) gets a new identity each start.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export async function loadOrCreatePeerKey(file: string): Promise<PrivateKey> {
  let bytes: Buffer | undefined
  try {
    bytes = readFileSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (bytes) {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new Error(`peer key file ${file} is corrupt: ${(err as Error).message}`)
    }
  }
  const key = await newPeerKey()
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  writeFileSync(file, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}

/** A fresh libp2p identity, kept nowhere. */
export function newPeerKey(): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

/**
 * `key` signing with a key object made once. libp2p's Ed25519 key imports itself into
 * Node's crypto (base64url, then `createPrivateKey` from a JWK) for every signature, and
 * gossipsub signs every message it publishes: the import was half of each signature's
 * 66 µs (31 µs with the key object kept). Ed25519 signatures are deterministic, so the
 * bytes are the same. Everything else (type, raw bytes, public key, equals) is `key`'s
 * own, read through the prototype; keys of other types are returned as they are.
 */
export function withKeptSigningKey(key: PrivateKey): PrivateKey {
  if (key.type !== 'Ed25519') return key
  const keyObject = ed25519KeyObject(key)
  const kept = Object.create(key) as PrivateKey
  Object.defineProperty(kept, 'sign', {
    value: (message: Uint8Array | { subarray(): Uint8Array }, options?: { signal?: AbortSignal }): Uint8Array => {
      options?.signal?.throwIfAborted()
      const bytes = message instanceof Uint8Array ? message : message.subarray()
      return sign(null, bytes, keyObject)
    },
  })
  return kept
}

/** An Ed25519 libp2p private key as Node's crypto holds it (for `sign`). */
export function ed25519KeyObject(key: PrivateKey): KeyObject {
  const d = Buffer.from(key.raw.subarray(0, 32)).toString('base64url')
  const x = Buffer.from(key.publicKey.raw).toString('base64url')
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' })
}
