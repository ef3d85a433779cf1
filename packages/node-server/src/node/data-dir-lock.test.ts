import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DataDirInUseError, LOCK_FILE, lockDataDir } from './data-dir-lock.js'

const dirs: string[] = []
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'concord-lock-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** The id of a process that has ended (and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

describe('data directory lock', () => {
  it('lets one holder at a time, this process included, and is free again once released', () => {
    const d = dir()
    const lock = lockDataDir(d)
    expect(readFileSync(join(d, LOCK_FILE), 'utf8').split('\n')[0]).toBe(String(process.pid))
    expect(statSync(join(d, LOCK_FILE)).mode & 0o777).toBe(0o600)
    expect(() => lockDataDir(d)).toThrow(DataDirInUseError)
    expect(() => lockDataDir(d)).toThrow(new RegExp(`in use by another process \\(pid ${process.pid}\\)`))
    lock.release()
    expect(existsSync(join(d, LOCK_FILE))).toBe(false)
    lock.release() // twice: nothing more
    lockDataDir(d).release()
  })

  it('takes over a lock whose process is gone, one whose id now names another process, and a torn one', () => {
    const d = dir()
    const file = join(d, LOCK_FILE)
    for (const stale of [`${deadPid()}\n\n`, `${process.pid}\n1\n`, '', 'garbage']) {
      writeFileSync(file, stale)
      const lock = lockDataDir(d)
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe(String(process.pid))
      lock.release()
    }
  })

  it('refuses while a live process of another program holds it (its start time as written)', () => {
    const d = dir()
    // This process's own record, as another process would have written it: refused.
    const own = readFileSync(`/proc/${process.pid}/stat`, 'utf8')
    const started = own.slice(own.lastIndexOf(')') + 2).split(' ')[19]
    writeFileSync(join(d, LOCK_FILE), `${process.pid}\n${started}\n`)
    expect(() => lockDataDir(d)).toThrow(DataDirInUseError)
    // Without a start time (written where /proc is missing): a live id is enough.
    writeFileSync(join(d, LOCK_FILE), `${process.pid}\n\n`)
    expect(() => lockDataDir(d)).toThrow(DataDirInUseError)
  })
})
