/**
 * A writer entry: what one node has written to one row, stored as the value of the flat
 * key `rowKey + U+0000 + nodeId` in a shard's `rows` map (docs/decisions/0003-flat-writer-entries.md).
 *
 * Only its own node ever writes an entry, so Yjs never sees two concurrent writes to one
 * key and never silently drops one. Concurrency lives inside the values instead:
 *
 * - `cl` is the row's causal length as this writer last saw it: odd = live, even =
 *   deleted. Insert into an absent or deleted row and delete of a live row both bump it;
 *   the greatest `cl` among all entries is the row's, and only entries carrying that `cl`
 *   contribute column values. So a delete hides every column write it has seen or that
 *   ran concurrently with it (delete wins over a concurrent update), and a later insert
 *   brings the row back with only the values written after it.
 * - `hlc` is the timestamp of this writer's latest write to the row; each column stores
 *   its age `hlc - columnHlc` (usually 0).
 * - `born` is when this writer first wrote the row at this causal length (its insert,
 *   or its first update of a row someone else inserted), stored as the age `hlc - born`
 *   and left out when 0. Compaction uses it to tell a write to a row whose tombstone was
 *   dropped from a write to a new row (see generations/overlays.ts `isDropped`).
 * - `deps` lists the other writers' values of that column this writer had seen when it
 *   wrote: those values are superseded. Values nobody has superseded are concurrent and
 *   all survive until a later write (a multi-value register, docs/decisions/0004-multi-value-registers.md).
 * - A column value may be a *default*: what an INSERT that did not name the column put
 *   there. Among concurrent values a default gives way to any value written explicitly
 *   (see merge/policy.ts), so two nodes inserting one key with different columns keep
 *   both columns.
 *
 * Encoding (format 1) is one string, because Yjs stores, encodes and integrates one
 * string far cheaper than an array of fields (measured: 2-3x faster `applyUpdate`, less
 * memory per row):
 *
 *   entry  = "1" cl36 "," hlc36 [ "," bornAge36 ] *( RS column )
 *   column = name US age36 US deps US tag len36 ":" payload
 *   deps   = "" / writer FS hlc36 *( GS writer FS hlc36 )
 *
 * with RS = U+001E, US = U+001F, GS = U+001D, FS = U+001C, numbers in base 36, and tag
 * z null, t/f boolean, n number, i bigint, s string, x bytes (hex); the same tag in
 * upper case marks a default value. The payload is
 * length-prefixed, so values may contain any character; column names and node ids may
 * not contain U+0000 or U+001C..U+001F (checked where they are created).
 *
 * Entries arrive from the network: `parseEntry` checks every field and returns null for
 * anything malformed, which then counts as absent rather than crashing materialization.
 */
import { assert } from '../errors/assert.js'
import type { Value } from '../types.js'

export interface ColumnWrite {
  value: Value
  hlc: number
  /** Other writers' values of this column this write supersedes: writer -> hlc. */
  deps: ReadonlyArray<readonly [string, number]> | null
  /** A default filled in for a column the INSERT did not name (yields to explicit values). */
  dflt?: boolean
}

export interface WriterEntry {
  cl: number
  hlc: number
  /** When this writer first wrote the row at this causal length; absent means `hlc`. */
  born?: number
  cols: Map<string, ColumnWrite>
}

const FORMAT = '1'
const RS = '\u001e'
const US = '\u001f'
const GS = '\u001d'
const FS = '\u001c'

/** Characters that may not appear in column names or node ids. */
export const RESERVED_NAME_CHARS = /[\u0000\u001c-\u001f]/

/** Parses base-36 digits in s[start, end); -1 unless the whole range is 1..11 digits. */
function n36at(s: string, start: number, end: number): number {
  if (end <= start || end - start > 11) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i)
    let d: number
    if (c >= 48 && c <= 57) d = c - 48
    else if (c >= 97 && c <= 122) d = c - 87
    else return -1
    n = n * 36 + d
  }
  return n
}

