/**
 * A backup's manifest: what one backup stored and how to check it. Kept as JSON at
 * `backups/<id>/manifest.json` under the store's prefix, beside the objects it names.
 *
 * A backup is `full` (every shard's whole state) or `incremental` (per shard, only what
 * the parent backup's state vector lacks, when the shard is still in the generation the
 * parent saw; otherwise that shard is stored whole). Every object carries its sha256 and
 * size, so a restore checks all of them before it applies anything.
 *
 * Invariants: `parseManifest` trusts nothing in the JSON: every field is type-checked,
 * every name matches the object-name alphabet, and unknown versions are refused.
 */
import { ConcordError } from '../errors/concord-error.js'

export const MANIFEST_VERSION = 1
export const BACKUPS_DIR = 'backups/'

export interface BackupObject {
  /** Name under the store's prefix. */
  object: string
  sha256: string
  bytes: number
}

export interface ShardPiece extends BackupObject {
  shard: string
  generation: number
  /** `full`: the shard's whole state in `generation`; `diff`: only what the parent's state vector lacks. */
  kind: 'full' | 'diff'
  /** The shard's Yjs state vector at the cut, base64 (the next incremental diffs against it). */
  stateVector: string
  /** Older generations still held as overlays at the cut, stored whole. */
  overlays: Array<BackupObject & { generation: number }>
}

export interface BackupManifest {
  version: number
  id: string
  kind: 'full' | 'incremental'
  parent: string | null
  /** Milliseconds since the epoch, on the node that took the backup. */
  started: number
  finished: number
  node: string
  shards: ShardPiece[]
}

export function manifestName(id: string): string {
  return `${BACKUPS_DIR}${id}/manifest.json`
}

export function encodeManifest(m: BackupManifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m, null, 1))
}

/** Total bytes of the objects a manifest names. */
export function manifestBytes(m: BackupManifest): number {
  let n = 0
  for (const s of m.shards) {
    n += s.bytes
    for (const o of s.overlays) n += o.bytes
  }
  return n
}

const NAME = /^[A-Za-z0-9._/-]{1,512}$/
const HEX64 = /^[0-9a-f]{64}$/
const BASE64 = /^[A-Za-z0-9+/=]*$/

/** Decodes a manifest read from `where`; dataCorrupted when it is not one. */
export function parseManifest(data: Uint8Array, where: string): BackupManifest {
  const bad = (why: string): never => {
    throw new ConcordError('dataCorrupted', `backup manifest ${where} is corrupt: ${why}`)
  }
  let v: unknown
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data))
  } catch (err) {
    return bad(`not JSON (${String(err)})`)
  }
  const o = record(v) ?? bad('not an object')
  if (o['version'] !== MANIFEST_VERSION) bad(`unknown version ${String(o['version'])}`)
  const id = str(o['id']) ?? bad('id')
  if (!NAME.test(id) || id.includes('/')) bad('id')
  const kind = o['kind'] === 'full' || o['kind'] === 'incremental' ? o['kind'] : bad('kind')
  const parent = o['parent'] === null ? null : (str(o['parent']) ?? bad('parent'))
  if ((kind === 'full') !== (parent === null)) bad('a full backup has no parent, an incremental one has one')
  const shards = Array.isArray(o['shards']) ? o['shards'] : bad('shards')
  return {
    version: MANIFEST_VERSION,
    id,
    kind,
    parent,
    started: num(o['started']) ?? bad('started'),
    finished: num(o['finished']) ?? bad('finished'),
    node: str(o['node']) ?? bad('node'),
    shards: shards.map((s): ShardPiece => {
      const p = record(s) ?? bad('shard entry')
      const overlays = Array.isArray(p['overlays']) ? p['overlays'] : bad('overlays')
      return {
        ...object(p, bad),
        shard: str(p['shard']) ?? bad('shard'),
        generation: num(p['generation']) ?? bad('generation'),
        kind: p['kind'] === 'full' || p['kind'] === 'diff' ? p['kind'] : bad('shard kind'),
        stateVector: (str(p['stateVector']) ?? '').match(BASE64) ? (p['stateVector'] as string) : bad('stateVector'),
        overlays: overlays.map((x) => {
          const r = record(x) ?? bad('overlay')
          return { ...object(r, bad), generation: num(r['generation']) ?? bad('overlay generation') }
        }),
      }
    }),
  }
}

function object(p: Record<string, unknown>, bad: (why: string) => never): BackupObject {
  const name = str(p['object']) ?? bad('object')
  if (!NAME.test(name)) bad(`object name ${name}`)
  const sha = str(p['sha256']) ?? bad('sha256')
  if (!HEX64.test(sha)) bad('sha256')
  return { object: name, sha256: sha, bytes: num(p['bytes']) ?? bad('bytes') }
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined
}
