import { createServer, connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { corkWrites, writesCorked } from './corked-writes.js'

/** A connected pair of loopback sockets; closed after each test. */
const open: Socket[] = []
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const client = connect(port, '127.0.0.1')
  await new Promise<void>((resolve) => client.once('connect', resolve))
  const peer = await accepted
  server.close()
  open.push(client, peer)
  return [client, peer]
}

afterEach(() => {
  for (const s of open.splice(0)) s.destroy()
})

/** The system calls a socket's writes become: one `_write` per lone buffer, one `_writev` per gathered batch. */
function countWrites(socket: Socket): { write: number; writev: number[] } {
  const counts = { write: 0, writev: [] as number[] }
  const s = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void }
  const write = s._write.bind(socket)
  const writev = s._writev.bind(socket)
  s._write = (...a: unknown[]) => {
    counts.write++
    write(...a)
  }
  s._writev = (chunks: unknown[], cb: unknown) => {
    counts.writev.push(chunks.length)
    writev(chunks, cb)
  }
  return counts
}

/** Bytes `socket` receives until it holds `n`. */
function receive(socket: Socket, n: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let total = 0
  return new Promise((resolve) => {
    socket.on('data', (d: Buffer) => {
      parts.push(d)
      total += d.length
      if (total >= n) resolve(Buffer.concat(parts))
    })
  })
}

/** A list of buffers as the library hands one over: iterable, with its total length. */
type List = Uint8Array[] & { byteLength: number }
function listOf(...bufs: Uint8Array[]): List {
  return Object.assign(bufs, { byteLength: bufs.reduce((n, b) => n + b.byteLength, 0) })
}

/** A connection shaped as `@libp2p/tcp`'s: `sendData` writes each buffer of a list, stopping once the socket is full. */
function tcpLikeConnection(socket: Socket): { socket: Socket; sendData(list: List): { sentBytes: number; canSendMore: boolean } } {
  return {
    socket,
    sendData(list) {
      let sentBytes = 0
      let canSendMore = true
      for (const buf of list) {
        sentBytes += buf.byteLength
        canSendMore = this.socket.write(buf)
        if (!canSendMore) break
      }
      return { sentBytes, canSendMore }
    },
  }
}

describe('corked writes', () => {
  it('a list of buffers goes out in one writev, the bytes in order; without it, one write each', async () => {
    const [a, b] = await socketPair()
    // A Noise message as the library hands it: length, ciphertexts of the parts, tag.
    const parts = [
      Uint8Array.of(0, 40), new Uint8Array(12).fill(1), Uint8Array.of(2, 3, 4), new Uint8Array(9).fill(5), new Uint8Array(16).fill(6),
    ]
    const list = listOf(...parts)
    const expected = Buffer.concat(list)

    const plain = tcpLikeConnection(a)
    const plainCounts = countWrites(a)
    const got1 = receive(b, expected.length)
    plain.sendData(list)
    expect(Buffer.compare(await got1, expected)).toBe(0)
    expect(plainCounts).toEqual({ write: 5, writev: [] })
    b.removeAllListeners('data')

    const [c, d] = await socketPair()
    const corked = tcpLikeConnection(c)
    expect(corkWrites(corked)).toBe(true)
    expect(writesCorked(corked)).toBe(true)
    // Twice is once.
    expect(corkWrites(corked)).toBe(true)
    const counts = countWrites(c)
    const got2 = receive(d, expected.length * 2)
    expect(corked.sendData(list)).toEqual({ sentBytes: expected.length, canSendMore: true })
    expect(corked.sendData(list)).toEqual({ sentBytes: expected.length, canSendMore: true })
    expect(Buffer.compare(await got2, Buffer.concat([expected, expected]))).toBe(0)
    expect(counts).toEqual({ write: 0, writev: [5, 5] })
  })

  it('a list larger than the socket takes whole is left to the library: one write per buffer, as before', async () => {
    const [a, b] = await socketPair()
    const big = new Uint8Array(a.writableHighWaterMark + 1000).fill(7)
    const corked = tcpLikeConnection(a)
    corkWrites(corked)
    const counts = countWrites(a)
    const parts = [Uint8Array.of(1, 2), big, Uint8Array.of(3), Uint8Array.of(4)]
    const total = 2 + big.length + 2
    const got = receive(b, total)
    // Corked, the big buffer would wait in the socket and stop the library's loop until a
    // drain; left alone it is written at once and the loop goes on.
    let sent = corked.sendData(listOf(...parts)).sentBytes
    let at = 0
    for (let left = sent; left > 0; at++) left -= parts[at]!.byteLength
    if (at < parts.length) {
      await new Promise((resolve) => a.once('drain', resolve))
      sent += corked.sendData(listOf(...parts.slice(at))).sentBytes
    }
    expect(sent).toBe(total)
    const bytes = await got
    expect(bytes.length).toBe(total)
    expect([bytes[0], bytes[1], bytes[2], bytes[total - 2], bytes[total - 1]]).toEqual([1, 2, 7, 3, 4])
    expect(counts.write).toBeGreaterThanOrEqual(2)
    expect(counts.writev.filter((n) => n > 2)).toEqual([])
    // The next small list: one writev again.
    const got2 = receive(b, 3)
    corked.sendData(listOf(Uint8Array.of(5), Uint8Array.of(6), Uint8Array.of(7)))
    await got2
    expect(counts.writev.at(-1)).toBe(3)
  })

  it('leaves alone what it cannot cork', () => {
    const send = (): void => {}
    const noSocket = { sendData: send }
    expect(corkWrites(noSocket)).toBe(false)
    expect(noSocket.sendData).toBe(send)
    const webSocketLike = { socket: { send() {} }, sendData: send }
    const noMark = { socket: { cork() {}, uncork() {} }, sendData: send }
    expect(corkWrites(noMark)).toBe(false)
    expect(corkWrites(webSocketLike)).toBe(false)
    expect(webSocketLike.sendData).toBe(send)
    expect(corkWrites(null)).toBe(false)
    expect(corkWrites({ socket: { cork() {}, uncork() {}, writableHighWaterMark: 16384 } })).toBe(false)
    expect(writesCorked(noSocket)).toBe(false)
  })
})
