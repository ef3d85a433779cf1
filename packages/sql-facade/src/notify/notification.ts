/**
 * A NOTIFY as it travels between nodes: channel, payload and the sending connection's
 * process id, in a versioned JSON batch (one per committed transaction, cut to fit a
 * core notice). Decoded defensively: a batch from a broken peer is dropped whole.
 *
 * Limits, as PostgreSQL's: a channel is 1 to 63 bytes (NAMEDATALEN - 1), a payload
 * shorter than 8000 bytes; both are checked where NOTIFY / pg_notify run (22023).
 */
import { SqlError, SqlState } from '../errors/sql-error.js'

export interface Notification {
  channel: string
  payload: string
  /** The sending connection's process id (its BackendKeyData; 0 in process). */
  processId: number
}

/** Core notice topic of notification batches. */
export const NOTIFY_TOPIC = 'pg_notify'
export const MAX_CHANNEL_BYTES = 63
export const MAX_PAYLOAD_BYTES = 7999
/** Largest encoded batch (core notices carry up to 64 KiB). */
const MAX_BATCH_BYTES = 60 * 1024
const VERSION = 1

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function byteLength(s: string): number {
  return encoder.encode(s).length
}

/** 22023 for an empty or too long channel, or a payload of 8000 bytes or more. */
export function checkNotification(channel: string, payload: string): void {
  if (channel.length === 0) throw new SqlError(SqlState.invalidParameterValue, 'channel name cannot be empty')
  if (byteLength(channel) > MAX_CHANNEL_BYTES) throw new SqlError(SqlState.invalidParameterValue, 'channel name too long')
  if (byteLength(payload) > MAX_PAYLOAD_BYTES) throw new SqlError(SqlState.invalidParameterValue, 'payload string too long')
}

/** Batches of at most MAX_BATCH_BYTES each, in order. */
export function encodeNotifications(list: readonly Notification[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let batch: Array<[string, string, number]> = []
  let size = 0
  const flush = (): void => {
    if (batch.length > 0) out.push(encoder.encode(JSON.stringify({ v: VERSION, n: batch })))
    batch = []
    size = 0
  }
  for (const n of list) {
    const bytes = byteLength(n.channel) + byteLength(n.payload) * 2 + 32
    if (size + bytes > MAX_BATCH_BYTES) flush()
    batch.push([n.channel, n.payload, n.processId])
    size += bytes
  }
  flush()
  return out
}

/** The notifications of one batch; null if it is not a well-formed batch of this version. */
export function decodeNotifications(body: Uint8Array): Notification[] | null {
  let o: unknown
  try {
    o = JSON.parse(decoder.decode(body))
  } catch {
    return null
  }
  if (typeof o !== 'object' || o === null || (o as { v?: unknown }).v !== VERSION) return null
  const list = (o as { n?: unknown }).n
  if (!Array.isArray(list)) return null
  const out: Notification[] = []
  for (const x of list) {
    if (!Array.isArray(x) || x.length !== 3) return null
    const [channel, payload, processId] = x as unknown[]
    if (typeof channel !== 'string' || typeof payload !== 'string' || !Number.isSafeInteger(processId)) return null
    if (channel.length === 0 || byteLength(channel) > MAX_CHANNEL_BYTES || byteLength(payload) > MAX_PAYLOAD_BYTES) return null
    out.push({ channel, payload, processId: processId as number })
  }
  return out
}
