/**
 * Row snapshots: what a replica's table shards resolved to, written at a clean close and
 * as a checkpoint while the replica runs, so the next open (after a crash too) can serve
 * the rows before (or without) applying the shards' Yjs records
 * (docs/decisions/0017-row-snapshots.md, 0033-row-checkpoints.md). Since format 6 one
 * metadata value per shard (its part, `rowSnapshotPartKey`) and one that names them (the
 * manifest, `ROW_SNAPSHOT_META_KEY`), so a checkpoint writes again only the parts of
 * shards that changed since the last one:
 *
 *   byte 0      format version (6; 5 held every part in the one value, 4 hashed a
 *               position's last record with FNV-1a, 3 held digests of the encoded
 *               snapshot: all are read as no snapshot)
 *   bytes 1..   UTF-8 JSON: the manifest { hlc, replayedMs, parts: [{ shard, id }] }, or a
 *               part (ShardRowSnapshot as JSON, its `id` among its fields)
 *
 * A shard's rows are two parallel arrays: the row keys, and the rows as JSON objects (so
 * that JSON.parse builds them, far cheaper than building each row from a list of values).
 * When every row's key is its primary key's values encoded (`rowKeyOf`; the encoder
 * checks each row), the part names those columns (`keyColumns`) and its key array is
 * empty: the loader derives each key from its row (for a short row, about a sixth of a
 * part's bytes and a tenth of a start's time: no key list to parse and check).
 * Values JSON cannot carry as they are (bigint, bytes, NaN, infinities) are tagged
 * arrays: ["b", "<decimal>"], ["u", "<base64>"], ["n", "<text>"], and the columns holding
 * any are listed (`tagged`): only those are walked at load. Every other value is itself
 * (a row value is never an array); -0 is kept as 0, as writer entries keep it.
 *
 * Invariants: each shard's part names the position of the shard's storage log it resolves:
 * the generation, the number of records, their total bytes and a hash of the last of them
 * (`LogPosition`). The loader takes a part only when the manifest names it by its `id`
 * (a part written by a checkpoint whose manifest never landed, or since cleared, is not
 * taken), the stored log still begins with exactly those records (same generation, at
 * least that many records, the same bytes up to it, the same last record) and the table's
 * view has the fingerprint written beside it (replica-loader.ts); the records after the
 * position are applied on top. A log rewritten since (compaction, a new generation) no
 * longer begins with those records, so its part is refused and the shard loads from its
 * records. A part's id is the replica's clock when it was taken (above every timestamp of
 * its rows, and never taken twice: `nextRowSnapshotPartId`). The decoder never trusts the
 * bytes: a malformed manifest is no snapshot at all, a malformed part no part (the shards
 * load from their records, as without one).
 */
import type { TableView } from '../catalog/table-view.js'
import { rowKeyOf } from '../codec/row-key.js'
import type { Row, Value } from '../types.js'

/** The manifest's metadata key. */
export const ROW_SNAPSHOT_META_KEY = 'row-snapshot'
const VERSION = 6

/** The metadata key of a shard's part. */
export function rowSnapshotPartKey(shard: string): string {
  return `${ROW_SNAPSHOT_META_KEY}/${shard}`
}

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
  /** Names the part in the manifest: the replica's clock when the part was taken. */
  id: number
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
  /**
   * When present, each row's key is `rowKeyOf` these columns of the row (its values
   * decoded), and `keys` is empty.
   */
  keyColumns?: string[]
  /** Row keys, in the order of `rows` (empty when `keyColumns` derives them). */
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
  /** The parts the manifest names that were read and carry the id it names them by. */
  shards: ShardRowSnapshot[]
  /** Every shard the manifest names a part of (their part keys may hold values). */
  named: string[]
}

/** A part as the manifest names it. */
export interface RowSnapshotPartRef {
  shard: string
  id: number
}

/** The value that names a row snapshot's parts (`ROW_SNAPSHOT_META_KEY`). */
export interface RowSnapshotManifest {
  hlc: number
  replayedMs: number | null
  parts: RowSnapshotPartRef[]
}

/** The id of a part taken now: the clock, above the last id given (`last`) so that no two parts share one. */
export function nextRowSnapshotPartId(hlc: number, last: number): number {
  return Math.max(hlc, last + 1)
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

function withVersion(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text)
  const out = new Uint8Array(bytes.length + 1)
  out[0] = VERSION
  out.set(bytes, 1)
  return out
}

/** The JSON value `bytes` holds after a version byte of this format; undefined when there is none or it does not parse. */
function versioned(bytes: Uint8Array | undefined): unknown {
  if (bytes === undefined || bytes.length < 2 || bytes[0] !== VERSION) return undefined
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(1)))
  } catch {
    return undefined
  }
}

export function encodeRowSnapshotManifest(manifest: RowSnapshotManifest): Uint8Array {
  return withVersion(JSON.stringify(manifest))
}

