/**
 * Wire format of the replication protocol, version 3 (1 until DIGEST gained its `ask` byte:
 * the two reject each other's frames whole rather than misread a DIGEST; 2 until the
 * frame's checksum became CRC-32C, computed a word at a time, for FNV-1a's byte at a time:
 * 1-2% of a node's main thread replicating a bulk INSERT, see docs/benchmarks.md).
 *
 *   frame   = version:u8 type:u8 body checksum:u32(CRC-32C of version..body, big endian)
 *   HELLO   = nodeId:str region:str reply:u8   (reply 1: answers a HELLO, is not answered)
 *   UPDATES = prevLsn:varuint lsn:varuint n:varuint (shard:str generation:varuint update:bytes){n}
 *   DIGEST  = ask:u8 lsn:varuint n:varuint (shard:str generation:varuint hash:u32 rows:u32){n}
 *             (rows 0: the sender's rows are not comparable, see divergence-watch NOT_COMPARABLE;
 *             ask 1: answer with a digest of yours, see anti-entropy.ts `askAgain`)
 *   ACK     = lsn:varuint
 *   GENERATION = shard:str generation:varuint state:bytes   (a shard's newer generation, whole)
 *   SYNC_REQ  = n:varuint (shard:str generation:varuint stateVector:bytes){n}
 *   SYNC_DIFF = n:varuint (shard:str generation:varuint update:bytes hash:u32 final:u8 stateVector:bytes){n}
 *   FRAGMENT  = id:varuint index:varuint count:varuint total:varuint chunk:bytes
 *   HEARTBEAT = lsn:varuint n:varuint (peer:str lsn:varuint){n}
 *               (the sender's own LSN, and how far it durably holds each peer's changes;
 *               sent to every known peer each round while heartbeats are on, for failure
 *               detection and for choosing the most caught-up standby, see Replicator)
 *   ROWS_REQ  = id:varuint table:str incarnation:varuint filter:str unplaced:u8 n:varuint (shard:str){n}
 *             (federated read: a table's rows, asked of a holder; filter: a condition the rows must meet, opaque
 *             to core, '' for all; a holder may ignore it. unplaced 1: the rows of every shard of the table
 *             without a placement; shards: placed shards whose rows are asked too; see federated-reads.ts)
 *   ROWS      = id:varuint status:u8 message:str columns:varuint (column:str){columns} rows:varuint (value){columns x rows}
 *             (status 0 rows follow, 1 not held here, 2 past the sender's result limit; see federated-reads.ts)
 *   value     = tag:u8 payload  (0 null, 1 false, 2 true, 3 float64, 4 bigint as decimal str, 5 str, 6 bytes)
 *   NOTICE    = topic:str body:bytes   (ephemeral: handed to the layers above, never stored)
 *   CALL      = id:varuint topic:str body:bytes   (a request to one peer for the layers above, see peer-calls.ts)
 *   REPLY     = id:varuint status:u8 body:bytes   (its answer: status 0 done, 1 no handler, 2 failed; body opaque to core)
 *   REPORTS_ASK = shard:str generation:varuint hops:u8 n:varuint (holder:str){n}
 *             (which of these holders of a shard does the receiver know durably held which state; it may pass
 *             the ask on to its own links while hops > 0, see relayed-reports.ts)
 *   REPORTS   = shard:str generation:varuint n:varuint (stateVector:bytes m:varuint (holder:str){m}){n}
 *             (the answer: groups of holders, each known to have durably held exactly the state of that
 *             state vector in that generation)
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
import { writeUint32 } from '../codec/checked-record.js'
import { crc32c } from '../codec/crc32c.js'
import type { Value } from '../types.js'

export const PROTOCOL_VERSION = 3
export const MAX_SHARD_ID_BYTES = 1024
export const MAX_NODE_ID_BYTES = 256
export const MAX_ENTRIES_PER_MESSAGE = 100_000
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
/** Largest message reassembled from fragments (1 GiB). */
export const MAX_REASSEMBLED_BYTES = 1024 * 1024 * 1024
/** Most fragments one message may be cut into. */
export const MAX_FRAGMENTS = 65_536
/** Most peers one HEARTBEAT reports positions for. */
export const MAX_HEARTBEAT_PEERS = 4096

