/**
 * Wire format of the replication protocol, version 1.
 *
 *   frame   = version:u8 type:u8 body checksum:u32(FNV-1a of version..body, big endian)
 *   HELLO   = nodeId:str region:str reply:u8   (reply 1: answers a HELLO, is not answered)
 *   UPDATES = prevLsn:varuint lsn:varuint n:varuint (shard:str generation:varuint update:bytes){n}
 *   DIGEST  = lsn:varuint n:varuint (shard:str generation:varuint hash:u32 rows:u32){n}
 *   ACK     = lsn:varuint
 *   GENERATION = shard:str generation:varuint state:bytes   (a shard's newer generation, whole)
 *   SYNC_REQ  = n:varuint (shard:str generation:varuint stateVector:bytes){n}
 *   SYNC_DIFF = n:varuint (shard:str generation:varuint update:bytes hash:u32 final:u8 stateVector:bytes){n}
 *   FRAGMENT  = id:varuint index:varuint count:varuint total:varuint chunk:bytes
 *   NOTICE    = topic:str body:bytes   (ephemeral: handed to the layers above, never stored)
 *
 * A message larger than the size limit (a big shard's diff or generation) travels as
 * FRAGMENTs: consecutive slices of its encoded frame, `count` of them, `total` bytes in
 * all, numbered from 0 under one sender-chosen `id`; the receiver reassembles them
 * (bounded, see MAX_REASSEMBLED_BYTES) and decodes the result as one message.
 *
 * `str` and `bytes` are a varuint length and the bytes. An LSN is a position in the
 * sender's own change sequence (bytes of local updates it has committed, only growing):
 * UPDATES says which range of it the message carries, DIGEST where the sender stands, and
 * ACK tells the sender how far the receiver durably holds everything it wrote. The decoder trusts nothing: it
 * checks the version, the checksum, every length and count against what remains and
 * against the limits below, and rejects trailing bytes. A message that fails any check
 * is rejected whole (DecodeError) and nothing in it is applied.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { fnv1a } from '../codec/checksum.js'

export const PROTOCOL_VERSION = 1
export const MAX_SHARD_ID_BYTES = 1024
export const MAX_NODE_ID_BYTES = 256
export const MAX_ENTRIES_PER_MESSAGE = 100_000
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
/** Largest message reassembled from fragments (1 GiB). */
export const MAX_REASSEMBLED_BYTES = 1024 * 1024 * 1024
/** Most fragments one message may be cut into. */
export const MAX_FRAGMENTS = 65_536

/** Message type tags. A plain object rather than an enum: the sources use erasable syntax only. */
export const MessageType = {
  Hello: 1,
  Updates: 2,
  Digest: 3,
  SyncRequest: 4,
  SyncDiff: 5,
  Ack: 6,
  Generation: 7,
  Fragment: 8,
  Notice: 9,
} as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** Largest topic and body of a NOTICE (the SQL layer's channel names and NOTIFY payloads are far smaller). */
export const MAX_NOTICE_TOPIC_BYTES = 1024
export const MAX_NOTICE_BODY_BYTES = 64 * 1024

/** Largest LSN the codec carries (2^53 - 1: exact in a double). */
export const MAX_LSN = Number.MAX_SAFE_INTEGER

export interface ShardUpdate {
  shard: string
  generation: number
  update: Uint8Array
}

export interface ShardDigest {
  shard: string
  generation: number
  /** Hash of the Yjs state (state vector and delete set): equal when both hold the same updates. */
  hash: number
  /**
   * Hash of the materialized rows. Two replicas with equal `hash` must have equal `rows`;
   * if not, their documents hold different content under the same Yjs ids, which no
   * exchange repairs (reported as a divergence, see Replicator.divergences).
   */
  rows: number
}

export interface ShardStateVector {
  shard: string
  generation: number
  stateVector: Uint8Array
}

export interface ShardDiff {
  shard: string
  generation: number
  update: Uint8Array
  /** Digest of the sender's shard when it sent this diff. */
  hash: number
  /** The last step of an exchange: the receiver must not answer with another diff. */
  final: boolean
  /** Sender's state vector (empty when final), so the receiver can send back what the sender lacks. */
  stateVector: Uint8Array
}

export type Message =
  | { type: typeof MessageType.Hello; nodeId: string; region: string; reply: boolean }
  | { type: typeof MessageType.Updates; prevLsn: number; lsn: number; updates: ShardUpdate[] }
  | { type: typeof MessageType.Digest; lsn: number; digests: ShardDigest[] }
  | { type: typeof MessageType.Ack; lsn: number }
  | { type: typeof MessageType.Generation; shard: string; generation: number; state: Uint8Array }
  | { type: typeof MessageType.SyncRequest; requests: ShardStateVector[] }
  | { type: typeof MessageType.SyncDiff; diffs: ShardDiff[] }
  | { type: typeof MessageType.Fragment; id: number; index: number; count: number; total: number; chunk: Uint8Array }
  | { type: typeof MessageType.Notice; topic: string; body: Uint8Array }

export class DecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DecodeError'
  }
}

