import { describe, expect, it } from 'vitest'
import { hashText, TextCache } from './text-cache.js'

const slot = <V>(c: TextCache<V>, text: string): number => c.slotOf(hashText(text))

/** A cache of four slots and three texts: `first`, a `rival` sharing its slot, an `other` in another. */
function crowded(): { c: TextCache<string>; first: string; rival: string; other: string } {
  const c = new TextCache<string>(4)
  const texts = Array.from({ length: 64 }, (_, i) => `SELECT ${i}`)
  const first = texts[0]!
  const rival = texts.find((t) => t !== first && slot(c, t) === slot(c, first))!
  const other = texts.find((t) => slot(c, t) !== slot(c, first))!
  return { c, first, rival, other }
}

describe('TextCache', () => {
  it('answers a value only for the very text stored in its slot', () => {
    const c = new TextCache<number>(8)
    const a = 'SELECT abalance FROM pgbench_accounts WHERE aid = 1;'
    c.set(slot(c, a), a, 1)
    expect(c.get(slot(c, a), a)).toBe(1)
    // The same characters in another string object are the same text.
    expect(c.get(slot(c, a), a.split('').join(''))).toBe(1)
    // Another text is a miss, in its own slot and in a's.
    const b = 'SELECT abalance FROM pgbench_accounts WHERE aid = 2;'
    expect(c.get(slot(c, b), b)).toBeUndefined()
    expect(c.get(slot(c, a), b)).toBeUndefined()
  })

  it('has a text evict the one in its slot, and only that one', () => {
    const { c, first, rival, other } = crowded()
    c.set(slot(c, first), first, 'first')
    c.set(slot(c, other), other, 'other')
    c.set(slot(c, rival), rival, 'rival')
    expect(c.get(slot(c, first), first)).toBeUndefined()
    expect(c.get(slot(c, rival), rival)).toBe('rival')
    expect(c.get(slot(c, other), other)).toBe('other')
  })

  it('hashes a long text by its ends and length: texts differing only in the middle share a slot, and never answer for each other', () => {
    const middle = (ch: string) => `INSERT INTO t VALUES ('${'a'.repeat(300)}${ch}${'b'.repeat(300)}')`
    expect(hashText(middle('x'))).toBe(hashText(middle('y')))
    expect(hashText(middle('x'))).not.toBe(hashText(middle('xx')))
    expect(hashText('SELECT 1')).not.toBe(hashText('SELECT 2'))
    const c = new TextCache<string>(1024)
    c.set(slot(c, middle('x')), middle('x'), 'x')
    expect(c.get(slot(c, middle('y')), middle('y'))).toBeUndefined()
    c.set(slot(c, middle('y')), middle('y'), 'y')
    expect(c.get(slot(c, middle('x')), middle('x'))).toBeUndefined()
    expect(c.get(slot(c, middle('y')), middle('y'))).toBe('y')
  })

  it('marks a text seen by its hash, in its slot, without taking the value there', () => {
    const { c, first, rival, other } = crowded()
    c.set(slot(c, first), first, 'first')
    expect(c.seen(slot(c, rival), hashText(rival))).toBe(false)
    c.markSeen(slot(c, rival), hashText(rival))
    expect(c.seen(slot(c, rival), hashText(rival))).toBe(true)
    // The slot's value stays; other texts, in the slot or not, are not seen.
    expect(c.get(slot(c, first), first)).toBe('first')
    expect(c.seen(slot(c, first), hashText(first))).toBe(false)
    expect(c.seen(slot(c, other), hashText(other))).toBe(false)
    // A slot holds one mark: the next text marked there replaces it.
    c.markSeen(slot(c, first), hashText(first))
    expect(c.seen(slot(c, rival), hashText(rival))).toBe(false)
    expect(c.seen(slot(c, first), hashText(first))).toBe(true)
  })

  it('rounds its size up to a power of two', () => {
    const c = new TextCache<number>(1000)
    const slots = new Set(Array.from({ length: 20_000 }, (_, i) => slot(c, `t${i}`)))
    expect(Math.max(...slots)).toBe(1023)
    expect(slots.size).toBe(1024)
  })
})