function n36(s: string): number {
  return n36at(s, 0, s.length)
}

/** 36^5: below it a number's base-36 digits come from V8's fast path for small integers. */
const B36_LOW = 60_466_176
const B36_PAD = ['', '0', '00', '000', '0000']

/**
 * `n.toString(36)` for a non-negative safe integer, the same digits. V8 takes a general
 * path (made for fractions) for a radix other than 10 past the small integers: ~0.8 µs
 * for a timestamp, a twentieth of a bulk INSERT's work per row on the writer. Here the
 * number is cut into parts below 36^5, each converted on the fast path (~5x faster).
 */
export function base36(n: number): string {
  if (n < B36_LOW) return n.toString(36)
  const high = Math.floor(n / B36_LOW)
  const low = (n - high * B36_LOW).toString(36)
  return base36(high) + B36_PAD[5 - low.length]! + low
}

function encodeValue(v: Value, dflt: boolean): string {
  const text = encodePlainValue(v)
  return dflt ? text.charAt(0).toUpperCase() + text.slice(1) : text
}

/** Heads (`tag len36 ":"`) of string and number values shorter than 36^2 (most are), made once. */
const SHORT_VALUE = 1296
const STRING_HEADS = Array.from({ length: SHORT_VALUE }, (_, n) => 's' + n.toString(36) + ':')
const NUMBER_HEADS = Array.from({ length: 32 }, (_, n) => 'n' + n.toString(36) + ':')

function valueHead(heads: string[], tag: string, length: number): string {
  return length < heads.length ? heads[length]! : tag + length.toString(36) + ':'
}

function encodePlainValue(v: Value): string {
  let tag: string
  let payload: string
  switch (typeof v) {
    case 'string':
      return valueHead(STRING_HEADS, 's', v.length) + v
    case 'number':
      payload = String(v)
      return valueHead(NUMBER_HEADS, 'n', payload.length) + payload
    case 'bigint':
      tag = 'i'
      payload = v.toString()
      break
    case 'boolean':
      return v ? 't0:' : 'f0:'
    default:
      if (v === null) return 'z0:'
      tag = 'x'
      payload = ''
      for (const b of v as Uint8Array) payload += (b < 16 ? '0' : '') + b.toString(16)
  }
  return tag + payload.length.toString(36) + ':' + payload
}

/** Parses a value at `at`; returns [value, end, default] or null. */
function decodeValue(s: string, at: number): [Value, number, boolean] | null {
  const raw = s.charCodeAt(at)
  // Upper-case tag: a default value (see the module header).
  const dflt = raw >= 65 && raw <= 90
  const v = decodeTagged(s, at, dflt ? raw + 32 : raw)
  return v === null ? null : [v[0], v[1], dflt]
}

function decodeTagged(s: string, at: number, tag: number): [Value, number] | null {
  const colon = s.indexOf(':', at + 1)
  if (colon < 0) return null
  const len = n36at(s, at + 1, colon)
  if (len < 0 || colon + 1 + len > s.length) return null
  const payload = s.slice(colon + 1, colon + 1 + len)
  const end = colon + 1 + len
  switch (tag) {
    case 115 /* s */:
      return [payload, end]
    case 110 /* n */: {
      const n = Number(payload)
      if (payload.length === 0 || (Number.isNaN(n) && payload !== 'NaN')) return null
      return [n, end]
    }
    case 105 /* i */:
      if (!/^-?[0-9]+$/.test(payload)) return null
      return [BigInt(payload), end]
    case 122 /* z */:
      return len === 0 ? [null, end] : null
    case 116 /* t */:
      return len === 0 ? [true, end] : null
    case 102 /* f */:
      return len === 0 ? [false, end] : null
    case 120 /* x */: {
      if (len % 2 !== 0 || !/^[0-9a-f]*$/.test(payload)) return null
      const out = new Uint8Array(len / 2)
      for (let i = 0; i < out.length; i++) out[i] = parseInt(payload.slice(i * 2, i * 2 + 2), 16)
      return [out, end]
    }
    default:
      return null
  }
}

