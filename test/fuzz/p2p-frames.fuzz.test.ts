/**
 * Fuzz campaign over the libp2p-level formats a peer or a gossip relay can send: the
 * length prefix of a sync-protocol message, sync frames (HELLO and PEERS carry JSON, DATA
 * opaque bytes) and gossip envelopes.
 *
 * Properties: each decoder throws only its own error class (a length prefix may also say
 * "incomplete" with RangeError, which makes lpStream read on); an accepted sync frame
 * re-encodes to one that decodes the same, with every limit on node ids and addresses
 * kept; an accepted length is finite and within what 5 varint bytes hold; the frame
 * splitter an inbound sync stream reads through hands back, however the bytes are cut,
 * the frames a reading of the whole stream finds, and throws only LengthPrefixError,
 * where that reading refuses a prefix.
 */
import { describe, expect, it } from 'vitest'
import {
  GossipEnvelopeError,
  LengthPrefixError,
  MAX_PREFIX_BYTES,
  SyncFrameError,
  decodeGossipEnvelope,
  decodeLengthPrefix,
  decodeSyncFrame,
  encodeGossipEnvelope,
  FrameSplitter,
  encodeSyncFrame,
  type SyncFrame,
} from '@concord/p2p'
import { encodeMessage, MessageType } from '@concord/core'
import { mutate, randomBytes } from './byte-mutator.js'
import { campaignRandom, fuzzBudget } from './fuzz-budget.js'

const ADDR = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const replicaBytes = encodeMessage({ type: MessageType.Hello, nodeId: 'n1', region: 'default', reply: false })

const syncSamples: SyncFrame[] = [
  { type: 'hello', nodeId: 'node-1', addrs: [ADDR, '/ip4/10.0.0.2/tcp/4001/ws'] },
  { type: 'hello', nodeId: 'ü-node', addrs: [] },
  { type: 'peers', addrs: [ADDR, ADDR.replace('4001', '4002')] },
  { type: 'data', data: replicaBytes },
]
const syncCorpus = syncSamples.map(encodeSyncFrame)
const gossipCorpus = [encodeGossipEnvelope('node-1', replicaBytes), encodeGossipEnvelope('n'.repeat(255), new Uint8Array([1]))]
const prefixCorpus = [[0x00], [0x7f], [0x80, 0x01], [0xff, 0xff, 0x03], [0xff, 0xff, 0xff, 0xff, 0x0f]].map((b) => Uint8Array.from(b))

function expectOnly(e: unknown, classes: ReadonlyArray<abstract new (...args: never[]) => Error>, what: string): void {
  if (!classes.some((c) => e instanceof c)) throw new Error(`${what}: unexpected ${String(e)}`, { cause: e })
}

