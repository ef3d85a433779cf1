import { describe, expect, it } from 'vitest'
import { DecodeError, MessageType, PROTOCOL_VERSION, RowsStatus, decodeMessage, encodeMessage, type Message } from './messages.js'
import { crc32cByBytes } from '../codec/crc32c.js'
import { SeededRandom } from '../sim/seeded-random.js'

const samples: Message[] = [
  { type: MessageType.Hello, nodeId: 'node-1', region: 'eu-central', reply: false },
  { type: MessageType.Hello, nodeId: 'node-2', region: 'us-west', reply: true },
  { type: MessageType.Updates, prevLsn: 10, lsn: 2 ** 40, updates: [{ shard: 't:1:0:orders', generation: 0, update: new Uint8Array([1, 2, 3]) }, { shard: 'catalog', generation: 4, update: new Uint8Array(0) }] },
  { type: MessageType.Digest, lsn: 77, digests: [{ shard: 'catalog', generation: 0, hash: 0xdeadbeef, rows: 7 }, { shard: 't:2:3:x', generation: 1, hash: 0, rows: 0xffffffff }] },
  { type: MessageType.Digest, lsn: 78, digests: [{ shard: 'catalog', generation: 0, hash: 1, rows: 2 }], ask: true },
  { type: MessageType.Ack, lsn: Number.MAX_SAFE_INTEGER },
  { type: MessageType.SyncRequest, requests: [{ shard: 'catalog', generation: 0, stateVector: new Uint8Array([0]) }] },
  {
    type: MessageType.SyncDiff,
    diffs: [{ shard: 'catalog', generation: 2, update: new Uint8Array([9, 9]), hash: 12345, final: true, stateVector: new Uint8Array([1, 5, 6]) }],
  },
  { type: MessageType.Fragment, id: 7, index: 1, count: 3, total: 300, chunk: new Uint8Array([4, 5, 6]) },
  { type: MessageType.Heartbeat, lsn: 4242, held: [['node-1', 0], ['node-2', 2 ** 40]] },
  { type: MessageType.Heartbeat, lsn: 0, held: [] },
  { type: MessageType.RowsRequest, id: 3, table: 'orders', incarnation: 2, filter: `"id" = 3`, unplaced: true, shards: ['t:2:1:orders'] },
  { type: MessageType.Call, id: 4, topic: 'sql/forward', body: new Uint8Array([123, 125]) },
  { type: MessageType.Reply, id: 4, status: 2, body: new Uint8Array([1, 2, 3]) },
  {
    type: MessageType.Rows,
    id: 3,
    status: RowsStatus.Ok,
    message: '',
    columns: ['id', 'v', 'n', 'b', 'f', 'big', 'bytes'],
    rows: [
      [1, 'x', null, true, false, -(2n ** 70n), new Uint8Array([0, 255])],
      [-0.5, '', 1e300, false, true, 0n, new Uint8Array(0)],
    ],
  },
  { type: MessageType.Rows, id: 4, status: RowsStatus.NotHeld, message: 'node a does not hold relation "t"', columns: [], rows: [] },
  { type: MessageType.Notice, topic: 'pg_notify', body: new Uint8Array([123, 125]) },
  { type: MessageType.ReportsAsk, shard: 't:1:0:orders', generation: 3, hops: 2, holders: ['node-1', 'node-2'] },
  { type: MessageType.Reports, shard: 't:1:0:orders', generation: 3, groups: [{ stateVector: new Uint8Array([1, 7, 3]), holders: ['node-1'] }, { stateVector: new Uint8Array([0]), holders: [] }] },
  { type: MessageType.Held, answer: true, sets: [{ shard: 't:1:0:orders', generation: 2, hash: 0xdeadbeef, holders: 7, bits: new Uint8Array([0b101, 0x80]) }] },
]

