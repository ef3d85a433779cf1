/**
 * Roles close an open peer port. A peer is fully trusted (it reads every row and its
 * writes apply), so once clients must log in as roles with their own passwords, a peer
 * port without a cluster key would let any local process bypass them all by joining as a
 * peer (issue 15). peer-port-policy.ts keys the port at start when the node has
 * `--password` or a key in its data directory; roles appear later, by SQL, on this node
 * or from a peer. This watch covers them: when LOGIN roles exist and the peer port has no
 * key, the node stops its libp2p node (no listener, no connection, no row or write
 * crosses it from then on) and, on disk, creates `cluster.key` in its data directory, so
 * the next start opens the peer port keyed (the policy's rule 2). A libp2p node cannot
 * take a key while it runs; closing it is the only safe move until the restart.
 *
 * Invariant: checked right after start and then every CHECK_MS; once closed, the port
 * stays closed until the process ends.
 */
import { join } from 'node:path'
import type { Logger } from '../log/logger.js'
import { loadOrCreateClusterKey } from '../transport/cluster-key.js'
import { DATA_DIR_CLUSTER_KEY } from './peer-port-policy.js'

const CHECK_MS = 500

export interface RolesPeerPortOptions {
  /** Whether LOGIN roles exist (the replicated catalog's marker). */
  rolesExist(): boolean
  /** Stops the libp2p node. */
  closePeerPort(): Promise<void>
  /** Where to create the key for the next start; undefined: a node in memory. */
  dataDir?: string
  log: Logger
}

/** Starts the watch; returns what stops it. Call only for a node whose peer port has no key. */
export function watchRolesOnOpenPeerPort(options: RolesPeerPortOptions): () => void {
  let timer: ReturnType<typeof setInterval> | undefined
  const check = (): void => {
    if (!options.rolesExist()) return
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
    void close(options)
  }
  check()
  if (!options.rolesExist()) {
    timer = setInterval(check, CHECK_MS)
    timer.unref()
  }
  return () => {
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
  }
}

async function close(options: RolesPeerPortOptions): Promise<void> {
  let next: string
  if (options.dataDir !== undefined) {
    const file = join(options.dataDir, DATA_DIR_CLUSTER_KEY)
    try {
      loadOrCreateClusterKey(file)
      next = `created cluster key ${file}: restart this node to open its peer port with it, and start its peers with --cluster-key ${file}`
    } catch (err) {
      next = `could not create ${file} (${String(err)}): restart with --cluster-key <file> (concord gen-cluster-key)`
    }
  } else {
    next = 'restart it with --cluster-key <file> (concord gen-cluster-key) to reopen it'
  }
  options.log.error(`LOGIN roles exist but the peer port has no cluster key, so any local process could join as a peer and bypass them: peer port closed; ${next}`)
  await options.closePeerPort().catch((err: unknown) => options.log.warn(`closing the peer port: ${String(err)}`))
}