export function encodeMessage(msg: Message): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeUint8(e, PROTOCOL_VERSION)
  encoding.writeUint8(e, msg.type)
  switch (msg.type) {
    case MessageType.Hello:
      encoding.writeVarString(e, msg.nodeId)
      encoding.writeVarString(e, msg.region)
      encoding.writeUint8(e, msg.reply ? 1 : 0)
      break
    case MessageType.Updates:
      encoding.writeVarUint(e, msg.prevLsn)
      encoding.writeVarUint(e, msg.lsn)
      encoding.writeVarUint(e, msg.updates.length)
      for (const u of msg.updates) {
        encoding.writeVarString(e, u.shard)
        encoding.writeVarUint(e, u.generation)
        encoding.writeVarUint8Array(e, u.update)
      }
      break
    case MessageType.Ack:
      encoding.writeVarUint(e, msg.lsn)
      break
    case MessageType.Notice:
      encoding.writeVarString(e, msg.topic)
      encoding.writeVarUint8Array(e, msg.body)
      break
    case MessageType.Generation:
      encoding.writeVarString(e, msg.shard)
      encoding.writeVarUint(e, msg.generation)
      encoding.writeVarUint8Array(e, msg.state)
      break
    case MessageType.Digest:
      encoding.writeVarUint(e, msg.lsn)
      encoding.writeVarUint(e, msg.digests.length)
      for (const d of msg.digests) {
        encoding.writeVarString(e, d.shard)
        encoding.writeVarUint(e, d.generation)
        encoding.writeUint32(e, d.hash)
        encoding.writeUint32(e, d.rows)
      }
      break
    case MessageType.SyncRequest:
      encoding.writeVarUint(e, msg.requests.length)
      for (const r of msg.requests) {
        encoding.writeVarString(e, r.shard)
        encoding.writeVarUint(e, r.generation)
        encoding.writeVarUint8Array(e, r.stateVector)
      }
      break
    case MessageType.SyncDiff:
      encoding.writeVarUint(e, msg.diffs.length)
      for (const d of msg.diffs) {
        encoding.writeVarString(e, d.shard)
        encoding.writeVarUint(e, d.generation)
        encoding.writeVarUint8Array(e, d.update)
        encoding.writeUint32(e, d.hash)
        encoding.writeUint8(e, d.final ? 1 : 0)
        encoding.writeVarUint8Array(e, d.stateVector)
      }
      break
    case MessageType.Fragment:
      encoding.writeVarUint(e, msg.id)
      encoding.writeVarUint(e, msg.index)
      encoding.writeVarUint(e, msg.count)
      encoding.writeVarUint(e, msg.total)
      encoding.writeVarUint8Array(e, msg.chunk)
      break
  }
  const body = encoding.toUint8Array(e)
  const out = new Uint8Array(body.length + 4)
  out.set(body)
  new DataView(out.buffer).setUint32(body.length, fnv1a(body))
  return out
}

/** Reads with bounds checks; lib0's readers would read past the end or allocate blindly. */
class Reader {
  private readonly d: decoding.Decoder
  private readonly end: number

  constructor(bytes: Uint8Array, end: number) {
    this.d = decoding.createDecoder(bytes.subarray(0, end))
    this.end = end
  }

  private remaining(): number {
    return this.end - this.d.pos
  }

  u8(): number {
    if (this.remaining() < 1) throw new DecodeError('truncated')
    return decoding.readUint8(this.d)
  }

  /** A u8 that must be 0 or 1. */
  flag(): boolean {
    const b = this.u8()
    if (b > 1) throw new DecodeError('invalid flag')
    return b === 1
  }

  u32(): number {
    if (this.remaining() < 4) throw new DecodeError('truncated')
    return decoding.readUint32(this.d)
  }

  varuint(max: number): number {
    let n = 0
    let mult = 1
    for (let i = 0; i < 8; i++) {
      const b = this.u8()
      n += (b & 0x7f) * mult
      if (b < 0x80) {
        if (n > max) throw new DecodeError(`value ${n} exceeds limit ${max}`)
        return n
      }
      mult *= 128
    }
    throw new DecodeError('varuint too long')
  }

  bytes(max: number): Uint8Array {
    const len = this.varuint(max)
    if (len > this.remaining()) throw new DecodeError('length exceeds message')
    const out = this.d.arr.subarray(this.d.pos, this.d.pos + len)
    this.d.pos += len
    return out
  }

