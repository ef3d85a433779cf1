/**
 * Closed by default: which cluster key a node's libp2p listeners use.
 *
 * The peer port carries every row and accepts every write a peer sends, so a node whose
 * peer port anyone could reach would bypass the PostgreSQL password. Rule:
 * - `--cluster-key <file>` given: that key.
 * - else a key kept in the data directory (`cluster.key`) from an earlier start: that key
 *   (a node never reopens its peer port because a later start forgot a flag).
 * - else, if libp2p listens beyond loopback, or clients need a password (a peer port open
 *   to the machine's other users would bypass it): a new key, created 0600 in the data
 *   directory; the node prints the join command that carries it.
 * - else (loopback, no password: nothing to protect from a peer that a client could
 *   not do too): no key.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadOrCreateClusterKey, readClusterKey } from '../transport/cluster-key.js'
import { isLoopbackHost } from '../transport/loopback-host.js'

export { isLoopbackHost }

export const DATA_DIR_CLUSTER_KEY = 'cluster.key'

export interface PeerPortKey {
  /** The swarm key bytes for libp2p pnet; undefined: open peer port (loopback only). */
  key?: Uint8Array
  /** The file the key came from. */
  file?: string
  /** Whether this start created `file`. */
  created: boolean
}

/** `dataDir` undefined: a node in memory, which can keep no key; it needs `clusterKeyFile` where a key is due. */
export function choosePeerPortKey(options: { dataDir?: string; clusterKeyFile?: string; p2pHost: string; passwordRequired: boolean }): PeerPortKey {
  if (options.clusterKeyFile !== undefined) return { key: readClusterKey(options.clusterKeyFile), file: options.clusterKeyFile, created: false }
  const file = options.dataDir === undefined ? undefined : join(options.dataDir, DATA_DIR_CLUSTER_KEY)
  if (file !== undefined && existsSync(file)) return { key: readClusterKey(file), file, created: false }
  if (isLoopbackHost(options.p2pHost) && !options.passwordRequired) return { created: false }
  if (file === undefined) {
    throw new Error('a node in memory with a peer port beyond loopback or a password needs --cluster-key <file> (it has no data directory to keep one in)')
  }
  const { key, created } = loadOrCreateClusterKey(file)
  return { key, file, created }
}