/** Most holders one REPORTS_ASK names, and one REPORTS vouches for. */
export const MAX_REPORT_HOLDERS = 4096
/** Most hops a REPORTS_ASK may still be passed on. */
export const MAX_REPORT_HOPS = 4
/** Most holders one HELD set names (one bit each). */
export const MAX_HELD_HOLDERS = 65_536

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
  Heartbeat: 9,
  Notice: 10,
  // Relayed state reports (relayed-reports.ts, docs/decisions/0018-stability-within-holders.md).
  ReportsAsk: 11,
  Reports: 12,
  // Held-by sets (housekeeping/held-sets.ts, docs/decisions/0036-held-by-sets.md).
  Held: 13,
  // Federated reads (federated-reads.ts), numbered apart from the replication messages above.
  RowsRequest: 20,
  Rows: 21,
  // Requests to one peer for the layers above (peer-calls.ts).
  Call: 22,
  Reply: 23,
} as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** Longest filter a ROWS_REQ carries. */
export const MAX_FILTER_BYTES = 64 * 1024

/** Status of a ROWS answer. */
export const RowsStatus = { Ok: 0, NotHeld: 1, TooLarge: 2 } as const
export type RowsStatus = (typeof RowsStatus)[keyof typeof RowsStatus]

/** Status of a REPLY. */
export const ReplyStatus = { Done: 0, NoHandler: 1, Failed: 2 } as const
export type ReplyStatus = (typeof ReplyStatus)[keyof typeof ReplyStatus]
/** Longest topic of a CALL. */
export const MAX_CALL_TOPIC_BYTES = 256

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
   * exchange repairs (reported as a divergence, see Replicator.divergences). 0 while the
   * sender holds overlays (NOT_COMPARABLE in divergence-watch).
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

/** Holders known to have durably held exactly the state of `stateVector` (REPORTS). */
export interface ReportGroup {
  stateVector: Uint8Array
  holders: string[]
}

/**
 * Holders of a shard known to have durably held exactly the state whose digest is `hash`
 * in `generation` (HELD): bit i of `bits` stands for the i-th of the shard's live holders
 * sorted by node id, a list whose hash is `holders` (housekeeping/held-sets.ts).
 */
export interface HeldSet {
  shard: string
  generation: number
  hash: number
  holders: number
  bits: Uint8Array
}

