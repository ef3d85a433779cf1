import { describe, expect, it } from 'vitest'
import { hashText, TextCache } from './text-cache.js'

describe('TextCache', () => {
  it('answers a value only for the very text stored in its slot', () => {
    const c = new TextCache<number>(8)
    const a = 'SELECT abalance FROM pgbench_accounts WHERE aid = 1;'
    c.set(c.slotOf(a), a, 1)
    expect(c.get(c.slotOf(a), a)).toBe(1)
    // The same characters in another string object are the same text.
    expect(c.get(c.slotOf(a), a.split('').join(''))).toBe(1)
    // Another text is a miss, in its own slot and in a's.
    const b = 'SELECT abalance FROM pgbench_accounts WHERE aid = 2;'
    expect(c.get(c.slotOf(b), b)).toBeUndefined()
    expect(c.get(c.slotOf(a), b)).toBeUndefined()
  })

  it('has a text evict the one in its slot, and only that one', () => {
    const c = new TextCache<string>(4)
    // Find two texts that share a slot and one that does not.
    const texts = Array.from({ length: 64 }, (_, i) => `SELECT ${i}`)
    const first = texts[0]!
    const rival = texts.find((t) => t !== first && c.slotOf(t) === c.slotOf(first))!
    const other = texts.find((t) => c.slotOf(t) !== c.slotOf(first))!
    c.set(c.slotOf(first), first, 'first')
    c.set(c.slotOf(other), other, 'other')
    c.set(c.slotOf(rival), rival, 'rival')
    expect(c.get(c.slotOf(first), first)).toBeUndefined()
    expect(c.get(c.slotOf(rival), rival)).toBe('rival')
    expect(c.get(c.slotOf(other), other)).toBe('other')
  })

  it('hashes a long text by its ends and length: texts differing only in the middle share a slot, and never answer for each other', () => {
    const middle = (ch: string) => `INSERT INTO t VALUES ('${'a'.repeat(300)}${ch}${'b'.repeat(300)}')`
    expect(hashText(middle('x'))).toBe(hashText(middle('y')))
    expect(hashText(middle('x'))).not.toBe(hashText(middle('xx')))
    expect(hashText('SELECT 1')).not.toBe(hashText('SELECT 2'))
    const c = new TextCache<string>(1024)
    c.set(c.slotOf(middle('x')), middle('x'), 'x')
    expect(c.get(c.slotOf(middle('y')), middle('y'))).toBeUndefined()
    c.set(c.slotOf(middle('y')), middle('y'), 'y')
    expect(c.get(c.slotOf(middle('x')), middle('x'))).toBeUndefined()
    expect(c.get(c.slotOf(middle('y')), middle('y'))).toBe('y')
  })

  it('rounds its size up to a power of two', () => {
    const c = new TextCache<number>(1000)
    const slots = new Set(Array.from({ length: 20_000 }, (_, i) => c.slotOf(`t${i}`)))
    expect(Math.max(...slots)).toBe(1023)
    expect(slots.size).toBe(1024)
  })
})
