/**
 * One process per data directory, as PostgreSQL's `postmaster.pid` makes it. LMDB lets
 * several processes open one environment, and two nodes on one directory each keep their
 * own books of what is stored (shard markers, record counts): a second `concord start`
 * on a directory in use corrupted it (the first node then refused every write: "its
 * marker is damaged"). `concord start` and the offline `concord restore` take the lock
 * first and refuse a directory another live process holds.
 *
 * The lock is the file `concord.pid`, created exclusively (O_EXCL), holding the holder's
 * process id and, on Linux, its start time (field 22 of /proc/<pid>/stat), so a process
 * id used again by another process after a crash does not pass for the holder. A lock
 * whose holder is gone (killed with -9, or a zombie not yet reaped) is stale: it is
 * removed and taken. Released (the file removed) when the node stops.
 *
 * Invariants: while `lockDataDir` has returned and `release` was not called, the file
 * names this process; a second call for the directory, from this process too, throws
 * `DataDirInUseError`. Two processes starting at the same instant on a directory whose
 * lock is stale could both take it (PostgreSQL's lock file has the same window); the
 * file is read back after writing, which closes it for all but an exact interleaving.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { PRIVATE_FILE_MODE } from './data-dir.js'

export const LOCK_FILE = 'concord.pid'

export class DataDirInUseError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `data directory ${dir} is in use by another process (pid ${pid}): stop that node first. ` +
        `If no node runs on it, remove ${join(dir, LOCK_FILE)} and start again.`,
    )
    this.name = 'DataDirInUseError'
  }
}

export interface DataDirLock {
  release(): void
}

interface Holder {
  pid: number
  /** Start time in clock ticks since boot (Linux); null where unknown. */
  started: number | null
}

/** Takes the lock of `dir` (which exists) or throws `DataDirInUseError`. */
export function lockDataDir(dir: string): DataDirLock {
  const file = join(dir, LOCK_FILE)
  const me: Holder = { pid: process.pid, started: startTime(process.pid) }
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number
    try {
      fd = openSync(file, 'wx', PRIVATE_FILE_MODE)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = readHolder(file)
      if (holder !== null && alive(holder)) throw new DataDirInUseError(dir, holder.pid)
      // Stale (its process is gone) or unreadable (a crash while writing it): taken over.
      try {
        unlinkSync(file)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      }
      continue
    }
    try {
      writeSync(fd, `${me.pid}\n${me.started ?? ''}\n`)
    } finally {
      closeSync(fd)
    }
    const now = readHolder(file)
    if (now === null || now.pid !== me.pid || now.started !== me.started) {
      if (now !== null) throw new DataDirInUseError(dir, now.pid)
      continue
    }
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        const still = readHolder(file)
        if (still !== null && still.pid === me.pid && still.started === me.started) unlinkSync(file)
      },
    }
  }
  throw new Error(`could not take the lock of data directory ${dir} (${file} keeps changing): is another node starting on it?`)
}

function readHolder(file: string): Holder | null {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  const [pidText, startedText] = text.split('\n')
  const pid = Number(pidText)
  if (!Number.isSafeInteger(pid) || pid <= 0) return null
  const started = startedText !== undefined && startedText !== '' ? Number(startedText) : null
  return { pid, started: started !== null && Number.isSafeInteger(started) ? started : null }
}

/** Whether `h`'s process still runs: it exists, is not a zombie, and (where known) started when the lock says. */
function alive(h: Holder): boolean {
  try {
    process.kill(h.pid, 0)
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = procStat(h.pid)
  if (stat === null) return true
  if (stat.state === 'Z' || stat.state === 'X') return false
  return h.started === null || stat.started === h.started
}

function startTime(pid: number): number | null {
  return procStat(pid)?.started ?? null
}

/** State and start time of a process from /proc (Linux); null elsewhere or when it is gone. */
function procStat(pid: number): { state: string; started: number } | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // "pid (comm) state ppid ..": comm may hold spaces and parentheses; the fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const started = Number(fields[19])
  if (fields[0] === undefined || !Number.isSafeInteger(started)) return null
  return { state: fields[0], started }
}
