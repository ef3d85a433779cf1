import { describe, expect, it } from 'vitest'
import { applyNumericTypmod, Decimal } from './decimal.js'

const d = (s: string) => Decimal.parse(s)

describe('Decimal', () => {
  it('adds and multiplies exactly', () => {
    expect(d('0.1').add(d('0.2')).toString()).toBe('0.3')
    expect(d('99.99').mul(d('3')).toString()).toBe('299.97')
  })

  it('divides with PostgreSQL result scales', () => {
    expect(d('1').div(d('3')).toString()).toBe('0.33333333333333333333')
    expect(d('10').div(d('3')).toString()).toBe('3.3333333333333333')
    expect(d('3').div(d('2')).toString()).toBe('1.5000000000000000')
  })

  it('rounds half away from zero and enforces NUMERIC(p,s)', () => {
    expect(applyNumericTypmod(d('2.345'), 10, 2).toString()).toBe('2.35')
    expect(applyNumericTypmod(d('-2.345'), 10, 2).toString()).toBe('-2.35')
    expect(() => applyNumericTypmod(d('123.4'), 4, 2)).toThrow(expect.objectContaining({ code: '22003' }))
  })

  it('raises division by zero as 22012', () => {
    expect(() => d('1').div(d('0'))).toThrow(expect.objectContaining({ code: '22012' }))
  })
})
