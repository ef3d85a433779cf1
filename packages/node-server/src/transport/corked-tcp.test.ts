import { withCorkedWrites, writesCorked } from '@concord/p2p' // first: Promise.withResolvers for libp2p on Node 20
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Listener, MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'

function quietLog(): unknown {
  const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false, newScope: () => log })
  return log
}

const closing: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const close of closing.splice(0)) await close()
})

/** An upgrader that hands back the raw connection it is given (no encryption, no muxer). */
function rawUpgrader(accepted: (c: MultiaddrConnection) => void): Upgrader {
  return {
    upgradeInbound: async (maConn: MultiaddrConnection) => accepted(maConn),
    upgradeOutbound: async (maConn: MultiaddrConnection) => maConn,
  } as unknown as Upgrader
}

describe('TCP connections of a node write corked', () => {
  it('both ends of a connection through @libp2p/tcp: a list of buffers leaves in one writev', async () => {
    const transport: Transport = withCorkedWrites(tcp())({ logger: { forComponent: quietLog } } as never)
    let accept!: (c: MultiaddrConnection) => void
    const inbound = new Promise<MultiaddrConnection>((resolve) => (accept = resolve))
    const listener: Listener = transport.createListener({ upgrader: rawUpgrader((c) => accept(c)) })
    await listener.listen(multiaddr('/ip4/127.0.0.1/tcp/0'))
    closing.push(() => listener.close())
    const outbound = (await transport.dial(listener.getAddrs()[0]!, { upgrader: rawUpgrader(() => {}), signal: AbortSignal.timeout(10_000) })) as unknown as MultiaddrConnection
    const server = await inbound
    closing.push(() => outbound.abort(new Error('done')), () => server.abort(new Error('done')))
    expect(writesCorked(outbound)).toBe(true)
    expect(writesCorked(server)).toBe(true)

    // The library's socket, spied on: one writev with every part, no lone writes.
    const socket = (outbound as unknown as { socket: Socket }).socket
    const s = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void }
    const calls: string[] = []
    const write = s._write.bind(socket)
    const writev = s._writev.bind(socket)
    s._write = (...a) => {
      calls.push('write')
      write(...a)
    }
    s._writev = (chunks, cb) => {
      calls.push(`writev ${chunks.length}`)
      writev(chunks, cb)
    }
    const parts = [Uint8Array.of(0, 31), new Uint8Array(12).fill(1), Uint8Array.of(2, 3, 4), new Uint8Array(16).fill(9)]
    const received: number[] = []
    const got = new Promise<void>((resolve) => {
      server.addEventListener('message', (evt) => {
        received.push(...(evt.data instanceof Uint8Array ? evt.data : evt.data.subarray()))
        if (received.length >= 33) resolve()
      })
    })
    outbound.send(new Uint8ArrayList(...parts) as never)
    await got
    expect(received).toEqual(parts.flatMap((p) => [...p]))
    expect(calls).toEqual(['writev 4'])
  })
})