/** The manifest `bytes` holds; null when there is none or it is not one this version wrote. */
export function decodeRowSnapshotManifest(bytes: Uint8Array | undefined): RowSnapshotManifest | null {
  const parsed = versioned(bytes)
  if (!isObject(parsed) || !Array.isArray(parsed['parts']) || !isCount(parsed['hlc'])) return null
  const replayedMs = parsed['replayedMs']
  if (replayedMs !== null && !isCount(replayedMs)) return null
  const parts: RowSnapshotPartRef[] = []
  for (const p of parsed['parts'] as unknown[]) {
    if (!isObject(p) || typeof p['shard'] !== 'string' || !isCount(p['id'])) return null
    parts.push({ shard: p['shard'], id: p['id'] })
  }
  return { hlc: parsed['hlc'] as number, replayedMs: replayedMs as number | null, parts }
}

/** A part's bytes in one step (what `encodeRowSnapshotSteps` gives in several). */
export function encodeRowSnapshotPart(part: ShardRowSnapshot): Uint8Array {
  return withVersion(JSON.stringify(part))
}

/** The part `bytes` holds; null when there is none or it is not one this version wrote. */
export function decodeRowSnapshotPart(bytes: Uint8Array | undefined): ShardRowSnapshot | null {
  const parsed = versioned(bytes)
  return isShard(parsed) ? parsed : null
}

/** Reads a row snapshot's values (`Storage.getMeta`); `warn` hears of what could not be used. */
export type RowSnapshotReader = (key: string) => Uint8Array | undefined | Promise<Uint8Array | undefined>

/**
 * The stored row snapshot: the manifest and the parts it names. Null when there is no
 * manifest, or it cannot be read or is malformed (reported to `warn`, except a format
 * before this one: its shards load from their records once, as after a crash). A part
 * that cannot be read or is malformed is reported and left out; one of another id than
 * the manifest names (written by a checkpoint whose manifest did not land) is left out
 * silently. A shard left out loads from its records.
 */
export async function readRowSnapshot(read: RowSnapshotReader, warn: (message: string) => void): Promise<RowSnapshot | null> {
  let bytes: Uint8Array | undefined
  try {
    bytes = await read(ROW_SNAPSHOT_META_KEY)
  } catch (err) {
    warn(`the row snapshot cannot be read (${String(err)}): every shard loads from its records`)
    return null
  }
  const manifest = decodeRowSnapshotManifest(bytes)
  if (manifest === null) {
    if (bytes !== undefined && bytes.length > 1 && !OLDER_VERSIONS.includes(bytes[0]!)) {
      warn(`the row snapshot (${bytes.length} bytes) is malformed: every shard loads from its records`)
    }
    return null
  }
  const shards: ShardRowSnapshot[] = []
  for (const ref of manifest.parts) {
    let partBytes: Uint8Array | undefined
    try {
      partBytes = await read(rowSnapshotPartKey(ref.shard))
    } catch (err) {
      warn(`the row snapshot's part of shard ${ref.shard} cannot be read (${String(err)}): it loads from its records`)
      continue
    }
    const part = decodeRowSnapshotPart(partBytes)
    if (part === null) {
      if (partBytes !== undefined && partBytes.length > 0) warn(`the row snapshot's part of shard ${ref.shard} (${partBytes.length} bytes) is malformed: it loads from its records`)
      continue
    }
    if (part.id === ref.id && part.shard === ref.shard) shards.push(part)
  }
  return { hlc: manifest.hlc, replayedMs: manifest.replayedMs, shards, named: manifest.parts.map((p) => p.shard) }
}

/** Formats whose snapshots are not read, and are no damage either: 2 (before row checkpoints), 4 (positions hashed apart from storage's checksums), 5 (every part in one value). */
const OLDER_VERSIONS = [2, 4, 5]

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
  /** The table's primary key columns, from which the keys may derive (`ShardRowSnapshot.keyColumns`). */
  keyColumns: readonly string[]
  keys: string[]
  rows: Row[]
}

/** A row snapshot before its rows are encoded (`Replica.captureRows`): the parts to write, and those stored before that still hold (`kept`). */
export interface RowSnapshotCapture {
  hlc: number
  replayedMs: number | null
  shards: ShardRowCapture[]
  kept: RowSnapshotPartRef[]
}

