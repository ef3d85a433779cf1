import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Replica, RowChange } from '@concord/core'
import { CatchUpLog } from './catch-up-log.js'

afterEach(() => vi.useRealTimers())

function fakeReplica(): { replica: Replica; emit(n: number, origin: 'local' | 'remote'): void; behind: Set<string> } {
  let listener: ((c: RowChange[]) => void) | undefined
  let bytes = 0
  const behind = new Set<string>()
  const replica = {
    region: 'default',
    tables: () => [{ name: 't', regions: null }, { name: 'elsewhere', regions: ['eu'] }],
    caughtUp: (info: { name: string }) => !behind.has(info.name),
    on: (_e: string, fn: (c: RowChange[]) => void) => {
      listener = fn
      return () => (listener = undefined)
    },
    stats: () => ({ repairBytes: bytes }),
    replicator: { knownPeers: () => [['b', 'default']] },
  } as unknown as Replica
  return {
    replica,
    behind,
    emit(n, origin) {
      bytes += n * 100
      listener?.(Array.from({ length: n }, (_, i) => ({ table: 't', key: String(i), before: null, after: {}, origin })))
    },
  }
}

describe('CatchUpLog', () => {
  it('prints progress while a table is caught up on and a summary when it is; ignores local writes', () => {
    vi.useFakeTimers()
    const lines: string[] = []
    const { replica, emit, behind } = fakeReplica()
    const log = new CatchUpLog(replica, { info: (m) => lines.push(m), warn: () => {}, error: () => {} }, { intervalMs: 1000, minRows: 100 })
    emit(5000, 'local')
    vi.advanceTimersByTime(1000)
    expect(lines).toEqual([])
    behind.add('t')
    emit(500, 'remote')
    vi.advanceTimersByTime(1000)
    behind.delete('t')
    emit(300, 'remote')
    vi.advanceTimersByTime(1000)
    vi.advanceTimersByTime(1000)
    expect(lines[0]).toMatch(/^catching up: 500 row changes .* 500\/s, 1 peer\(s\); 1 table\(s\) not caught up$/)
    expect(lines[1]).toMatch(/^receiving from peers: 800 row changes/)
    expect(lines[2]).toMatch(/^caught up: 800 row changes \(78 KiB\) in \d+\.\d s$/)
    log.stop()
  })

  // A burst on a node that was never behind (a peer's bulk load, rows re-resolved after a
  // generation switch) is no catch-up: it said "caught up: 145,719 rows" for a table of 20,000.
  it('says "receiving", not "caught up", for a burst while every table it holds is caught up', () => {
    vi.useFakeTimers()
    const lines: string[] = []
    const { replica, emit, behind } = fakeReplica()
    behind.add('elsewhere')
    const log = new CatchUpLog(replica, { info: (m) => lines.push(m), warn: () => {}, error: () => {} }, { intervalMs: 1000, minRows: 100 })
    emit(500, 'remote')
    vi.advanceTimersByTime(1000)
    vi.advanceTimersByTime(1000)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^receiving from peers: 500 row changes/)
    expect(lines[1]).toMatch(/^received from peers: 500 row changes \(49 KiB\) in \d+\.\d s$/)
    expect(lines.join('\n')).not.toMatch(/catching up|caught up/)
    log.stop()
  })
})
