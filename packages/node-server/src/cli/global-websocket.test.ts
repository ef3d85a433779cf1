import { describe, expect, it } from 'vitest'
import { installGlobalWebSocket } from './global-websocket.js'

class FakeWebSocket {}
const asClass = (c: unknown): typeof globalThis.WebSocket => c as typeof globalThis.WebSocket

describe('installGlobalWebSocket', () => {
  it('loads the implementation on the first read of the global, once', () => {
    const target = {} as { WebSocket?: unknown }
    let loads = 0
    expect(installGlobalWebSocket(target, () => (loads++, asClass(FakeWebSocket)))).toBe('undici')
    expect(loads).toBe(0)
    expect(target.WebSocket).toBe(FakeWebSocket)
    expect(target.WebSocket).toBe(FakeWebSocket)
    expect(loads).toBe(1)
  })

  it('keeps a WebSocket the runtime already has', () => {
    class Native {}
    const target = { WebSocket: Native }
    let loads = 0
    expect(installGlobalWebSocket(target, () => (loads++, asClass(FakeWebSocket)))).toBe('native')
    expect(target.WebSocket).toBe(Native)
    expect(loads).toBe(0)
  })

  it('an assignment replaces the global without loading it', () => {
    class Other {}
    const target = {} as { WebSocket?: unknown }
    let loads = 0
    installGlobalWebSocket(target, () => (loads++, asClass(FakeWebSocket)))
    target.WebSocket = Other
    expect(target.WebSocket).toBe(Other)
    expect(loads).toBe(0)
  })

  it('the default loader gives a WebSocket class', () => {
    const target = {} as { WebSocket?: unknown }
    installGlobalWebSocket(target)
    expect(typeof target.WebSocket).toBe('function')
    expect((target.WebSocket as { name: string }).name).toBe('WebSocket')
  })
})
