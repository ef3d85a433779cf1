/**
 * Row snapshots: what a replica's table shards resolved to, written at a clean close and
 * as a checkpoint while the replica runs, so the next open (after a crash too) can serve
 * the rows before (or without) applying the shards' Yjs records
 * (docs/decisions/0017-row-snapshots.md, 0033-row-checkpoints.md). One metadata value
 * (`ROW_SNAPSHOT_META_KEY`):
 *
 *   byte 0      format version (5: a position's last record is known by its stored
 *               checksum; 4 hashed it with FNV-1a, 3 held digests of the encoded snapshot:
 *               both are read as no snapshot)
 *   bytes 1..   UTF-8 JSON: { hlc, replayedMs, shards: [ShardRowSnapshot as JSON] }
 *
 * A shard's rows are two parallel arrays: the row keys, and the rows as JSON objects (so
 * that JSON.parse builds them, far cheaper than building each row from a list of values).
 * Values JSON cannot carry as they are (bigint, bytes, NaN, infinities) are tagged
 * arrays: ["b", "<decimal>"], ["u", "<base64>"], ["n", "<text>"], and the columns holding
 * any are listed (`tagged`): only those are walked at load. Every other value is itself
 * (a row value is never an array); -0 is kept as 0, as writer entries keep it.
 *
 * Invariants: each shard's part names the position of the shard's storage log it resolves:
 * the generation, the number of records, their total bytes and a hash of the last of them
 * (`LogPosition`). The loader takes a part only when the stored log still begins with
 * exactly those records (same generation, at least that many records, the same bytes up
 * to it, the same last record) and the table's view has the fingerprint written beside
 * it (replica-loader.ts); the records after the position are applied on top. A log
 * rewritten since (compaction, a new generation) no longer begins with those records, so
 * its part is refused and the shard loads from its records. The decoder never trusts the
 * bytes: anything malformed is no snapshot at all (the shards load from their records,
 * as without one).
 */
import type { TableView } from '../catalog/table-view.js'
import type { Row, Value } from '../types.js'

export const ROW_SNAPSHOT_META_KEY = 'row-snapshot'
const VERSION = 5

/**
 * A position in a shard's storage log: its first `records` records, of `bytes` bytes in
 * all, the last of them hashing to `last` (its stored checksum: codec/checked-record.ts `recordChecksum`). Identifies a prefix of the log:
 * a log rewritten by compaction starts with another record and so differs in bytes or in
 * the last record's hash even when it holds as many records again.
 */
export interface LogPosition {
  records: number
  bytes: number
  last: number
}

/** One shard's resolved state, as `Shard.rowSnapshot` takes it and `Shard.restoreRows` puts it back. */
export interface ShardRowSnapshot extends LogPosition {
  shard: string
  generation: number
  /** `viewFingerprint` of the table view the rows were resolved under. */
  view: string
  /** The shard's Yjs digest, garbage count and live entry count (Shard.digest, garbage, entryCount). */
  digest: number
  garbage: number
  entries: number
  /** Order-independent hash of the rows (Shard.rowsHash). */
  rowsHash: number
  writers: string[]
  /** Row keys resolved as deleted that still hold entries (Shard.deletedRowKeys). */
  deleted: string[]
  /** Columns whose values include a tagged one (see the header). */
  tagged: string[]
  /** Row keys, in the order of `rows`. */
  keys: string[]
  rows: Array<Record<string, EncodedValue>>
  /**
   * The shard's Yjs state vector at the position, base64 (`stateVectorField`). Optional
   * (snapshots written before it lack it): with it, a shard opened from the snapshot
   * tells a peer with the same state what it holds without loading its document.
   */
  stateVector?: string
}

export interface RowSnapshot {
  /** The replica's hybrid clock when it was taken (at least every timestamp of the rows). */
  hlc: number
  /** Replica.lastReplayedCommitMs then. */
  replayedMs: number | null
  shards: ShardRowSnapshot[]
}

type EncodedValue = null | boolean | number | string | [string, string]

