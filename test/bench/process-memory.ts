/**
 * Resident memory of a server, read from Linux's /proc, for the benchmarks' memory rows.
 * A Concord node is one process: its VmRSS. PostgreSQL is a postmaster and its children
 * sharing buffers: the sum of their proportional set sizes (Pss, shared pages divided
 * among the processes mapping them), so shared memory is counted once, not once per
 * process. Answers null where /proc is not there (other systems): the row says n/a.
 */
import { existsSync, readFileSync } from 'node:fs'
import { childPids } from './process-stat.js'

function field(path: string, name: string): number | null {
  try {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync(path, 'utf8'))
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

/** One process's resident set, bytes. */
export function rssBytes(pid: number): number | null {
  return field(`/proc/${pid}/status`, 'VmRSS')
}

/** The sum of Pss over `pid` and its direct children, bytes (PostgreSQL: the postmaster and its backends). */
export function pssTreeBytes(pid: number): number | null {
  if (!existsSync(`/proc/${pid}`)) return null
  const pids = [pid, ...childPids(pid)]
  let total = 0
  for (const p of pids) total += field(`/proc/${p}/smaps_rollup`, 'Pss') ?? 0
  return total
}
