/**
 * What the simulated network carried: messages and bytes sent, per message kind and per
 * sending node, counted where a node hands a message to the network (so a message the
 * network then drops still cost its sender; a gossip relay is a send of the relaying
 * node). The kind is the frame's type byte (replication/messages.ts: `version:u8
 * type:u8 ..`), read without decoding; a fragment counts as FRAGMENT whatever it carries.
 *
 * Invariants: counters only grow; `snapshot()` copies, so a caller can subtract two.
 */
import { MessageType } from '../replication/messages.js'

const KIND_NAMES = new Map<number, string>(Object.entries(MessageType).map(([name, code]) => [code, name]))

/** Counts of one kind, or of one node. */
export interface TrafficCount {
  messages: number
  bytes: number
}

/** A copy of the meter's counters at one moment. */
export interface TrafficSnapshot {
  total: TrafficCount
  /** By message kind (`Hello`, `Updates`, `Digest`, ...; `unknown` for an undecodable frame). */
  byKind: Map<string, TrafficCount>
  /** By sending node. */
  byNode: Map<string, TrafficCount>
}

export function kindOf(frame: Uint8Array): string {
  return (frame.length >= 2 ? KIND_NAMES.get(frame[1]!) : undefined) ?? 'unknown'
}

export class TrafficMeter {
  private readonly total: TrafficCount = { messages: 0, bytes: 0 }
  private readonly byKind = new Map<string, TrafficCount>()
  private readonly byNode = new Map<string, TrafficCount>()

  /** `from` handed one message of `bytes` bytes and kind `kind` to the network. */
  sent(from: string, kind: string, bytes: number): void {
    this.total.messages++
    this.total.bytes += bytes
    bump(this.byKind, kind, bytes)
    bump(this.byNode, from, bytes)
  }

  snapshot(): TrafficSnapshot {
    return { total: { ...this.total }, byKind: copy(this.byKind), byNode: copy(this.byNode) }
  }
}

/** What was sent between two snapshots. */
export function trafficBetween(before: TrafficSnapshot, after: TrafficSnapshot): TrafficSnapshot {
  const minus = (a: TrafficCount, b: TrafficCount | undefined): TrafficCount => ({ messages: a.messages - (b?.messages ?? 0), bytes: a.bytes - (b?.bytes ?? 0) })
  const diff = (a: Map<string, TrafficCount>, b: Map<string, TrafficCount>) => new Map([...a].map(([k, v]) => [k, minus(v, b.get(k))]))
  return { total: minus(after.total, before.total), byKind: diff(after.byKind, before.byKind), byNode: diff(after.byNode, before.byNode) }
}

function bump(m: Map<string, TrafficCount>, key: string, bytes: number): void {
  const c = m.get(key)
  if (c === undefined) m.set(key, { messages: 1, bytes })
  else {
    c.messages++
    c.bytes += bytes
  }
}

function copy(m: Map<string, TrafficCount>): Map<string, TrafficCount> {
  return new Map([...m].map(([k, v]) => [k, { ...v }]))
}
