/**
 * Primary terms: who is the one writable primary of an active-passive cluster, recorded
 * in the replicated catalog so every node decides the same way.
 *
 * A term is a catalog object `('primary-term', '<epoch, 12 digits>/<node id>')` whose value
 * is a `PrimaryTerm`. A node becoming primary (SET high_availability_mode, pg_promote(),
 * auto-failover) writes a new term with the highest epoch it knows plus one; terms are
 * never rewritten, so concurrent promotions (a partition, two standbys racing) leave two
 * records and no catalog conflict. The current term is the one with the highest epoch;
 * two terms of one epoch (only possible across a partition) are ordered by node id, the
 * lowest wins. Every node holding the same catalog therefore names the same primary, and
 * no epoch has two primaries.
 *
 * Invariant: at most MAX_KEPT_TERMS terms are kept; a new term deletes those beyond
 * (always older ones, so the current term never disappears).
 */
import type { Json } from '@concord/core'

export const PRIMARY_TERM_KIND = 'primary-term'
/** Terms kept in the catalog (the newest ones), for the failover history view. */
export const MAX_KEPT_TERMS = 32

/** Why a node became primary. */
export type TermReason = 'mode' | 'promote' | 'failover'

export interface PrimaryTerm {
  epoch: number
  nodeId: string
  reason: TermReason
  /** Wall-clock ms when the node recorded it. */
  at: number
}

/** A catalog write, as settings and the failover monitor perform them (null value: delete). */
export interface TermWrite {
  kind: string
  name: string
  value: Json | null
}

export function termName(epoch: number, nodeId: string): string {
  return `${String(epoch).padStart(12, '0')}/${nodeId}`
}

/** A term record as stored; null for anything malformed (never trusted blindly). */
export function parseTerm(value: Json | undefined): PrimaryTerm | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const { epoch, nodeId, reason, at } = value as Record<string, Json>
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1 || typeof nodeId !== 'string' || nodeId === '') return null
  const why: TermReason = reason === 'promote' || reason === 'failover' ? reason : 'mode'
  return { epoch, nodeId, reason: why, at: typeof at === 'number' ? at : 0 }
}

/** Newest first: higher epoch, then (same epoch) lower node id. */
function newerFirst(a: PrimaryTerm, b: PrimaryTerm): number {
  if (a.epoch !== b.epoch) return b.epoch - a.epoch
  return a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0
}

/** Every recorded term, newest first. */
export function terms(records: Iterable<[string, Json]>): PrimaryTerm[] {
  const out: PrimaryTerm[] = []
  for (const [, v] of records) {
    const t = parseTerm(v)
    if (t !== null) out.push(t)
  }
  return out.sort(newerFirst)
}

/** The current term: the newest recorded; null when none is. */
export function currentTerm(records: Iterable<[string, Json]>): PrimaryTerm | null {
  return terms(records)[0] ?? null
}

/** The writes that make `nodeId` primary with the next epoch, dropping terms beyond MAX_KEPT_TERMS. */
export function nextTermWrites(records: Array<[string, Json]>, nodeId: string, reason: TermReason, at: number): { term: PrimaryTerm; writes: TermWrite[] } {
  const known = terms(records)
  const term: PrimaryTerm = { epoch: (known[0]?.epoch ?? 0) + 1, nodeId, reason, at }
  const writes: TermWrite[] = [{ kind: PRIMARY_TERM_KIND, name: termName(term.epoch, nodeId), value: { ...term } }]
  for (const old of known.slice(MAX_KEPT_TERMS - 1)) writes.push({ kind: PRIMARY_TERM_KIND, name: termName(old.epoch, old.nodeId), value: null })
  return { term, writes }
}
