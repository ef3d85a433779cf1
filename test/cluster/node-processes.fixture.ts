/**
 * For cluster tests that start several `concord` processes in one temporary directory:
 * `useNodeProcesses(prefix)` makes the directory; `started` keeps each process so that
 * every one is stopped, and the directory removed, after the file's tests.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import type { ConcordProcess } from './concord-process.js'

export interface NodeProcesses {
  /** The temporary directory the file's data directories go in. */
  dir: string
  /** Waits for a process to start and keeps it for the stop after the file's tests. */
  started(start: Promise<ConcordProcess>): Promise<ConcordProcess>
}

export function useNodeProcesses(prefix: string): NodeProcesses {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const procs: ConcordProcess[] = []
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()))
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    dir,
    started: async (start) => {
      const proc = await start
      procs.push(proc)
      return proc
    },
  }
}