export type Message =
  | { type: typeof MessageType.Hello; nodeId: string; region: string; reply: boolean }
  | { type: typeof MessageType.Updates; prevLsn: number; lsn: number; updates: ShardUpdate[] }
  /** `ask`: answer with a digest of yours (anti-entropy.ts, the end of a repair). */
  | { type: typeof MessageType.Digest; lsn: number; digests: ShardDigest[]; ask?: boolean }
  | { type: typeof MessageType.Ack; lsn: number }
  | { type: typeof MessageType.Generation; shard: string; generation: number; state: Uint8Array }
  | { type: typeof MessageType.SyncRequest; requests: ShardStateVector[] }
  | { type: typeof MessageType.SyncDiff; diffs: ShardDiff[] }
  | { type: typeof MessageType.Fragment; id: number; index: number; count: number; total: number; chunk: Uint8Array }
  | { type: typeof MessageType.Heartbeat; lsn: number; held: Array<[string, number]> }
  | { type: typeof MessageType.RowsRequest; id: number; table: string; incarnation: number; filter: string; unplaced: boolean; shards: string[] }
  | { type: typeof MessageType.Rows; id: number; status: RowsStatus; message: string; columns: string[]; rows: Value[][] }
  | { type: typeof MessageType.Notice; topic: string; body: Uint8Array }
  | { type: typeof MessageType.Call; id: number; topic: string; body: Uint8Array }
  | { type: typeof MessageType.Reply; id: number; status: ReplyStatus; body: Uint8Array }
  | { type: typeof MessageType.ReportsAsk; shard: string; generation: number; hops: number; holders: string[] }
  | { type: typeof MessageType.Reports; shard: string; generation: number; groups: ReportGroup[] }
  | { type: typeof MessageType.Held; answer: boolean; sets: HeldSet[] }

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
    case MessageType.Call:
      encoding.writeVarUint(e, msg.id)
      encoding.writeVarString(e, msg.topic)
      encoding.writeVarUint8Array(e, msg.body)
      break
    case MessageType.Reply:
      encoding.writeVarUint(e, msg.id)
      encoding.writeUint8(e, msg.status)
      encoding.writeVarUint8Array(e, msg.body)
      break
    case MessageType.ReportsAsk:
      encoding.writeVarString(e, msg.shard)
      encoding.writeVarUint(e, msg.generation)
      encoding.writeUint8(e, msg.hops)
      encoding.writeVarUint(e, msg.holders.length)
      for (const h of msg.holders) encoding.writeVarString(e, h)
      break
    case MessageType.Reports:
      encoding.writeVarString(e, msg.shard)
      encoding.writeVarUint(e, msg.generation)
      encoding.writeVarUint(e, msg.groups.length)
      for (const g of msg.groups) {
        encoding.writeVarUint8Array(e, g.stateVector)
        encoding.writeVarUint(e, g.holders.length)
        for (const h of g.holders) encoding.writeVarString(e, h)
      }
      break
    case MessageType.Generation:
      encoding.writeVarString(e, msg.shard)
      encoding.writeVarUint(e, msg.generation)
      encoding.writeVarUint8Array(e, msg.state)
      break
    case MessageType.Held:
      encoding.writeUint8(e, msg.answer ? 1 : 0)
      encoding.writeVarUint(e, msg.sets.length)
      for (const h of msg.sets) {
        encoding.writeVarString(e, h.shard)
        encoding.writeVarUint(e, h.generation)
        encoding.writeUint32(e, h.hash)
        encoding.writeUint32(e, h.holders)
        encoding.writeVarUint8Array(e, h.bits)
      }
      break
    case MessageType.Digest:
      encoding.writeUint8(e, msg.ask === true ? 1 : 0)
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
    case MessageType.Heartbeat:
      encoding.writeVarUint(e, msg.lsn)
      encoding.writeVarUint(e, msg.held.length)
      for (const [peer, lsn] of msg.held) {
        encoding.writeVarString(e, peer)
        encoding.writeVarUint(e, lsn)
      }
      break
    case MessageType.RowsRequest:
      encoding.writeVarUint(e, msg.id)
      encoding.writeVarString(e, msg.table)
      encoding.writeVarUint(e, msg.incarnation)
      encoding.writeVarString(e, msg.filter)
      encoding.writeUint8(e, msg.unplaced ? 1 : 0)
      encoding.writeVarUint(e, msg.shards.length)
      for (const id of msg.shards) encoding.writeVarString(e, id)
      break
    case MessageType.Rows:
      encoding.writeVarUint(e, msg.id)
      encoding.writeUint8(e, msg.status)
      encoding.writeVarString(e, msg.message)
      encoding.writeVarUint(e, msg.columns.length)
      for (const c of msg.columns) encoding.writeVarString(e, c)
      encoding.writeVarUint(e, msg.rows.length)
      for (const row of msg.rows) for (const v of row) writeValue(e, v)
      break
  }
  const body = encoding.toUint8Array(e)
  const out = new Uint8Array(body.length + 4)
  out.set(body)
  // Not through a DataView of `out.buffer`: V8 makes that buffer (and copies into it) for a small array on its heap, as every acknowledgement is.
  writeUint32(out, body.length, crc32c(body))
  return out
}

