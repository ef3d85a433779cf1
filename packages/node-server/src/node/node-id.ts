/**
 * The replica node id, chosen once per data directory and kept in `<data-dir>/node-id`,
 * so a restarted node is the same member of the cluster. The file is owner-only (0600).
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const VALID = /^[A-Za-z0-9._-]{1,64}$/

export function loadOrCreateNodeId(dataDir: string, wanted?: string): string {
  const file = join(dataDir, 'node-id')
  let stored: string | undefined
  try {
    stored = readFileSync(file, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (stored !== undefined && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
  if (stored !== undefined && !VALID.test(stored)) throw new Error(`${file} holds an invalid node id`)
  if (wanted !== undefined) {
    newNodeId(wanted)
    if (stored !== undefined && stored !== wanted) throw new Error(`data directory ${dataDir} belongs to node '${stored}', not '${wanted}'`)
  }
  const id = stored ?? newNodeId(wanted)
  if (stored === undefined) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    writeFileSync(file, id + '\n', { mode: 0o600 })
  }
  return id
}

/** `wanted` once checked, else a fresh random id: the id of a node that keeps no data directory. */
export function newNodeId(wanted?: string): string {
  if (wanted !== undefined && !VALID.test(wanted)) throw new Error(`node id '${wanted}' must be 1-64 of A-Z a-z 0-9 . _ -`)
  return wanted ?? `node-${randomBytes(4).toString('hex')}`
}