/** A row snapshot's values: the parts written anew, and the manifest naming them with those kept (stored after them). */
export interface EncodedRowSnapshot {
  parts: Array<{ shard: string; bytes: Uint8Array }>
  manifest: Uint8Array
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

/** Whether the keys of rows `from` to `to` of `s` are each `rowKeyOf` its row's key columns. */
function keysDerive(s: ShardRowCapture, from: number, to: number): boolean {
  try {
    for (let i = from; i < to; i++) if (rowKeyOf(s.rows[i]!, s.keyColumns) !== s.keys[i]) return false
  } catch {
    // A key column's value missing or null: not a key of its values.
    return false
  }
  return true
}

/** Rows encoded per step of `encodeRowSnapshotSteps` when run to the end at once: the whole shard. */
export const ALL_ROWS = Number.MAX_SAFE_INTEGER

/**
 * The values of the row snapshot `capture` holds, each part exactly as
 * `encodeRowSnapshotPart` gives it for the part it describes, encoded `rowsPerStep` rows
 * at a time: the generator yields after each step (its caller lets other work run there)
 * and returns the values. Each step's text is encoded to UTF-8 at once (pieces end
 * between JSON tokens, so no character is split), so no step handles more than its rows
 * and the copies into each part's value only copy bytes.
 */
export function* encodeRowSnapshotSteps(capture: RowSnapshotCapture, rowsPerStep: number): Generator<void, EncodedRowSnapshot, void> {
  const encoder = new TextEncoder()
  const parts: EncodedRowSnapshot['parts'] = []
  const refs: RowSnapshotPartRef[] = [...capture.kept]
  let copied = 0
  for (const s of capture.shards) {
    const pieces: Uint8Array[] = [Uint8Array.of(VERSION)]
    const text = (t: string): void => {
      pieces.push(encoder.encode(t))
    }
    const joined = (list: readonly Uint8Array[]): void => {
      list.forEach((p, i) => {
        if (i > 0) text(',')
        pieces.push(p)
      })
    }
    const tagged = new Set<string>()
    const keyParts: Uint8Array[] = []
    const rowParts: Uint8Array[] = []
    const keyList = (from: number, to: number): void => {
      if (to > from) keyParts.push(encoder.encode(JSON.stringify(s.keys.slice(from, to)).slice(1, -1)))
    }
    // Keys derive from the rows until a row is found whose key does not (its earlier keys are written then).
    let derived = s.keyColumns.length > 0 && s.keys.length > 0
    for (let from = 0; from < s.keys.length; from += rowsPerStep) {
      const to = Math.min(s.keys.length, from + rowsPerStep)
      if (derived && !keysDerive(s, from, to)) {
        derived = false
        keyList(0, from)
      }
      if (!derived) keyList(from, to)
      rowParts.push(encoder.encode(JSON.stringify(encodeRowRange(s.rows, from, to, s.columns, tagged)).slice(1, -1)))
      yield
    }
    // The head's fields, then tagged, keyColumns, keys and rows, then the state vector: the order encodeRowSnapshotPart writes a ShardRowSnapshot's fields in.
    const keyColumns = derived ? `,"keyColumns":${JSON.stringify(s.keyColumns)}` : ''
    text(`${JSON.stringify(s.head).slice(0, -1)},"tagged":${JSON.stringify([...tagged])}${keyColumns},"keys":[`)
    joined(keyParts)
    text('],"rows":[')
    joined(rowParts)
    text(`]${s.stateVector !== undefined ? `,"stateVector":${JSON.stringify(s.stateVector)}` : ''}}`)
    let size = 0
    for (const p of pieces) size += p.length
    const out = new Uint8Array(size)
    let at = 0
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
    parts.push({ shard: s.head.shard, bytes: out })
    refs.push({ shard: s.head.shard, id: s.head.id })
  }
  return { parts, manifest: encodeRowSnapshotManifest({ hlc: capture.hlc, replayedMs: capture.replayedMs, parts: refs }) }
}

/** Bytes `encodeRowSnapshotSteps` copies into its result per step. */
const COPY_BYTES_PER_STEP = 2 * 1024 * 1024

/**
 * Puts the rows of a shard's snapshot into `rows` by row key, its own or derived from the
 * row (`keyColumns`, which must be columns of the table); throws on a malformed row list
 * (the caller loads the records instead).
 */
export function snapshotRows(s: ShardRowSnapshot, columns: readonly string[], rows: Map<string, Row>): void {
  const keyColumns = s.keyColumns
  if (keyColumns !== undefined ? s.keys.length !== 0 || keyColumns.length === 0 || keyColumns.some((c) => !columns.includes(c)) : s.keys.length !== s.rows.length) {
    throw new Error('row keys and rows differ in number')
  }
  const n = columns.length
  for (let i = 0; i < s.rows.length; i++) {
    const row = s.rows[i] as unknown as Row
    if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new Error('a row is not an object')
    // Every column present (a whole-key comparison per row cost as much as the parse).
    for (let c = 0; c < n; c++) if (row[columns[c]!] === undefined) throw new Error('a row lacks a column of its table')
    for (const c of s.tagged) row[c] = decodeValue(row[c])
    const key = keyColumns !== undefined ? rowKeyOf(row, keyColumns) : s.keys[i]
    if (typeof key !== 'string') throw new Error('a row key is not a string')
    rows.set(key, row)
  }
  // Into a fresh map: fewer entries than rows means two rows under one key.
  if (rows.size !== s.rows.length) throw new Error('two rows with one key')
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
  return typeof s['shard'] === 'string' && isCount(s['id']) && isCount(s['generation']) && isCount(s['records']) && isCount(s['bytes']) && isCount(s['last']) &&
    typeof s['view'] === 'string' &&
    isCount(s['digest']) && isCount(s['garbage']) && isCount(s['entries']) && isCount(s['rowsHash']) &&
    isStrings(s['writers']) && isStrings(s['deleted']) && isStrings(s['tagged']) && (s['keyColumns'] === undefined || isStrings(s['keyColumns'])) &&
    // Each key is checked where it is used (snapshotRows): a walk here over a million keys cost 30 ms.
    Array.isArray(s['keys']) && Array.isArray(s['rows'])
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
