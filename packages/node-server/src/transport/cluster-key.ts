/**
 * Cluster keys: libp2p private-network swarm keys (DESIGN.md decision 10). Nodes that do
 * not hold the same key cannot complete a connection with each other.
 *
 * File format (go-ipfs/libp2p compatible):
 *   /key/swarm/psk/1.0.0/
 *   /base16/
 *   <64 hex digits>
 *
 * Invariants: a key file this module writes is created 0600 (owner only) and never
 * overwritten; a key file it reads that others may read is narrowed to 0600.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { generateKey } from '@libp2p/pnet'

const HEADER = '/key/swarm/psk/1.0.0/'

export class ClusterKeyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ClusterKeyError'
  }
}

export function generateClusterKey(): Uint8Array {
  const bytes = new Uint8Array(95)
  generateKey(bytes)
  return bytes
}

/** Reads and checks a swarm key file; returns the bytes `preSharedKey` expects. */
export function readClusterKey(file: string): Uint8Array {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ClusterKeyError(`cannot read cluster key ${file}: ${(err as Error).message}`)
  }
  const lines = text.trim().split(/\r?\n/).map((l) => l.trim())
  if (lines.length !== 3 || lines[0] !== HEADER || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2]!)) {
    throw new ClusterKeyError(`cluster key ${file} is not a swarm key (expected ${HEADER}, /base16/, 64 hex digits)`)
  }
  narrowMode(file)
  return new TextEncoder().encode(lines.join('\n'))
}

/** Writes a new key file, owner-only; refuses to replace an existing file (a cluster's key is not lost by a typo). */
export function writeClusterKey(file: string, key: Uint8Array = generateClusterKey()): void {
  try {
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ClusterKeyError(`${file} exists; a cluster key is never overwritten`)
    throw new ClusterKeyError(`cannot write cluster key ${file}: ${(err as Error).message}`)
  }
}

/** Reads the key at `file`, creating it first if there is none; `created` says which. */
export function loadOrCreateClusterKey(file: string): { key: Uint8Array; created: boolean } {
  let created = false
  try {
    writeFileSync(file, generateClusterKey(), { mode: 0o600, flag: 'wx' })
    created = true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ClusterKeyError(`cannot write cluster key ${file}: ${(err as Error).message}`)
  }
  return { key: readClusterKey(file), created }
}

/** A key readable by group or others is narrowed to the owner (files from older versions, copies). */
function narrowMode(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
  } catch {
    // Not ours to change (another user's file we may read): reading it is still allowed.
  }
}