/**
 * Encodes an entry. Every replica decodes what this writes with `parseEntry`, which counts
 * a malformed entry as absent: so what it would refuse (a negative causal length or
 * timestamp, a column written after its entry) is a bug here, asserted before it could
 * silently lose a write everywhere.
 */
export function encodeEntry(entry: WriterEntry): string {
  assert(entry.cl >= 0 && Number.isSafeInteger(entry.cl) && entry.hlc >= 0 && Number.isSafeInteger(entry.hlc), 'an entry has a causal length and a timestamp')
  let out = encodeEntryHead(entry.cl, entry.hlc, entry.born)
  for (const [name, w] of entry.cols) {
    assert(w.hlc <= entry.hlc && w.hlc >= 0, 'a column write is not newer than its entry')
    let deps = ''
    if (w.deps !== null) {
      for (let i = 0; i < w.deps.length; i++) {
        if (i > 0) deps += GS
        deps += w.deps[i]![0] + FS + base36(w.deps[i]![1])
      }
    }
    out += columnPrefix(name, base36(entry.hlc - w.hlc), deps) + encodeValue(w.value, w.dflt === true)
  }
  return out
}

/** `FORMAT cl36 ","` for the causal lengths of a row's first lives. */
const CL_HEADS = Array.from({ length: 36 }, (_, n) => FORMAT + n.toString(36) + ',')

/** An entry's text before its columns (`encodeEntry`): the format, causal length, timestamp and, when earlier, birth age. */
export function encodeEntryHead(cl: number, hlc: number, born: number | undefined): string {
  const out = (cl < CL_HEADS.length ? CL_HEADS[cl]! : FORMAT + base36(cl) + ',') + base36(hlc)
  return born !== undefined && born < hlc ? out + ',' + base36(hlc - born) : out
}

/** A column's text in an entry up to its value (`encodeEntry`): its age and deps already encoded. */
function columnPrefix(name: string, age36: string, deps: string): string {
  return RS + name + US + age36 + US + deps + US
}

/** Column texts up to the value for columns written at their entry's time, without deps, by name (bounded: names are a schema's). */
const FRESH_PREFIXES = new Map<string, string>()
const MAX_FRESH_PREFIXES = 4096

/** A column written at its entry's time and superseding nothing (age 0, no deps), its part before the value made once per name. */
export function encodeFreshColumn(name: string, value: Value, dflt: boolean): string {
  let prefix = FRESH_PREFIXES.get(name)
  if (prefix === undefined) {
    prefix = columnPrefix(name, '0', '')
    if (FRESH_PREFIXES.size < MAX_FRESH_PREFIXES) FRESH_PREFIXES.set(name, prefix)
  }
  return prefix + encodeValue(value, dflt)
}

/** The causal length alone, without parsing the columns (hot path of row resolution); -1 if malformed. */
export function entryCl(raw: unknown): number {
  if (typeof raw !== 'string' || raw.charCodeAt(0) !== 49 /* '1' */) return -1
  const comma = raw.indexOf(',')
  return comma < 0 ? -1 : n36at(raw, 1, comma)
}

/**
 * Where the header fields after the causal length lie: the first comma, the end of the
 * hlc digits, and the end of the header (the optional born age lies between the two
 * ends, after a second comma). Null unless the entry starts like format 1.
 */
function headerBounds(raw: unknown): { comma: number; hlcEnd: number; end: number } | null {
  if (typeof raw !== 'string' || raw.charCodeAt(0) !== 49) return null
  const comma = raw.indexOf(',')
  if (comma < 0) return null
  const rs = raw.indexOf(RS, comma)
  const end = rs < 0 ? raw.length : rs
  const second = raw.indexOf(',', comma + 1)
  return { comma, hlcEnd: second >= 0 && second < end ? second : end, end }
}