/** A table view's identity for row resolution: same fingerprint, same rows from the same entries. */
export function viewFingerprint(view: TableView): string {
  return JSON.stringify([view.info, [...view.policies], view.layout, view.special], (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
}

export function encodeValue(v: Value): EncodedValue {
  // -0 is kept as 0, as writer entries keep it (a snapshot gives what resolving the entries gives).
  if (typeof v === 'number') return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : ['n', String(v)]
  if (typeof v === 'bigint') return ['b', v.toString()]
  if (v instanceof Uint8Array) return ['u', bytesToBase64(v)]
  return v
}

function decodeValue(v: unknown): Value {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v
  if (!Array.isArray(v) || v.length !== 2 || typeof v[1] !== 'string') throw new Error('bad value')
  const [tag, text] = v as [unknown, string]
  if (tag === 'b') return BigInt(text)
  if (tag === 'u') return base64ToBytes(text)
  if (tag === 'n') return Number(text)
  throw new Error('bad value tag')
}

export function encodeRowSnapshot(snapshot: RowSnapshot): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(snapshot))
  const out = new Uint8Array(text.length + 1)
  out[0] = VERSION
  out.set(text, 1)
  return out
}

/** The snapshot `bytes` holds; null when there is none or it is not one this version wrote. */
export function decodeRowSnapshot(bytes: Uint8Array | undefined): RowSnapshot | null {
  if (bytes === undefined || bytes.length < 2 || bytes[0] !== VERSION) return null
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(1)))
    if (!isObject(parsed) || !Array.isArray(parsed['shards']) || !isCount(parsed['hlc'])) return null
    const replayedMs = parsed['replayedMs']
    if (replayedMs !== null && !isCount(replayedMs)) return null
    const shards: ShardRowSnapshot[] = []
    for (const s of parsed['shards'] as unknown[]) {
      if (!isShard(s)) return null
      shards.push(s)
    }
    return { hlc: parsed['hlc'] as number, replayedMs: replayedMs as number | null, shards }
  } catch {
    return null
  }
}

/**
 * A shard's part of a row snapshot before its rows are encoded (`Shard.rowCapture`): its
 * books and its rows as they were at the position. Rows are never changed in place (a
 * change puts a new row object in the shard's map), so holding the row objects keeps that
 * moment while the shard moves on.
 */
export interface ShardRowCapture {
  head: Omit<ShardRowSnapshot, 'tagged' | 'keys' | 'rows' | 'stateVector'>
  stateVector: string | undefined
  /** The table view's columns, in layout order: each row's fields, in this order. */
  columns: readonly string[]
  keys: string[]
  rows: Row[]
}

/** A row snapshot before its rows are encoded (`Replica.captureRows`). */
export interface RowSnapshotCapture {
  hlc: number
  replayedMs: number | null
  shards: ShardRowCapture[]
}

/** Rows `from` to `to` of `rows` as a snapshot keeps them, noting in `tagged` each column a tagged value was put in. */
function encodeRowRange(rows: readonly Row[], from: number, to: number, columns: readonly string[], tagged: Set<string>): Array<Record<string, EncodedValue>> {
  const out: Array<Record<string, EncodedValue>> = []
  for (let i = from; i < to; i++) {
    const row = rows[i]!
    const o: Record<string, EncodedValue> = {}
    for (const c of columns) {
      const v = encodeValue(row[c] ?? null)
      if (Array.isArray(v)) tagged.add(c)
      o[c] = v
    }
    out.push(o)
  }
  return out
}

/** Rows encoded per step of `encodeRowSnapshotSteps` when run to the end at once: the whole shard. */
export const ALL_ROWS = Number.MAX_SAFE_INTEGER

/**
 * The bytes of the row snapshot `capture` holds, exactly as `encodeRowSnapshot` gives them
 * for the snapshot it describes, encoded `rowsPerStep` rows at a time: the generator
 * yields after each step (its caller lets other work run there) and returns the bytes.
 * Each step's text is encoded to UTF-8 at once (pieces end between JSON tokens, so no
 * character is split), so no step handles more than its rows and the last step only
 * copies bytes.
 */