describe('fuzz: libp2p sync frames and gossip envelopes', () => {
  it('decodeSyncFrame throws only SyncFrameError, and every frame it accepts keeps the limits and round-trips', () => {
    const { seeds, iterations } = fuzzBudget(20_000)
    let accepted = 0
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'sync-frame')
      for (let i = 0; i < iterations; i++) {
        const bytes = mutate(rng, rng.pick(syncCorpus), { maxLength: 8192 })
        let frame: SyncFrame
        try {
          frame = decodeSyncFrame(bytes)
        } catch (e) {
          expectOnly(e, [SyncFrameError], `seed ${seed} iteration ${i} on ${Buffer.from(bytes).toString('hex')}`)
          continue
        }
        accepted++
        expect(decodeSyncFrame(encodeSyncFrame(frame))).toEqual(frame)
      }
    }
    expect(accepted).toBeGreaterThan(0)
  })

  it('decodeGossipEnvelope throws only GossipEnvelopeError, and an accepted envelope names a UTF-8 origin of at most 255 bytes', () => {
    const { seeds, iterations } = fuzzBudget(20_000)
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'gossip-envelope')
      for (let i = 0; i < iterations; i++) {
        const bytes = rng.chance(0.05) ? randomBytes(rng, 300) : mutate(rng, rng.pick(gossipCorpus), { maxLength: 1024 })
        try {
          const { origin, data } = decodeGossipEnvelope(bytes)
          const idBytes = Buffer.byteLength(origin)
          expect(idBytes).toBeGreaterThan(0)
          expect(idBytes).toBeLessThanOrEqual(255)
          expect(2 + idBytes + data.length).toBe(bytes.length)
        } catch (e) {
          expectOnly(e, [GossipEnvelopeError], `seed ${seed} iteration ${i} on ${Buffer.from(bytes).toString('hex')}`)
        }
      }
    }
  })

  it('decodeLengthPrefix reads at most 5 bytes: a length, "incomplete" (RangeError) or LengthPrefixError, never more', () => {
    const { seeds, iterations } = fuzzBudget(20_000)
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'length-prefix')
      for (let i = 0; i < iterations; i++) {
        const bytes = rng.chance(0.3) ? randomBytes(rng, 12) : mutate(rng, rng.pick(prefixCorpus), { maxLength: 12 })
        try {
          const n = decodeLengthPrefix(bytes)
          expect(Number.isSafeInteger(n) && n >= 0 && n < 2 ** (7 * MAX_PREFIX_BYTES)).toBe(true)
        } catch (e) {
          expectOnly(e, [LengthPrefixError, RangeError], `seed ${seed} iteration ${i} on ${Buffer.from(bytes).toString('hex')}`)
          if (e instanceof RangeError && !(e instanceof LengthPrefixError)) expect(bytes.length).toBeLessThan(MAX_PREFIX_BYTES)
        }
      }
    }
  })

  it('FrameSplitter: the frames a reading of the whole stream finds, or its LengthPrefixError, however the bytes are cut', () => {
    const { seeds, iterations } = fuzzBudget(5_000)
    const bound = 300
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'frame-splitter')
      for (let i = 0; i < iterations; i++) {
        const stream = rng.chance(0.3) ? randomBytes(rng, 600) : mutate(rng, rng.pick(syncCorpus.map(framed)), { maxLength: 600 })
        const where = `seed ${seed} iteration ${i} on ${Buffer.from(stream).toString('hex')}`
        const expected = wholeStreamFrames(stream, bound)
        const splitter = new FrameSplitter(bound)
        const frames: Uint8Array[] = []
        try {
          for (let at = 0; at < stream.length; ) {
            const size = rng.int(1, 64)
            frames.push(...splitter.push(stream.subarray(at, at + size)))
            at += size
          }
        } catch (e) {
          expectOnly(e, [LengthPrefixError], where)
          expect(expected.refused, where).toBe(true)
          expect(frames.map(hex), where).toEqual(expected.frames.slice(0, frames.length).map(hex))
          continue
        }
        expect(expected.refused, where).toBe(false)
        expect(frames.map(hex), where).toEqual(expected.frames.map(hex))
      }
    }
  })
})

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/**
 * The whole frames of `stream` read one after another with decodeLengthPrefix (the
 * reference: fuzzed above), and whether a prefix was refused (endless, or a length over
 * `bound`) before the stream ended.
 */
function wholeStreamFrames(stream: Uint8Array, bound: number): { frames: Uint8Array[]; refused: boolean } {
  const frames: Uint8Array[] = []
  for (let at = 0; at < stream.length; ) {
    let length: number
    try {
      length = decodeLengthPrefix(stream.subarray(at))
    } catch (e) {
      return { frames, refused: e instanceof LengthPrefixError }
    }
    if (length > bound) return { frames, refused: true }
    let size = 1
    while ((stream[at + size - 1]! & 0x80) !== 0) size++
    if (at + size + length > stream.length) break
    frames.push(stream.subarray(at + size, at + size + length))
    at += size + length
  }
  return { frames, refused: false }
}

/** `body` behind its shortest varint length prefix, as the sync protocol writes it. */
function framed(body: Uint8Array): Uint8Array {
  const prefix: number[] = []
  for (let n = body.length; ; n = Math.floor(n / 128)) {
    if (n < 0x80) {
      prefix.push(n)
      break
    }
    prefix.push((n & 0x7f) | 0x80)
  }
  return Buffer.concat([Uint8Array.from(prefix), body])
}