  string(max: number): string {
    const b = this.bytes(max)
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b)
    } catch {
      throw new DecodeError('invalid utf-8')
    }
  }

  count(minBytesEach: number): number {
    const n = this.varuint(MAX_ENTRIES_PER_MESSAGE)
    if (n * minBytesEach > this.remaining()) throw new DecodeError('count exceeds message')
    return n
  }

  done(): void {
    if (this.remaining() !== 0) throw new DecodeError('trailing bytes')
  }
}

export function decodeMessage(bytes: Uint8Array, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Message {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('not bytes')
  if (bytes.length > maxBytes) throw new DecodeError(`message of ${bytes.length} bytes exceeds limit ${maxBytes}`)
  if (bytes.length < 6) throw new DecodeError('truncated')
  const bodyLen = bytes.length - 4
  const sum = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(bodyLen)
  if (fnv1a(bytes.subarray(0, bodyLen)) !== sum) throw new DecodeError('checksum mismatch')
  const r = new Reader(bytes, bodyLen)
  const version = r.u8()
  if (version !== PROTOCOL_VERSION) throw new DecodeError(`unsupported protocol version ${version}`)
  const type = r.u8()
  let msg: Message
  switch (type) {
    case MessageType.Hello:
      msg = { type, nodeId: r.string(MAX_NODE_ID_BYTES), region: r.string(MAX_NODE_ID_BYTES), reply: r.flag() }
      if (msg.nodeId.length === 0 || msg.nodeId.includes('\u0000')) throw new DecodeError('invalid node id')
      break
    case MessageType.Ack:
      msg = { type, lsn: r.varuint(MAX_LSN) }
      break
    case MessageType.Notice:
      msg = { type, topic: r.string(MAX_NOTICE_TOPIC_BYTES), body: r.bytes(MAX_NOTICE_BODY_BYTES) }
      break
    case MessageType.Generation:
      msg = { type, shard: r.string(MAX_SHARD_ID_BYTES), generation: r.varuint(2 ** 32), state: r.bytes(maxBytes) }
      break
    case MessageType.Updates: {
      const prevLsn = r.varuint(MAX_LSN)
      const lsn = r.varuint(MAX_LSN)
      if (lsn < prevLsn) throw new DecodeError('lsn range reversed')
      const n = r.count(3)
      const updates: ShardUpdate[] = []
      for (let i = 0; i < n; i++) {
        updates.push({ shard: r.string(MAX_SHARD_ID_BYTES), generation: r.varuint(2 ** 32), update: r.bytes(maxBytes) })
      }
      msg = { type, prevLsn, lsn, updates }
      break
    }
    case MessageType.Digest: {
      const lsn = r.varuint(MAX_LSN)
      const n = r.count(10)
      const digests: ShardDigest[] = []
      for (let i = 0; i < n; i++) {
        digests.push({ shard: r.string(MAX_SHARD_ID_BYTES), generation: r.varuint(2 ** 32), hash: r.u32(), rows: r.u32() })
      }
      msg = { type, lsn, digests }
      break
    }
    case MessageType.SyncRequest: {
      const n = r.count(3)
      const requests: ShardStateVector[] = []
      for (let i = 0; i < n; i++) {
        requests.push({ shard: r.string(MAX_SHARD_ID_BYTES), generation: r.varuint(2 ** 32), stateVector: r.bytes(maxBytes) })
      }
      msg = { type, requests }
      break
    }
    case MessageType.SyncDiff: {
      const n = r.count(9)
      const diffs: ShardDiff[] = []
      for (let i = 0; i < n; i++) {
        const shard = r.string(MAX_SHARD_ID_BYTES)
        const generation = r.varuint(2 ** 32)
        const update = r.bytes(maxBytes)
        const hash = r.u32()
        const final = r.flag()
        const stateVector = r.bytes(maxBytes)
        diffs.push({ shard, generation, update, hash, final, stateVector })
      }
      msg = { type, diffs }
      break
    }
    case MessageType.Fragment: {
      const id = r.varuint(MAX_LSN)
      const index = r.varuint(MAX_REASSEMBLED_BYTES)
      const count = r.varuint(MAX_REASSEMBLED_BYTES)
      const total = r.varuint(MAX_REASSEMBLED_BYTES)
      const chunk = r.bytes(maxBytes)
      if (count < 2 || count > MAX_FRAGMENTS || index >= count || chunk.length === 0 || total < count) throw new DecodeError('invalid fragment')
      msg = { type, id, index, count, total, chunk }
      break
    }
    default:
      throw new DecodeError(`unknown message type ${type}`)
  }
  r.done()
  return msg
}
