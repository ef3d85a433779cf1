/**
 * encode(bytea, format) and decode(text, format), PostgreSQL's binary-to-text encodings
 * (src/backend/utils/adt/encode.c): `hex` (two lowercase digits a byte; decoding skips
 * whitespace between pairs), `base64` (RFC 2045: a line break after every 76 characters;
 * decoding skips whitespace and checks the padding) and `escape` (a zero byte and bytes
 * with the high bit set as `\nnn`, a backslash doubled). Any other format is 22023, as
 * bad input is. They were missing (42883), as were length, octet_length and bit_length
 * of a bytea.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { T } from '../types/sql-type.js'
import type { ScalarResolver } from './scalar-impl.js'

const invalid = (message: string): SqlError => new SqlError(SqlState.invalidParameterValue, message)

function format(name: unknown): 'hex' | 'base64' | 'escape' {
  const f = String(name).toLowerCase()
  if (f === 'hex' || f === 'base64' || f === 'escape') return f
  throw invalid(`unrecognized encoding: "${String(name)}"`)
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

export function encodeBytes(bytes: Uint8Array, how: 'hex' | 'base64' | 'escape'): string {
  if (how === 'hex') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
  if (how === 'base64') {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
    const lines: string[] = []
    for (let i = 0; i < text.length; i += 76) lines.push(text.slice(i, i + 76))
    return lines.join('\n')
  }
  let out = ''
  for (const b of bytes) {
    if (b === 0x5c) out += '\\\\'
    else if (b === 0 || b >= 0x80) out += '\\' + b.toString(8).padStart(3, '0')
    else out += String.fromCharCode(b)
  }
  return out
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r'

function decodeHex(text: string): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < text.length; ) {
    if (isSpace(text[i]!)) {
      i++
      continue
    }
    const hi = parseInt(text[i]!, 16)
    if (Number.isNaN(hi) || !/[0-9a-fA-F]/.test(text[i]!)) throw invalid(`invalid hexadecimal digit: "${text[i]!}"`)
    if (i + 1 >= text.length) throw invalid('invalid hexadecimal data: odd number of digits')
    if (!/[0-9a-fA-F]/.test(text[i + 1]!)) throw invalid(`invalid hexadecimal digit: "${text[i + 1]!}"`)
    out.push(hi * 16 + parseInt(text[i + 1]!, 16))
    i += 2
  }
  return Uint8Array.from(out)
}

function decodeBase64(text: string): Uint8Array {
  let digits = ''
  let pad = 0
  for (const c of text) {
    if (isSpace(c)) continue
    if (c === '=') {
      pad++
      continue
    }
    if (pad > 0 || !BASE64.includes(c)) throw invalid(pad > 0 ? 'unexpected "=" while decoding base64 sequence' : `invalid symbol "${c}" found while decoding base64 sequence`)
    digits += c
  }
  if (pad > 2 || (pad > 0 && digits.length % 4 < 2)) throw invalid('unexpected "=" while decoding base64 sequence')
  if ((digits.length + pad) % 4 !== 0) throw invalid('invalid base64 end sequence')
  return Uint8Array.from(Buffer.from(digits, 'base64'))
}

function decodeEscape(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8')
  const out: number[] = []
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b !== 0x5c) {
      out.push(b)
      continue
    }
    if (bytes[i + 1] === 0x5c) {
      out.push(0x5c)
      i++
      continue
    }
    const oct = bytes.subarray(i + 1, i + 4).toString('latin1')
    if (!/^[0-3][0-7][0-7]$/.test(oct)) throw new SqlError(SqlState.invalidTextRepresentation, 'invalid input syntax for type bytea')
    out.push(parseInt(oct, 8))
    i += 3
  }
  return Uint8Array.from(out)
}

export function decodeText(text: string, how: 'hex' | 'base64' | 'escape'): Uint8Array {
  return how === 'hex' ? decodeHex(text) : how === 'base64' ? decodeBase64(text) : decodeEscape(text)
}

/** length / octet_length / bit_length of a bytea: its bytes (the text forms take text only). */
const byteLength = (bits: number): ScalarResolver => (ts) => (ts.length === 1 && ts[0]!.id === 'bytea' && !ts[0]!.array ? { args: [T.bytea], result: T.int4, fn: (a) => (a[0] as Uint8Array).length * bits } : null)

export const BINARY_ENCODING_FUNCTIONS: Record<string, ScalarResolver> = {
  length: byteLength(1),
  octet_length: byteLength(1),
  bit_length: byteLength(8),
  encode: (ts) => (ts.length === 2 ? { args: [T.bytea, T.text], result: T.text, fn: (a) => encodeBytes(a[0] as Uint8Array, format(a[1])) } : null),
  decode: (ts) => (ts.length === 2 ? { args: [T.text, T.text], result: T.bytea, fn: (a) => decodeText(a[0] as string, format(a[1])) } : null),
}
