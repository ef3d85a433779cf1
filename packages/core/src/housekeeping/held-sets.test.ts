import { describe, expect, it } from 'vitest'
import { HeldSets, RESEND_AFTER_ROUNDS, holderList, type HeldState } from './held-sets.js'

function shardAt(generation: number, digest: number): HeldState {
  return { id: 't:1:0:x', generation, digest: () => digest }
}

describe('held-by sets', () => {
  const list = holderList(['c', 'a', 'b', 'd', 'a'])

  it('numbers holders by sorted id and hashes the list', () => {
    expect(list.ids).toEqual(['a', 'b', 'c', 'd'])
    expect(holderList(['d', 'c', 'b', 'a']).hash).toBe(list.hash)
    expect(holderList(['a', 'b', 'c']).hash).not.toBe(list.hash)
  })

  it('merges a peer\'s set by union at the same state, and answers only when it knows more', () => {
    const mine = new HeldSets()
    const theirs = new HeldSets()
    const s = shardAt(2, 77)
    mine.add(s, 'a')
    mine.add(s, 'b')
    theirs.add(s, 'c')
    const sent = theirs.outgoing(s, list, 'me', 0)!
    expect([...sent.bits]).toEqual([0b0100])
    const got = mine.incoming(s, sent, list, 'peer', 0)
    expect(got).toEqual({ added: ['c'], knowsMore: true })
    const answer = mine.outgoing(s, list, 'peer', 0)!
    expect([...answer.bits]).toEqual([0b0111])
    expect(theirs.incoming(s, answer, list, 'me', 0)).toEqual({ added: ['a', 'b'], knowsMore: false })
    // The same set again adds nothing.
    expect(mine.incoming(s, sent, list, 'peer', 0)).toEqual({ added: [], knowsMore: true })
  })

  it('ignores a set of another state or another holder list, and empties its own when the state moves on', () => {
    const mine = new HeldSets()
    const other = new HeldSets()
    other.add(shardAt(2, 77), 'd')
    const set = other.outgoing(shardAt(2, 77), list, 'me', 0)!
    expect(mine.incoming(shardAt(2, 78), set, list, 'p', 0).added).toEqual([])
    expect(mine.incoming(shardAt(3, 77), set, list, 'p', 0).added).toEqual([])
    expect(mine.incoming(shardAt(2, 77), set, holderList(['a', 'b', 'c', 'e']), 'p', 0).added).toEqual([])
    expect(mine.incoming(shardAt(2, 77), { ...set, bits: new Uint8Array(2) }, list, 'p', 0).added).toEqual([])
    expect(mine.incoming(shardAt(2, 77), set, list, 'p', 0).added).toEqual(['d'])
    expect(mine.has(shardAt(2, 77), 'd')).toBe(true)
    expect(mine.has(shardAt(2, 79), 'd')).toBe(false)
    expect(mine.outgoing(shardAt(2, 79), list, 'p', 0)).toBeNull()
  })

  it('does not send a peer a set it holds all of, until RESEND_AFTER_ROUNDS rounds have passed', () => {
    const mine = new HeldSets()
    const s = shardAt(1, 5)
    mine.add(s, 'a')
    expect(mine.outgoing(s, list, 'p', 0)).not.toBeNull()
    expect(mine.outgoing(s, list, 'p', 1)).toBeNull()
    expect(mine.outgoing(s, list, 'q', 1)).not.toBeNull()
    mine.add(s, 'b')
    expect(mine.outgoing(s, list, 'p', 2)).not.toBeNull()
    expect(mine.outgoing(s, list, 'p', 2 + RESEND_AFTER_ROUNDS - 1)).toBeNull()
    expect(mine.outgoing(s, list, 'p', 2 + RESEND_AFTER_ROUNDS)).not.toBeNull()
    // A peer whose own set named all of ours is not sent ours.
    const fresh = new HeldSets()
    fresh.add(s, 'a')
    const peers = new HeldSets()
    peers.add(s, 'a')
    peers.add(s, 'c')
    fresh.incoming(s, peers.outgoing(s, list, 'x', 0)!, list, 'r', 0)
    expect(fresh.outgoing(s, list, 'r', 1)).toBeNull()
  })
})