export function* encodeRowSnapshotSteps(capture: RowSnapshotCapture, rowsPerStep: number): Generator<void, Uint8Array, void> {
  const encoder = new TextEncoder()
  const pieces: Uint8Array[] = [Uint8Array.of(VERSION)]
  const text = (s: string): void => {
    pieces.push(encoder.encode(s))
  }
  const joined = (parts: readonly Uint8Array[]): void => {
    parts.forEach((p, i) => {
      if (i > 0) text(',')
      pieces.push(p)
    })
  }
  text(`{"hlc":${JSON.stringify(capture.hlc)},"replayedMs":${JSON.stringify(capture.replayedMs)},"shards":[`)
  for (let i = 0; i < capture.shards.length; i++) {
    const s = capture.shards[i]!
    const tagged = new Set<string>()
    const keyParts: Uint8Array[] = []
    const rowParts: Uint8Array[] = []
    for (let from = 0; from < s.keys.length; from += rowsPerStep) {
      const to = Math.min(s.keys.length, from + rowsPerStep)
      keyParts.push(encoder.encode(JSON.stringify(s.keys.slice(from, to)).slice(1, -1)))
      rowParts.push(encoder.encode(JSON.stringify(encodeRowRange(s.rows, from, to, s.columns, tagged)).slice(1, -1)))
      yield
    }
    // The head's fields, then tagged, keys and rows, then the state vector: the order encodeRowSnapshot writes a ShardRowSnapshot's fields in.
    text(`${i > 0 ? ',' : ''}${JSON.stringify(s.head).slice(0, -1)},"tagged":${JSON.stringify([...tagged])},"keys":[`)
    joined(keyParts)
    text('],"rows":[')
    joined(rowParts)
    text(`]${s.stateVector !== undefined ? `,"stateVector":${JSON.stringify(s.stateVector)}` : ''}}`)
  }
  text(']}')
  let size = 0
  for (const p of pieces) size += p.length
  const out = new Uint8Array(size)
  let at = 0
  let copied = 0
  for (const p of pieces) {
    out.set(p, at)
    at += p.length
    // The copy in steps too: writing fresh memory is page faults, about 5 ms a megabyte here.
    copied += p.length
    if (copied >= COPY_BYTES_PER_STEP) {
      copied = 0
      yield
    }
  }
  return out
}

/** Bytes `encodeRowSnapshotSteps` copies into its result per step. */
const COPY_BYTES_PER_STEP = 2 * 1024 * 1024

/** Puts the rows of a shard's snapshot into `rows` by row key (throws on a malformed row list: the caller loads the records instead). */
export function snapshotRows(s: ShardRowSnapshot, columns: readonly string[], rows: Map<string, Row>): void {
  if (s.keys.length !== s.rows.length) throw new Error('row keys and rows differ in number')
  const n = columns.length
  for (let i = 0; i < s.rows.length; i++) {
    const key = s.keys[i]!
    const row = s.rows[i] as unknown as Row
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new Error('a row is not an object')
    // Every column present (a whole-key comparison per row cost as much as the parse).
    for (let c = 0; c < n; c++) if (row[columns[c]!] === undefined) throw new Error('a row lacks a column of its table')
    for (const c of s.tagged) row[c] = decodeValue(row[c])
    rows.set(key, row)
  }
}

/** A state vector as a snapshot part keeps it. */
export function stateVectorField(stateVector: Uint8Array): string {
  return bytesToBase64(stateVector)
}

/** The state vector a snapshot part keeps; undefined when it keeps none or one that does not decode. */
export function snapshotStateVector(s: ShardRowSnapshot, valid: (bytes: Uint8Array) => boolean): Uint8Array | undefined {
  if (typeof s.stateVector !== 'string') return undefined
  try {
    const bytes = base64ToBytes(s.stateVector)
    return valid(bytes) ? bytes : undefined
  } catch {
    return undefined
  }
}

function isShard(s: unknown): s is ShardRowSnapshot {
  if (!isObject(s)) return false
  return typeof s['shard'] === 'string' && isCount(s['generation']) && isCount(s['records']) && isCount(s['bytes']) && isCount(s['last']) &&
    typeof s['view'] === 'string' &&
    isCount(s['digest']) && isCount(s['garbage']) && isCount(s['entries']) && isCount(s['rowsHash']) &&
    isStrings(s['writers']) && isStrings(s['deleted']) && isStrings(s['tagged']) && isStrings(s['keys']) && Array.isArray(s['rows'])
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string')
}

function bytesToBase64(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

function base64ToBytes(text: string): Uint8Array {
  const s = atob(text)
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}