/** The entry's timestamp alone; -1 if malformed. */
export function entryHlc(raw: unknown): number {
  const h = headerBounds(raw)
  return h === null ? -1 : n36at(raw as string, h.comma + 1, h.hlcEnd)
}

/** When the writer first wrote the row at this causal length (see `born`); -1 if malformed. */
export function entryBorn(raw: unknown): number {
  const h = headerBounds(raw)
  if (h === null) return -1
  const hlc = n36at(raw as string, h.comma + 1, h.hlcEnd)
  if (h.hlcEnd === h.end) return hlc
  const age = n36at(raw as string, h.hlcEnd + 1, h.end)
  return hlc < 0 || age < 0 || age > hlc ? -1 : hlc - age
}

function parseDeps(raw: string, start: number, end: number): Array<readonly [string, number]> | null | undefined {
  if (end <= start) return null
  const deps: Array<readonly [string, number]> = []
  for (const item of raw.slice(start, end).split(GS)) {
    const sep = item.indexOf(FS)
    const t = sep < 0 ? -1 : n36(item.slice(sep + 1))
    if (sep <= 0 || t < 0) return undefined
    deps.push([item.slice(0, sep), t])
  }
  return deps
}

/**
 * Walks an entry's columns in order, checking every field; `visit` gets each column's
 * name, value, timestamp and the bounds of its deps field. Returns the entry's causal length
 * and timestamp, or null when anything is malformed (then some columns may have been
 * visited already: callers discard what they built).
 */
export function scanEntry(
  raw: unknown,
  visit: ((name: string, value: Value, hlc: number, depsStart: number, depsEnd: number, dflt: boolean) => boolean) | null,
): { cl: number; hlc: number; born: number } | null {
  const h = headerBounds(raw)
  if (h === null) return null
  const s = raw as string
  const cl = n36at(s, 1, h.comma)
  let at = h.end < s.length ? h.end : -1
  const hlc = n36at(s, h.comma + 1, h.hlcEnd)
  const bornAge = h.hlcEnd < h.end ? n36at(s, h.hlcEnd + 1, h.end) : 0
  if (cl < 0 || hlc < 0 || !Number.isSafeInteger(hlc) || bornAge < 0 || bornAge > hlc) return null
  while (at >= 0) {
    const nameEnd = s.indexOf(US, at + 1)
    if (nameEnd < 0) return null
    const ageEnd = s.indexOf(US, nameEnd + 1)
    if (ageEnd < 0) return null
    const depsEnd = s.indexOf(US, ageEnd + 1)
    if (depsEnd < 0) return null
    const age = n36at(s, nameEnd + 1, ageEnd)
    if (nameEnd === at + 1 || age < 0 || age > hlc) return null
    const v = decodeValue(s, depsEnd + 1)
    if (v === null) return null
    if (visit !== null && !visit(s.slice(at + 1, nameEnd), v[0], hlc - age, ageEnd + 1, depsEnd, v[2])) return null
    at = v[1]
    if (at === s.length) break
    if (s.charCodeAt(at) !== 0x1e) return null
  }
  return { cl, hlc, born: hlc - bornAge }
}

/** Checks a deps field without keeping it (the single-writer path has no use for it). */
export function validDeps(raw: string, start: number, end: number): boolean {
  return parseDeps(raw, start, end) !== undefined
}

export function parseEntry(raw: unknown): WriterEntry | null {
  const cols = new Map<string, ColumnWrite>()
  const head = scanEntry(raw, (name, value, hlc, depsStart, depsEnd, dflt) => {
    const deps = parseDeps(raw as string, depsStart, depsEnd)
    if (deps === undefined) return false
    cols.set(name, dflt ? { value, hlc, deps, dflt } : { value, hlc, deps })
    return true
  })
  if (head === null) return null
  return head.born < head.hlc ? { cl: head.cl, hlc: head.hlc, born: head.born, cols } : { cl: head.cl, hlc: head.hlc, cols }
}
