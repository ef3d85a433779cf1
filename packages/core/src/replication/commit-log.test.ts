import { describe, expect, it } from 'vitest'
import { CommitLog } from './commit-log.js'

/** The log as positions.ts kept it before: an array spliced at its head. */
class ArrayLog {
  commits: Array<[number, number]> = []
  dropped = false
  limit: number
  constructor(limit: number) {
    this.limit = limit
  }
  note(lsn: number, at: number): void {
    this.commits.push([lsn, at])
    if (this.commits.length > this.limit) {
      this.commits.splice(0, this.commits.length - this.limit)
      this.dropped = true
    }
  }
  timeOf(lsn: number): number | null {
    const i = this.commits.findIndex(([l]) => l >= lsn)
    if (i < 0) return null
    if (i === 0 && this.dropped && this.commits[0]![0] !== lsn) return null
    return this.commits[i]![1]
  }
}

describe('CommitLog', () => {
  it('answers as a spliced array does, through wrap-arounds and limit changes', () => {
    const log = new CommitLog(16)
    const model = new ArrayLog(16)
    let lsn = 0
    const check = (): void => {
      for (let q = Math.max(0, lsn - 80); q <= lsn + 2; q++) expect(log.timeOf(q), `lsn ${q}`).toBe(model.timeOf(q))
    }
    for (let i = 0; i < 200; i++) {
      lsn += 1 + (i % 7)
      log.note(lsn, 1000 + i)
      model.note(lsn, 1000 + i)
      if (i % 13 === 0) check()
      if (i === 60 || i === 120 || i === 150) {
        const limit = i === 60 ? 40 : i === 120 ? 5 : 16
        log.setLimit(limit)
        model.limit = limit
        if (model.commits.length > limit) {
          model.commits.splice(0, model.commits.length - limit)
          model.dropped = true
        }
        check()
      }
    }
    check()
  })

  it('answers null before anything was noted, and for LSNs past the newest commit', () => {
    const log = new CommitLog(4)
    expect(log.timeOf(1)).toBeNull()
    log.note(10, 5)
    expect(log.timeOf(3)).toBe(5)
    expect(log.timeOf(10)).toBe(5)
    expect(log.timeOf(11)).toBeNull()
  })
})
