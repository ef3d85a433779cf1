/**
 * A Node socket as the web-stream duplex pg-gateway reads and writes.
 *
 * Why not pg-gateway's own `fromNodeSocket`: we need to (a) write each reply batch with
 * exactly one `socket.write` on a `noDelay` socket, and (b) slip the startup
 * ParameterStatus/BackendKeyData messages in front of the first ReadyForQuery, which
 * pg-gateway does not send. `beforeNextWrite` does (b). After that write, pg-server.ts
 * takes the connection's bytes (`direct`) from pg-gateway: it only did startup.
 */
import type { Socket } from 'node:net'
import { FrameGuard } from './frame-guard.js'

export interface SocketDuplex {
  readable: ReadableStream<Uint8Array>
  writable: WritableStream<Uint8Array>
  /** Bytes to prepend to the next write (then cleared). */
  beforeNextWrite?: Uint8Array
  /** Called once, right after the write that carried `beforeNextWrite` (startup's last reply). */
  afterStartupWrite?: () => void
  /**
   * Once set, the socket's bytes go here instead of to `readable` (pg-gateway has handed
   * the connection over: message-pump.ts); the frame guard still checks them first.
   */
  direct?: (chunk: Uint8Array) => void
}

/** Chunks buffered from the socket before it is paused. */
const READ_HIGH_WATER = 16

export function socketDuplex(socket: Socket, onBadFrame: (err: Error) => void, maxMessageBytes?: number): SocketDuplex {
  let done = false
  const guard = new FrameGuard(maxMessageBytes)
  const duplex: SocketDuplex = {
    readable: new ReadableStream<Uint8Array>(
      {
        start(controller) {
          socket.on('data', (chunk: Buffer) => {
            if (done) return
            try {
              guard.feed(chunk)
            } catch (err) {
              done = true
              onBadFrame(err as Error)
              socket.destroy()
              controller.close()
              return
            }
            if (duplex.direct !== undefined) return duplex.direct(chunk)
            // A copy of its own, not a view: pg-gateway reads each message's length through
            // a DataView of the view's whole ArrayBuffer, ignoring its offset, so a chunk
            // that is a slice of a larger buffer (as socket reads can be) had its length read
            // from other bytes; a zero there looped pg-gateway forever on the event loop
            // and the node stopped answering (seen in the browser-over-wss test, 3 runs in 8).
            controller.enqueue(new Uint8Array(chunk))
            if ((controller.desiredSize ?? 1) <= 0) socket.pause()
          })
          const finish = (): void => {
            if (done) return
            done = true
            controller.close()
          }
          socket.on('end', finish)
          socket.on('close', finish)
          socket.on('error', (err) => {
            if (done) return
            done = true
            controller.error(err)
          })
        },
        pull() {
          socket.resume()
        },
        cancel() {
          done = true
          socket.destroy()
        },
      },
      { highWaterMark: READ_HIGH_WATER },
    ),
    writable: new WritableStream<Uint8Array>({
      write(chunk) {
        if (socket.destroyed) return
        let bytes = chunk
        let after: (() => void) | undefined
        if (duplex.beforeNextWrite) {
          bytes = concat(duplex.beforeNextWrite, chunk)
          duplex.beforeNextWrite = undefined
          after = duplex.afterStartupWrite
          duplex.afterStartupWrite = undefined
        }
        if (bytes.byteLength === 0) return
        const flushed = socket.write(bytes)
        after?.()
        if (flushed) return
        return new Promise<void>((resolve) => {
          const done = (): void => {
            socket.off('drain', done)
            socket.off('close', done)
            resolve()
          }
          socket.on('drain', done)
          socket.on('close', done)
        })
      },
      close() {
        socket.end()
      },
      abort() {
        socket.destroy()
      },
    }),
  }
  return duplex
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}