describe('replication message codec', () => {
  it('round-trips every message type', () => {
    for (const m of samples) expect(decodeMessage(encodeMessage(m))).toEqual(m)
  })

  it('rejects every truncation of every message', () => {
    for (const m of samples) {
      const bytes = encodeMessage(m)
      for (let len = 0; len < bytes.length; len++) {
        expect(() => decodeMessage(bytes.subarray(0, len))).toThrow(DecodeError)
      }
    }
  })

  it('rejects garbled bytes: every single-byte change and random noise', () => {
    for (const m of samples) {
      const bytes = encodeMessage(m)
      for (let i = 0; i < bytes.length; i++) {
        const copy = bytes.slice()
        copy[i] = copy[i]! ^ 0x5a
        expect(() => decodeMessage(copy)).toThrow(DecodeError)
      }
    }
    const rng = new SeededRandom(42)
    for (let i = 0; i < 2000; i++) {
      const noise = new Uint8Array(rng.int(0, 64)).map(() => rng.int(0, 255))
      expect(() => decodeMessage(noise)).toThrow(DecodeError)
    }
  })

  it('rejects unknown versions, unknown types, oversize messages and trailing bytes', () => {
    const hello = encodeMessage(samples[0]!)
    expect(() => decodeMessage(hello, 8)).toThrow(/exceeds limit/)
    const reframe = (body: number[]) => {
      const b = new Uint8Array(body)
      const out = new Uint8Array(b.length + 4)
      out.set(b)
      new DataView(out.buffer).setUint32(b.length, crc32cByBytes(b))
      return out
    }
    const V = PROTOCOL_VERSION
    expect(() => decodeMessage(reframe([V + 1, 1, 1, 97, 1, 98]))).toThrow(/version/)
    // Version 1's DIGEST had no `ask` byte: its frames are refused whole, never misread.
    expect(() => decodeMessage(reframe([1, 3, 5, 0]))).toThrow(/version/)
    // Version 2 checksummed its frames with FNV-1a: such a frame is refused for its version.
    const fnvFramed = (body: number[]) => {
      const out = new Uint8Array(body.length + 4)
      out.set(body)
      let h = 0x811c9dc5
      for (const x of body) h = Math.imul(h ^ x, 0x01000193)
      new DataView(out.buffer).setUint32(body.length, h >>> 0)
      return out
    }
    expect(() => decodeMessage(fnvFramed([2, 3, 0, 5, 0]))).toThrow(/unsupported protocol version 2/)
    // A frame of this version is checked by CRC-32C, whatever its length and alignment.
    const long = reframe([V, 1, 100, ...new Array<number>(100).fill(97), 1, 98, 0])
    expect(decodeMessage(long)).toMatchObject({ type: MessageType.Hello, nodeId: 'a'.repeat(100), region: 'b' })
    const shifted = new Uint8Array(long.length + 3)
    shifted.set(long, 3)
    expect(decodeMessage(shifted.subarray(3))).toMatchObject({ type: MessageType.Hello, nodeId: 'a'.repeat(100) })
    expect(() => decodeMessage(fnvFramed([V, 1, 1, 97, 1, 98, 0]))).toThrow(/checksum mismatch/)
    expect(decodeMessage(reframe([V, 3, 0, 5, 0]))).toEqual({ type: MessageType.Digest, lsn: 5, digests: [] })
    expect(() => decodeMessage(reframe([V, 77]))).toThrow(/unknown message type/)
    expect(() => decodeMessage(reframe([V, 1, 1, 97, 1, 98, 0, 0]))).toThrow(/trailing/)
    expect(() => decodeMessage(reframe([V, 1, 1, 97, 1, 98, 2]))).toThrow(/invalid flag/)
    // a count claiming more entries than the message could hold
    expect(() => decodeMessage(reframe([V, 2, 0xff, 0xff, 0x03]))).toThrow(DecodeError)
    // fragments: index past the count, a single fragment, an empty chunk, total below count
    const fragment = (id: number, index: number, count: number, total: number, chunk: number[]) =>
      encodeMessage({ type: MessageType.Fragment, id, index, count, total, chunk: new Uint8Array(chunk) })
    expect(() => decodeMessage(fragment(1, 3, 3, 9, [1]))).toThrow(/invalid fragment/)
    expect(() => decodeMessage(fragment(1, 0, 1, 9, [1]))).toThrow(/invalid fragment/)
    expect(() => decodeMessage(fragment(1, 0, 2, 9, []))).toThrow(/invalid fragment/)
    expect(() => decodeMessage(fragment(1, 0, 5, 2, [1]))).toThrow(/invalid fragment/)
  })
})