function writeValue(e: encoding.Encoder, v: Value): void {
  if (v === null) encoding.writeUint8(e, 0)
  else if (typeof v === 'boolean') encoding.writeUint8(e, v ? 2 : 1)
  else if (typeof v === 'number') {
    encoding.writeUint8(e, 3)
    encoding.writeFloat64(e, v)
  } else if (typeof v === 'bigint') {
    encoding.writeUint8(e, 4)
    encoding.writeVarString(e, v.toString())
  } else if (typeof v === 'string') {
    encoding.writeUint8(e, 5)
    encoding.writeVarString(e, v)
  } else {
    encoding.writeUint8(e, 6)
    encoding.writeVarUint8Array(e, v)
  }
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

  /** A count, then that many node ids (non-empty, no U+0000), at most `max`. */
  nodeIds(max: number): string[] {
    const n = this.count(1)
    if (n > max) throw new DecodeError(`${n} node ids exceed limit ${max}`)
    const out: string[] = []
    for (let i = 0; i < n; i++) {
      const id = this.string(MAX_NODE_ID_BYTES)
      if (id.length === 0 || id.includes('\u0000')) throw new DecodeError('invalid node id')
      out.push(id)
    }
    return out
  }

  done(): void {
    if (this.remaining() !== 0) throw new DecodeError('trailing bytes')
  }

  f64(): number {
    if (this.remaining() < 8) throw new DecodeError('truncated')
    return decoding.readFloat64(this.d)
  }

  value(maxBytes: number): Value {
    const tag = this.u8()
    switch (tag) {
      case 0:
        return null
      case 1:
        return false
      case 2:
        return true
      case 3:
        return this.f64()
      case 4: {
        const digits = this.string(64)
        if (!/^-?[0-9]+$/.test(digits)) throw new DecodeError('invalid bigint')
        return BigInt(digits)
      }
      case 5:
        return this.string(maxBytes)
      case 6:
        return this.bytes(maxBytes).slice()
      default:
        throw new DecodeError(`unknown value tag ${tag}`)
    }
  }
}

