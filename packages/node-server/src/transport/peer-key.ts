/**
 * The node's libp2p identity, kept in its data directory so its PeerId (and so the
 * `/p2p/..` part of its multiaddrs) survives restarts. File: the key's protobuf bytes,
 * owner-only (0600; a wider file from an older version is narrowed when loaded). A node
 * without a data directory (`--memory`) gets a new identity each start.
 */
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
