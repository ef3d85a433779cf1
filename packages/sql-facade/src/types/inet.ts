/**
 * INET and CIDR: an IPv4 or IPv6 address with a netmask length (an inet may have host
 * bits set; a cidr may not).
 *
 * The runtime value is a sort key string so that the executor's generic string ordering,
 * grouping and storage give PostgreSQL's network_cmp order without a class of its own:
 *   family ('4' | '6') + the network prefix as '0'/'1' characters + '/' + the whole address
 *   as fixed-width hex
 * Comparing keys compares the family, then the common prefix bits, then a shorter prefix
 * first ('/' sorts below '0'), then the full address, which is network_cmp. The key of a
 * cidr and of an inet with the same address and mask are equal, as the values are in
 * PostgreSQL. `formatInet` turns a key back into PostgreSQL's text.
 *
 * Invariants: keys come only from `inetKey`; a cidr key has no host bit set.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

export interface InetValue {
  family: 4 | 6
  /** 4 or 16 bytes. */
  bytes: number[]
  bits: number
}

class BadInet extends Error {}

function bad(): never {
  throw new BadInet()
}

function parseV4(s: string, abbreviated: boolean): number[] {
  const parts = s.split('.')
  if (parts.length > 4 || (!abbreviated && parts.length !== 4)) bad()
  const out = parts.map((p) => {
    if (!/^\d{1,3}$/.test(p)) bad()
    const n = Number(p)
    if (n > 255) bad()
    return n
  })
  while (out.length < 4) out.push(0)
  return out
}

function parseV6(s: string): number[] {
  let tail: number[] = []
  let text = s
  const lastColon = text.lastIndexOf(':')
  if (text.slice(lastColon + 1).includes('.')) {
    tail = parseV4(text.slice(lastColon + 1), false)
    text = text.slice(0, lastColon + 1) + '0:0'
  }
  const halves = text.split('::')
  if (halves.length > 2) bad()
  const words = (h: string): number[] => (h === '' ? [] : h.split(':').map((w) => {
    if (!/^[0-9a-f]{1,4}$/i.test(w)) bad()
    return parseInt(w, 16)
  }))
  const head = words(halves[0]!)
  const rest = halves.length === 2 ? words(halves[1]!) : []
  const fill = 8 - head.length - rest.length
  if (halves.length === 2 ? fill < 1 : fill !== 0) bad()
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...rest]
  const bytes = all.flatMap((w) => [w >> 8, w & 255])
  if (tail.length) bytes.splice(12, 4, ...tail)
  return bytes
}

/** The classful default mask of an IPv4 cidr written without one, widened to cover the octets given. */
function classfulBits(bytes: number[], octetsGiven: number): number {
  const a = bytes[0]!
  let bits = a >= 240 ? 32 : a >= 224 ? 4 : a >= 192 ? 24 : a >= 128 ? 16 : 8
  if (octetsGiven * 8 > bits) bits = octetsGiven * 8
  let last = 0
  for (let i = 0; i < 4; i++) if (bytes[i]) last = i + 1
  return Math.max(bits, last * 8)
}

function hostBitsSet(v: InetValue): boolean {
  for (let i = 0; i < v.bytes.length * 8; i++) {
    if (i >= v.bits && (v.bytes[i >> 3]! >> (7 - (i & 7))) & 1) return true
  }
  return false
}

/** inet_in / cidr_in. */
export function parseInet(text: string, cidr: boolean): InetValue {
  const type = cidr ? 'cidr' : 'inet'
  let v: InetValue
  try {
    const s = text.trim()
    const slash = s.indexOf('/')
    const addr = slash < 0 ? s : s.slice(0, slash)
    const mask = slash < 0 ? null : s.slice(slash + 1)
    if (mask !== null && !/^\d{1,3}$/.test(mask)) bad()
    if (addr.includes(':')) {
      const bytes = parseV6(addr)
      const bits = mask === null ? 128 : Number(mask)
      if (bits > 128) bad()
      v = { family: 6, bytes, bits }
    } else {
      const bytes = parseV4(addr, cidr)
      const bits = mask === null ? (cidr ? classfulBits(bytes, addr.split('.').length) : 32) : Number(mask)
      if (bits > 32) bad()
      v = { family: 4, bytes, bits }
    }
  } catch (e) {
    if (e instanceof BadInet) throw new SqlError(SqlState.invalidTextRepresentation, `invalid input syntax for type ${type}: "${text}"`)
    throw e
  }
  if (cidr && hostBitsSet(v)) {
    throw new SqlError(SqlState.invalidTextRepresentation, `invalid cidr value: "${text}"`, { detail: 'Value has bits set to right of mask.' })
  }
  return v
}

export function inetKey(v: InetValue): string {
  let prefix = ''
  for (let i = 0; i < v.bits; i++) prefix += (v.bytes[i >> 3]! >> (7 - (i & 7))) & 1
  return `${v.family}${prefix}/${v.bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

export function inetFromKey(key: string): InetValue {
  const family = key[0] === '6' ? 6 : 4
  const slash = key.indexOf('/')
  const hex = key.slice(slash + 1)
  const bytes: number[] = []
  for (let i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16))
  return { family, bytes, bits: slash - 1 }
}

function formatV6(bytes: number[]): string {
  const words: number[] = []
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!)
  // The longest run of two or more zero words becomes '::' (the first such run on a tie).
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  // An IPv4-compatible or -mapped address ends in dotted-quad form.
  const v4Tail = best === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':')
  if (v4Tail) {
    const head = bestLen === 5 ? '::ffff:' : '::'
    return head + bytes.slice(12).join('.')
  }
  if (best < 0) return hex(words)
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`
}

/** inet_out / cidr_out: an inet omits a full-length mask; a cidr always shows it. */
export function formatInet(key: string, cidr: boolean): string {
  const v = inetFromKey(key)
  const addr = v.family === 4 ? v.bytes.join('.') : formatV6(v.bytes)
  const full = v.family === 4 ? 32 : 128
  return cidr || v.bits !== full ? `${addr}/${v.bits}` : addr
}

/** inet → cidr: the host bits cleared (set_masklen / the cidr cast). */
export function inetToCidrKey(key: string): string {
  const v = inetFromKey(key)
  const bytes = v.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, v.bits - i * 8))
    return b & ((0xff << (8 - keep)) & 0xff)
  })
  return inetKey({ ...v, bytes })
}
