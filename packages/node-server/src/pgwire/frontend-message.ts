/**
 * Decodes the frontend (client to server) messages Concord handles after startup.
 * pg-gateway frames the stream; each input here is one whole message: [type u8][len i32][body].
 * Every count and length is checked against the message: a client cannot make the
 * decoder read past a message or allocate more than the message holds.
 */
import { SqlError, SqlState } from '@concord/sql-facade'
import { int32At } from './frame-guard.js'

export type FrontendMessage =
  | { type: 'query'; sql: string }
  | { type: 'parse'; name: string; sql: string; paramTypes: number[] }
  | { type: 'bind'; portal: string; statement: string; paramFormats: number[]; params: Array<Uint8Array | null>; resultFormats: number[] }
  | { type: 'describe'; kind: 'S' | 'P'; name: string }
  | { type: 'execute'; portal: string; maxRows: number }
  | { type: 'close'; kind: 'S' | 'P'; name: string }
  | { type: 'sync' }
  | { type: 'flush' }
  | { type: 'terminate' }
  | { type: 'copyData'; data: Uint8Array }
  | { type: 'copyDone' }
  | { type: 'copyFail'; message: string }
  | { type: 'unsupported'; code: string }

/** A message that breaks the protocol: the connection cannot go on reading. */
export class ProtocolError extends SqlError {
  constructor(message: string) {
    super(SqlState.protocolViolation, message)
    this.name = 'ProtocolError'
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false })

/**
 * Reads one message at a time; one reader serves every message (decoding is synchronous
 * and never nested), so a message costs no reader or DataView of its own.
 */
class Reader {
  private pos = 5
  private m: Uint8Array = EMPTY

  /** Starts on `m`, past its header. */
  open(m: Uint8Array): void {
    this.m = m
    this.pos = 5
  }

  /** Lets go of the message (a reader kept alive must not keep its socket chunk). */
  close(): void {
    this.m = EMPTY
  }

  int16(): number {
    this.need(2)
    const m = this.m
    const v = ((m[this.pos]! << 24) | (m[this.pos + 1]! << 16)) >> 16
    this.pos += 2
    return v
  }
  int32(): number {
    this.need(4)
    const v = int32At(this.m, this.pos)
    this.pos += 4
    return v
  }
  byte(): number {
    this.need(1)
    return this.m[this.pos++]!
  }
  cstring(): string {
    const start = this.pos
    const end = this.m.indexOf(0, start)
    if (end < 0) throw new ProtocolError('unterminated string in message')
    this.pos = end + 1
    // The unnamed statement and portal: four of a node-postgres query's five messages name them.
    return end === start ? '' : decoder.decode(this.m.subarray(start, end))
  }
  bytes(n: number): Uint8Array {
    this.need(n)
    const b = this.m.slice(this.pos, this.pos + n)
    this.pos += n
    return b
  }
  /** A count of items of at least `minItemBytes` each that must fit in the rest of the message. */
  count(minItemBytes: number): number {
    const n = this.int16()
    if (n < 0 || n * minItemBytes > this.m.length - this.pos) throw new ProtocolError(`count ${n} does not fit the message`)
    return n
  }
  private need(n: number): void {
    if (this.pos + n > this.m.length) throw new ProtocolError('message shorter than its contents')
  }
}

const EMPTY = new Uint8Array(0)
const reader = new Reader()

export function decodeFrontendMessage(m: Uint8Array): FrontendMessage {
  if (m.length < 5) throw new ProtocolError('message shorter than its header')
  if (int32At(m, 1) !== m.length - 1) throw new ProtocolError('message length does not match its frame')
  reader.open(m)
  try {
    return decodeBody(m, reader)
  } finally {
    reader.close()
  }
}

function decodeBody(m: Uint8Array, r: Reader): FrontendMessage {
  const type = String.fromCharCode(m[0]!)
  switch (type) {
    case 'Q':
      return { type: 'query', sql: r.cstring() }
    case 'P': {
      const name = r.cstring()
      const sql = r.cstring()
      const n = r.count(4)
      const paramTypes: number[] = []
      for (let i = 0; i < n; i++) paramTypes.push(r.int32())
      return { type: 'parse', name, sql, paramTypes }
    }
    case 'B': {
      const portal = r.cstring()
      const statement = r.cstring()
      const nf = r.count(2)
      const paramFormats: number[] = []
      for (let i = 0; i < nf; i++) paramFormats.push(r.int16())
      const np = r.count(4)
      const params: Array<Uint8Array | null> = []
      for (let i = 0; i < np; i++) {
        const len = r.int32()
        if (len < -1) throw new ProtocolError(`parameter length ${len}`)
        params.push(len === -1 ? null : r.bytes(len))
      }
      const nr = r.count(2)
      const resultFormats: number[] = []
      for (let i = 0; i < nr; i++) resultFormats.push(r.int16())
      return { type: 'bind', portal, statement, paramFormats, params, resultFormats }
    }
    case 'D':
    case 'C': {
      const kind = String.fromCharCode(r.byte())
      if (kind !== 'S' && kind !== 'P') throw new ProtocolError(`invalid ${type === 'D' ? 'Describe' : 'Close'} target '${kind}'`)
      const name = r.cstring()
      return type === 'D' ? { type: 'describe', kind, name } : { type: 'close', kind, name }
    }
    case 'E': {
      const portal = r.cstring()
      return { type: 'execute', portal, maxRows: r.int32() }
    }
    case 'S':
      return { type: 'sync' }
    case 'H':
      return { type: 'flush' }
    case 'X':
      return { type: 'terminate' }
    case 'd':
      // A view, not a copy: COPY data is consumed before the next message arrives.
      return { type: 'copyData', data: m.subarray(5) }
    case 'c':
      return { type: 'copyDone' }
    case 'f':
      return { type: 'copyFail', message: r.cstring() }
    default:
      return { type: 'unsupported', code: type }
  }
}