export function decodeMessage(bytes: Uint8Array, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Message {
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('not bytes')
  if (bytes.length > maxBytes) throw new DecodeError(`message of ${bytes.length} bytes exceeds limit ${maxBytes}`)
  if (bytes.length < 6) throw new DecodeError('truncated')
  const bodyLen = bytes.length - 4
  // The version first: another version's frame may not even checksum as this one's does.
  if (bytes[0] !== PROTOCOL_VERSION) throw new DecodeError(`unsupported protocol version ${bytes[0]}`)
  const sum = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(bodyLen)
  if (crc32c(bytes.subarray(0, bodyLen)) !== sum) throw new DecodeError('checksum mismatch')
  const r = new Reader(bytes, bodyLen)
  r.u8()
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
    case MessageType.Call:
      msg = { type, id: r.varuint(MAX_LSN), topic: r.string(MAX_CALL_TOPIC_BYTES), body: r.bytes(maxBytes).slice() }
      break
    case MessageType.Reply: {
      const id = r.varuint(MAX_LSN)
      const status = r.u8()
      if (status !== ReplyStatus.Done && status !== ReplyStatus.NoHandler && status !== ReplyStatus.Failed) throw new DecodeError('invalid reply status')
      msg = { type, id, status, body: r.bytes(maxBytes).slice() }
      break
    }
    case MessageType.Generation:
      msg = { type, shard: r.string(MAX_SHARD_ID_BYTES), generation: r.varuint(2 ** 32), state: r.bytes(maxBytes) }
      break
    case MessageType.ReportsAsk: {
      const shard = r.string(MAX_SHARD_ID_BYTES)
      const generation = r.varuint(2 ** 32)
      const hops = r.u8()
      if (hops > MAX_REPORT_HOPS) throw new DecodeError(`ask of ${hops} hops exceeds limit ${MAX_REPORT_HOPS}`)
      msg = { type, shard, generation, hops, holders: r.nodeIds(MAX_REPORT_HOLDERS) }
      break
    }
    case MessageType.Reports: {
      const shard = r.string(MAX_SHARD_ID_BYTES)
      const generation = r.varuint(2 ** 32)
      const n = r.count(2)
      const groups: ReportGroup[] = []
      let holders = 0
      for (let i = 0; i < n; i++) {
        const stateVector = r.bytes(maxBytes)
        const ids = r.nodeIds(MAX_REPORT_HOLDERS)
        holders += ids.length
        if (holders > MAX_REPORT_HOLDERS) throw new DecodeError(`report of more than ${MAX_REPORT_HOLDERS} holders`)
        groups.push({ stateVector, holders: ids })
      }
      msg = { type, shard, generation, groups }
      break
    }
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
    case MessageType.Held: {
      const answer = r.flag()
      const n = r.count(11)
      const sets: HeldSet[] = []
      for (let i = 0; i < n; i++) {
        sets.push({ shard: r.string(MAX_SHARD_ID_BYTES), generation: r.varuint(2 ** 32), hash: r.u32(), holders: r.u32(), bits: r.bytes(MAX_HELD_HOLDERS / 8) })
      }
      msg = { type, answer, sets }
      break
    }
    case MessageType.Digest: {
      const ask = r.flag()
      const lsn = r.varuint(MAX_LSN)
      const n = r.count(10)
      const digests: ShardDigest[] = []
      for (let i = 0; i < n; i++) {
        digests.push({ shard: r.string(MAX_SHARD_ID_BYTES), generation: r.varuint(2 ** 32), hash: r.u32(), rows: r.u32() })
      }
      msg = ask ? { type, lsn, digests, ask } : { type, lsn, digests }
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
    case MessageType.Heartbeat: {
      const lsn = r.varuint(MAX_LSN)
      const n = r.count(2)
      if (n > MAX_HEARTBEAT_PEERS) throw new DecodeError(`heartbeat of ${n} peers exceeds limit ${MAX_HEARTBEAT_PEERS}`)
      const held: Array<[string, number]> = []
      for (let i = 0; i < n; i++) {
        const peer = r.string(MAX_NODE_ID_BYTES)
        if (peer.length === 0 || peer.includes('\u0000')) throw new DecodeError('invalid node id')
        held.push([peer, r.varuint(MAX_LSN)])
      }
      msg = { type, lsn, held }
      break
    }
    case MessageType.RowsRequest: {
      const id = r.varuint(MAX_LSN)
      const table = r.string(MAX_SHARD_ID_BYTES)
      const incarnation = r.varuint(2 ** 32)
      const filter = r.string(MAX_FILTER_BYTES)
      const unplaced = r.u8()
      if (unplaced > 1) throw new DecodeError('invalid unplaced flag')
      const n = r.count(1)
      const shards: string[] = []
      for (let i = 0; i < n; i++) shards.push(r.string(MAX_SHARD_ID_BYTES))
      msg = { type, id, table, incarnation, filter, unplaced: unplaced === 1, shards }
      break
    }
    case MessageType.Rows: {
      const id = r.varuint(MAX_LSN)
      const status = r.u8()
      if (status !== RowsStatus.Ok && status !== RowsStatus.NotHeld && status !== RowsStatus.TooLarge) throw new DecodeError('invalid rows status')
      const message = r.string(MAX_SHARD_ID_BYTES * 4)
      const width = r.count(1)
      const columns: string[] = []
      for (let i = 0; i < width; i++) columns.push(r.string(MAX_SHARD_ID_BYTES))
      const n = r.count(width)
      if (width === 0 && n > 0) throw new DecodeError('rows without columns')
      const rows: Value[][] = []
      for (let i = 0; i < n; i++) {
        const row: Value[] = []
        for (let j = 0; j < width; j++) row.push(r.value(maxBytes))
        rows.push(row)
      }
      msg = { type, id, status, message, columns, rows }
      break
    }
    default:
      throw new DecodeError(`unknown message type ${type}`)
  }
  r.done()
  return msg
}
