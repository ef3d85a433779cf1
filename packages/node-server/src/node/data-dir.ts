/**
 * The node's data directory is private to the user running it, as PostgreSQL's is: it
 * holds every row, the peer key and the cluster key.
 *
 * Invariants: after `openDataDir` the directory exists with mode 0700 (created so, or
 * narrowed from a wider mode, which is logged); files the node creates in it are 0600
 * (node-id.ts, peer-key.ts, cluster-key.ts, lmdb-storage.ts).
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs'
import type { Logger } from '../log/logger.js'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

export function openDataDir(dir: string, log: Logger): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  const mode = statSync(dir).mode & 0o777
  if ((mode & 0o077) !== 0) {
    chmodSync(dir, PRIVATE_DIR_MODE)
    log.warn(`data directory ${dir} was readable by others (mode ${mode.toString(8)}); narrowed to 700`)
  }
}
