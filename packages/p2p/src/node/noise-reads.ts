/**
 * Noise reads that end without an exception.
 *
 * `@chainsafe/libp2p-noise` (17.0.0) cuts the bytes it reads into Noise messages with
 * `@libp2p/utils`' LengthPrefixedDecoder, which, after each whole message, asks the
 * message's 2-byte length decoder for the next length and stops when that throws a
 * RangeError. So every read ends with a RangeError constructed for the empty remainder,
 * and constructing one captures a stack trace: ~9.5 µs on this machine, 5-6% of a
 * follower's loop under single-row replication (docs/benchmarks.md, "Frames handled as
 * they arrive"). Each connection this encrypter secures gets a length decoder that, for a
 * buffer too short to hold a length, says the next message is empty: the decoder then
 * needs the 2 bytes of its length, more than it holds, and stops as it does on the throw,
 * keeping what it holds for the next read. Anything else goes to the library's decoder.
 *
 * A connection whose decoder is not shaped as this expects (a later version of the
 * library) keeps the library's behaviour; noise-reads.test.ts then fails.
 */
import type { ConnectionEncrypter, SecuredConnection } from '@libp2p/interface'

/** Bytes of a Noise message's length (big-endian u16). */
const LENGTH_BYTES = 2

/** The part of the library's decoder this replaces. */
interface LengthDecoding {
  lengthDecoder: (data: { byteLength: number }) => number
}

const QUIET = Symbol.for('concord.quietNoiseReads')

/** A length decoder that answers 0 below `LENGTH_BYTES` (more than is held: wait), else asks `decode`. */
export function quietLengthDecoder(decode: LengthDecoding['lengthDecoder']): LengthDecoding['lengthDecoder'] {
  const quiet = (data: { byteLength: number }): number => (data.byteLength < LENGTH_BYTES ? 0 : decode(data))
  return Object.assign(quiet, { [QUIET]: true })
}

/** True when the connection's reads now end quietly. */
export function readsQuietly(connection: unknown): boolean {
  const decoder = (connection as { decoder?: Partial<LengthDecoding> } | null)?.decoder
  return typeof decoder?.lengthDecoder === 'function' && QUIET in decoder.lengthDecoder
}

function quieten(secured: SecuredConnection): SecuredConnection {
  const decoder = (secured.connection as unknown as { decoder?: Partial<LengthDecoding> }).decoder
  if (decoder !== undefined && typeof decoder.lengthDecoder === 'function' && !(QUIET in decoder.lengthDecoder)) {
    decoder.lengthDecoder = quietLengthDecoder(decoder.lengthDecoder)
  }
  return secured
}

/** `make`'s encrypter, whose secured connections read quietly. */
export function withQuietReads<C>(make: (components: C) => ConnectionEncrypter): (components: C) => ConnectionEncrypter {
  return (components) => {
    const encrypter = make(components)
    const inbound = encrypter.secureInbound.bind(encrypter)
    const outbound = encrypter.secureOutbound.bind(encrypter)
    encrypter.secureInbound = async (connection, options) => quieten(await inbound(connection, options))
    encrypter.secureOutbound = async (connection, options) => quieten(await outbound(connection, options))
    return encrypter
  }
}
