/**
 * Cluster keys: libp2p private-network swarm keys (DESIGN.md decision 10). Nodes that do
 * not hold the same key cannot complete a connection with each other.
 *
 * File format (go-ipfs/libp2p compatible):
 *   /key/swarm/psk/1.0.0/
 *   /base16/
 *   <64 hex digits>
 */
import { readFileSync, writeFileSync } from 'node:fs'
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
  return new TextEncoder().encode(lines.join('\n'))
}

export function writeClusterKey(file: string, key: Uint8Array = generateClusterKey()): void {
  writeFileSync(file, key, { mode: 0o600 })
}
