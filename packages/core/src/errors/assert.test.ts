import { describe, expect, it } from 'vitest'
import { assert, InternalError } from './assert.js'
import { ConcordError } from './concord-error.js'

describe('assert', () => {
  it('passes a true condition and throws an InternalError (XX000) for a false one', () => {
    expect(() => assert(true, 'never')).not.toThrow()
    let thrown: unknown
    try {
      assert(false, () => 'lsn went backwards')
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(InternalError)
    expect(thrown).toBeInstanceOf(ConcordError)
    expect((thrown as ConcordError).condition).toBe('internalError')
    expect(String(thrown)).toContain('lsn went backwards')
  })
})
