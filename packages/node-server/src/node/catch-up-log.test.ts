import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Replica, RowChange } from '@concord/core'
import { CatchUpLog } from './catch-up-log.js'

afterEach(() => vi.useRealTimers())

function fakeReplica(): { replica: Replica; emit(n: number, origin: 'local' | 'remote'): void } {
  let listener: ((c: RowChange[]) => void) | undefined
  let bytes = 0
  const replica = {
    on: (_e: string, fn: (c: RowChange[]) => void) => {
      listener = fn
      return () => (listener = undefined)
    },
    stats: () => ({ repairBytes: bytes }),
    replicator: { knownPeers: () => [['b', 'default']] },
  } as unknown as Replica
  return {
    replica,
    emit(n, origin) {
      bytes += n * 100
      listener?.(Array.from({ length: n }, (_, i) => ({ table: 't', key: String(i), before: null, after: {}, origin })))
    },
  }
}

describe('CatchUpLog', () => {
  it('prints progress while many remote rows arrive and a summary when they stop; ignores local writes', () => {
    vi.useFakeTimers()
    const lines: string[] = []
    const { replica, emit } = fakeReplica()
    const log = new CatchUpLog(replica, { info: (m) => lines.push(m), warn: () => {}, error: () => {} }, { intervalMs: 1000, minRows: 100 })
    emit(5000, 'local')
    vi.advanceTimersByTime(1000)
    expect(lines).toEqual([])
    emit(500, 'remote')
    vi.advanceTimersByTime(1000)
    emit(300, 'remote')
    vi.advanceTimersByTime(1000)
    vi.advanceTimersByTime(1000)
    expect(lines[0]).toMatch(/^catching up: 500 rows .* 500 rows\/s, 1 peer\(s\)$/)
    expect(lines[1]).toMatch(/^catching up: 800 rows/)
    expect(lines[2]).toMatch(/^caught up: 800 rows \(78 KiB\) in \d+\.\d s$/)
    log.stop()
  })
})
