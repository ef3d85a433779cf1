import { describe, expect, it } from 'vitest'
import { formatLsn, parseLsn } from './lsn.js'

describe('LSN text form', () => {
  it('prints high and low 32 bits in upper-case hex, as PostgreSQL does', () => {
    expect(formatLsn(0)).toBe('0/0')
    expect(formatLsn(0x16b3748)).toBe('0/16B3748')
    expect(formatLsn(0x1_0000_0010)).toBe('1/10')
  })
  it('round-trips and rejects malformed text', () => {
    for (const n of [0, 1, 0x16b3748, 2 ** 40 + 7]) expect(parseLsn(formatLsn(n))).toBe(n)
    expect(parseLsn('16B3748')).toBeNull()
    expect(parseLsn('0/xyz')).toBeNull()
  })
})
