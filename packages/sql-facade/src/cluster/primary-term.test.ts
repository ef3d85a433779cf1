import { describe, expect, it } from 'vitest'
import type { Json } from '@concord/core'
import { currentTerm, MAX_KEPT_TERMS, nextTermWrites, termName } from './primary-term.js'

const rec = (epoch: number, nodeId: string): [string, Json] => [termName(epoch, nodeId), { epoch, nodeId, reason: 'failover', at: 0 }]

describe('primary terms', () => {
  it('the highest epoch is current; within one epoch the lowest node id wins, in any order', () => {
    const records = [rec(2, 'c'), rec(3, 'b'), rec(3, 'a'), rec(1, 'z')]
    expect(currentTerm(records)).toMatchObject({ epoch: 3, nodeId: 'a' })
    expect(currentTerm([...records].reverse())).toMatchObject({ epoch: 3, nodeId: 'a' })
    expect(currentTerm([])).toBe(null)
  })

  it('malformed records are ignored, never trusted', () => {
    expect(currentTerm([['x', { epoch: 'nine', nodeId: 'a' }], ['y', null], ['z', { epoch: 0, nodeId: 'b' }], rec(1, 'c')])).toMatchObject({ epoch: 1, nodeId: 'c' })
  })

  it('a new term takes the next epoch and drops the oldest beyond the bound', () => {
    const records = Array.from({ length: MAX_KEPT_TERMS }, (_, i) => rec(i + 1, 'n'))
    const { term, writes } = nextTermWrites(records, 'm', 'promote', 5)
    expect(term).toEqual({ epoch: MAX_KEPT_TERMS + 1, nodeId: 'm', reason: 'promote', at: 5 })
    expect(writes[0]).toEqual({ kind: 'primary-term', name: termName(MAX_KEPT_TERMS + 1, 'm'), value: term })
    expect(writes.slice(1)).toEqual([{ kind: 'primary-term', name: termName(1, 'n'), value: null }])
  })
})
