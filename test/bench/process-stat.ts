/**
 * What the benchmarks read of a process from Linux's /proc/<pid>/stat: its CPU time and
 * its children. Answers undefined (or nothing) where /proc is not there (other systems)
 * or the process has exited.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
export const USER_HZ = 100

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold blanks, so split
 * after its closing parenthesis): index 1 is the parent's pid, 11-14 utime, stime, cutime
 * and cstime in ticks.
 */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** The processes whose parent is `pid`. */
export function childPids(pid: number): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    if (Number(statFields(Number(d))?.[1]) === pid) out.push(Number(d))
  }
  return out
}

/** CPU time in ms: user and system. */
export interface CpuTime {
  user: number
  system: number
}

/** CPU time of a process so far; with `reaped`, that of the children it has waited for too (cutime, cstime). */
export function cpuTime(pid: number | undefined, reaped = false): CpuTime | undefined {
  const f = pid === undefined ? undefined : statFields(pid)
  if (f === undefined) return undefined
  const ms = (i: number): number => (Number(f[i]) * 1000) / USER_HZ
  return { user: ms(11) + (reaped ? ms(13) : 0), system: ms(12) + (reaped ? ms(14) : 0) }
}

/** CPU seconds (user + system) a process has used so far; null where unknown. */
export function cpuSeconds(pid: number): number | null {
  const t = cpuTime(pid)
  return t === undefined ? null : (t.user + t.system) / 1000
}

/**
 * CPU time of a process tree so far (PostgreSQL: the postmaster with the backends it
 * reaped, plus every process it runs now, with what they reaped).
 */
export function treeCpuTime(pid: number): CpuTime | undefined {
  const total = cpuTime(pid, true)
  if (total === undefined) return undefined
  for (const child of childPids(pid)) {
    const t = cpuTime(child, true)
    if (t === undefined) continue
    total.user += t.user
    total.system += t.system
  }
  return total
}
