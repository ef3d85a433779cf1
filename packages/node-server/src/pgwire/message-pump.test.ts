import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { MessagePump, type PumpReply } from './message-pump.js'

/** A socket that records what is written; `full` makes writes report a full buffer until 'drain'. */
class FakeSocket extends EventEmitter {
  written: string[] = []
  ended = false
  destroyed = false
  paused = false
  full = false

  write(bytes: Uint8Array): boolean {
    this.written.push(Buffer.from(bytes).toString())
    return !this.full
  }

  end(): void {
    this.ended = true
  }

  destroy(): void {
    this.destroyed = true
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
  }

  isPaused(): boolean {
    return this.paused
  }
}

/** A frontend message of type 'Q' whose body is `text`. */
function frame(text: string): Uint8Array {
  const body = Buffer.from(text)
  const out = Buffer.alloc(5 + body.length)
  out.write('Q', 0)
  out.writeInt32BE(4 + body.length, 1)
  body.copy(out, 5)
  return out
}

function bodyOf(message: Uint8Array): string {
  return Buffer.from(message.subarray(5)).toString()
}

function pump(handler: (body: string) => PumpReply | Promise<PumpReply>): { socket: FakeSocket; pump: MessagePump; errors: unknown[] } {
  const socket = new FakeSocket()
  const errors: unknown[] = []
  const p = new MessagePump(socket as unknown as Socket, (m) => handler(bodyOf(m)), (err) => errors.push(err))
  return { socket, pump: p, errors }
}

const reply = (text: string, close = false): PumpReply => ({ bytes: Buffer.from(text), close })

describe('MessagePump', () => {
  it('answers messages whose replies are there in the turn they arrive, in order, one write each', () => {
    const { socket, pump: p } = pump((body) => reply(`re:${body}`))
    p.feed(Buffer.concat([frame('a'), frame('b')]))
    // No turn of the microtask queue in between: written already.
    expect(socket.written).toEqual(['re:a', 're:b'])
    p.feed(frame('c'))
    expect(socket.written).toEqual(['re:a', 're:b', 're:c'])
  })

  it('keeps the order when replies that wait and replies at once are mixed, and handles nothing while one waits', async () => {
    const handled: string[] = []
    let release: () => void = () => {}
    const { socket, pump: p } = pump((body) => {
      handled.push(body)
      if (body !== 'slow') return reply(`re:${body}`)
      return new Promise<PumpReply>((resolve) => (release = () => resolve(reply('re:slow'))))
    })
    p.feed(Buffer.concat([frame('a'), frame('slow'), frame('b')]))
    p.feed(frame('c'))
    expect(socket.written).toEqual(['re:a'])
    expect(handled).toEqual(['a', 'slow'])
    release()
    await new Promise((r) => setImmediate(r))
    expect(socket.written).toEqual(['re:a', 're:slow', 're:b', 're:c'])
    expect(handled).toEqual(['a', 'slow', 'b', 'c'])
  })

  it('waits for drain before the next message when the socket takes a reply with its buffer full', async () => {
    const { socket, pump: p } = pump((body) => reply(`re:${body}`))
    socket.full = true
    p.feed(Buffer.concat([frame('a'), frame('b')]))
    expect(socket.written).toEqual(['re:a'])
    await new Promise((r) => setImmediate(r))
    expect(socket.written).toEqual(['re:a'])
    socket.full = false
    socket.emit('drain')
    await new Promise((r) => setImmediate(r))
    expect(socket.written).toEqual(['re:a', 're:b'])
  })

  it('ends the connection after a reply that closes it, at once or after drain, and handles nothing after it', async () => {
    const now = pump((body) => reply(`re:${body}`, body === 'bye'))
    now.pump.feed(Buffer.concat([frame('a'), frame('bye'), frame('after')]))
    expect(now.socket.written).toEqual(['re:a', 're:bye'])
    expect(now.socket.ended).toBe(true)
    now.pump.feed(frame('later'))
    expect(now.socket.written).toEqual(['re:a', 're:bye'])

    const drained = pump((body) => reply(`re:${body}`, body === 'bye'))
    drained.socket.full = true
    drained.pump.feed(Buffer.concat([frame('bye'), frame('after')]))
    expect(drained.socket.ended).toBe(false)
    drained.socket.emit('drain')
    await new Promise((r) => setImmediate(r))
    expect(drained.socket.ended).toBe(true)
    expect(drained.socket.written).toEqual(['re:bye'])
  })

  it('drops the connection when a handler throws or its reply rejects, and handles nothing after', async () => {
    const sync = pump((body) => {
      if (body === 'bad') throw new Error('boom')
      return reply(`re:${body}`)
    })
    sync.pump.feed(Buffer.concat([frame('a'), frame('bad'), frame('b')]))
    expect(sync.socket.written).toEqual(['re:a'])
    expect(sync.errors).toHaveLength(1)
    expect(sync.socket.destroyed).toBe(true)

    const later = pump((body) => (body === 'bad' ? Promise.reject(new Error('late boom')) : reply(`re:${body}`)))
    later.pump.feed(Buffer.concat([frame('bad'), frame('b')]))
    await new Promise((r) => setImmediate(r))
    expect(later.socket.written).toEqual([])
    expect(later.errors).toHaveLength(1)
    expect(later.socket.destroyed).toBe(true)
  })

  it('pauses the socket past its bound of waiting messages and reads again once they are handled', async () => {
    let release: () => void = () => {}
    const { socket, pump: p } = pump((body) => (body === 'slow' ? new Promise<PumpReply>((resolve) => (release = () => resolve(reply('re:slow')))) : reply(`re:${body}`)))
    p.feed(frame('slow'))
    p.feed(Buffer.concat(Array.from({ length: 100 }, (_v, i) => frame(`m${i}`))))
    expect(socket.paused).toBe(true)
    release()
    await new Promise((r) => setImmediate(r))
    expect(socket.written).toHaveLength(101)
    expect(socket.paused).toBe(false)
  })
})
