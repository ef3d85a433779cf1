import { describe, expect, it } from 'vitest'
import { resolve, type Candidate } from './policy.js'
import type { Value } from '../types.js'

const c = (writer: string, hlc: number, value: Value): Candidate => ({ writer, hlc, value })
const none = () => undefined

describe('merge policies', () => {
  it('last_write_wins picks the greatest timestamp', () => {
    expect(resolve('last_write_wins', [c('a', 5, 'x'), c('b', 9, 'y'), c('c', 7, 'z')], none)).toBe('y')
  })

  it('last_write_wins breaks timestamp ties by node id', () => {
    expect(resolve('last_write_wins', [c('b', 5, 'from-b'), c('a', 5, 'from-a')], none)).toBe('from-b')
    expect(resolve('last_write_wins', [c('a', 5, 'from-a'), c('b', 5, 'from-b')], none)).toBe('from-b')
  })

  it('first_write_wins picks the smallest timestamp', () => {
    expect(resolve('first_write_wins', [c('a', 5, 'x'), c('b', 3, 'y'), c('c', 7, 'z')], none)).toBe('y')
  })

  it('custom resolvers fold in timestamp order whatever the arrival order', () => {
    const calls: string[] = []
    const concat = (a: Value, b: Value) => {
      calls.push(`${a}+${b}`)
      return `${a}${b}`
    }
    const lookup = (name: string) => (name === 'cat' ? concat : undefined)
    const set = [c('c', 3, 'C'), c('a', 1, 'A'), c('b', 2, 'B')]
    const forward = resolve({ custom: 'cat' }, [...set], lookup)
    const backward = resolve({ custom: 'cat' }, [...set].reverse(), lookup)
    expect(forward).toBe('ABC')
    expect(backward).toBe('ABC')
  })

  it('a custom policy whose resolver is unknown falls back to last write wins', () => {
    expect(resolve({ custom: 'missing' }, [c('a', 1, 'old'), c('b', 2, 'new')], none)).toBe('new')
  })

  it('a single value is returned as is', () => {
    expect(resolve('first_write_wins', [c('a', 1, 42)], none)).toBe(42)
    expect(resolve('last_write_wins', [], none)).toBe(null)
  })
})
