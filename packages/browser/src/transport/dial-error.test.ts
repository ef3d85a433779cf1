import { describe, expect, it } from 'vitest'
import { describeDialError } from './dial-error.js'

describe('dial errors in words', () => {
  it('names the WebSocket URL of an error Event instead of [object Event]', () => {
    const ev = new Event('error')
    Object.defineProperty(ev, 'target', { value: { url: 'ws://127.0.0.1:4002/' } })
    expect(String(ev)).toBe('[object Event]')
    expect(describeDialError(ev)).toBe('WebSocket ws://127.0.0.1:4002/ could not connect (refused, unreachable, or not a Concord WebSocket listener)')
  })

  it('follows causes and aggregate errors', () => {
    const inner = new Event('error')
    const err = new AggregateError([new Error('dial timed out', { cause: inner }), new Error('dial timed out', { cause: inner })], 'All promises were rejected')
    expect(describeDialError(err)).toBe('dial timed out: WebSocket could not connect (refused, unreachable, or not a Concord WebSocket listener)')
    expect(describeDialError(new Error('connection refused', { cause: { code: 'ECONNREFUSED', message: 'x' } }))).toBe('connection refused: x (ECONNREFUSED)')
  })
})
