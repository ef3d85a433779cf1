/**
 * Yamux window updates once half of a stream's receive window is used, not after every
 * data frame.
 *
 * `@chainsafe/libp2p-yamux` (8.0.1) answers every data frame it receives with a window
 * update frame for the bytes that frame used. Concord's replication streams carry one small
 * message per commit, so every replicated commit cost the receiver an extra encrypted frame
 * and socket write (made before the message reached us: in the path of a commit's
 * visibility on the peer), and the sender an extra read and decryption. The Yamux
 * specification leaves when to send an update to the receiver; Go's and Rust's Yamux wait
 * until half the window is used. So does this: an established stream sends an update once
 * the unused part of its receive window falls below half of it, which is before the sender
 * can run out (it still holds the other half), so a stream never stalls for want of one.
 * Updates that carry a flag (SYN/ACK, in the other states) and a paused stream's handling
 * are left to the library. Measured: docs/benchmarks.md, "Yamux window updates, shard
 * markers, LMDB's write start".
 *
 * Installed once, when this package loads (libp2p-node.ts imports it first). If a later
 * version of the library no longer has the fields this relies on, streams keep the
 * library's behaviour (the test in yamux-window-updates.test.ts then fails).
 */
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/** The fields of a stream this reads (private in the library's types). */
interface WindowFields {
  state: StreamState
  recvWindow?: unknown
  recvWindowCapacity?: unknown
}

const INSTALLED = Symbol.for('concord.yamuxWindowUpdates')

/** True when an established stream has used less than half of its receive window. */
export function updateDeferred(stream: WindowFields): boolean {
  const { state, recvWindow, recvWindowCapacity } = stream
  if (state !== StreamState.Established || typeof recvWindow !== 'number' || typeof recvWindowCapacity !== 'number') return false
  return recvWindow - recvWindowCapacity < recvWindow / 2
}

function install(): void {
  const proto = YamuxStream.prototype as unknown as Record<PropertyKey, unknown> & { sendWindowUpdate: (this: YamuxStream) => void }
  if (proto[INSTALLED] === true) return
  const send = proto.sendWindowUpdate
  if (typeof send !== 'function') return
  proto.sendWindowUpdate = function sendWindowUpdate(this: YamuxStream): void {
    if (updateDeferred(this as unknown as WindowFields)) return
    send.call(this)
  }
  proto[INSTALLED] = true
}

install()
