/**
 * psql for the replication suite: runs statements literally, as a user would type them,
 * and returns unaligned tuples-only output (or the error text).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { ConcordProcess } from '../cluster/concord-process.js'

const run = promisify(execFile)

export async function hasPsql(): Promise<boolean> {
  try {
    await run('psql', ['--version'])
    return true
  } catch {
    return false
  }
}

/** Runs each command in one psql session; throws with psql's stderr on the first error. */
export async function psql(node: ConcordProcess, ...commands: string[]): Promise<string> {
  const args = ['-X', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(node.pgPort), '-U', 'concord', '-d', 'concord']
  for (const c of commands) args.push('-c', c)
  try {
    const { stdout } = await run('psql', args, { env: { ...process.env, PGCONNECT_TIMEOUT: '5' }, timeout: 20_000 })
    return stdout
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    throw new Error(e.stderr?.trim() || e.message)
  }
}
