/**
 * The cluster's member list: which libp2p identities (PeerIds) may connect to a node's
 * peer port and have their data applied (docs/security.md, "Membership").
 *
 * Every entry is one catalog object `('peer_member', '<peer id>')` whose value is a
 * `PeerMemberRecord`; removing a member rewrites its entry with `removed: true` and never
 * deletes it, so the list, once it exists, never becomes empty again and membership
 * cannot be switched off by removing entries (the catalog is last-writer-wins per key:
 * an add and a remove of one peer racing end as the later of the two).
 *
 * Membership is **off** while the catalog holds no entry (a cluster protected by its
 * cluster key alone, as before) and **on** from the first entry: `ALTER SYSTEM ADD NODE`
 * on a node, or a joiner redeeming a join token, writes the node's own identity together
 * with the new one, so the node that starts the list stays in it.
 *
 * Invariants: a key is a syntactically valid PeerId (base58btc, 46 to 64 characters,
 * `validPeerId`); a node never removes itself.
 */
import type { Json, Transaction } from '@concord/core'
import { SqlError, SqlState } from '../errors/sql-error.js'

export const PEER_MEMBER_KIND = 'peer_member'

export interface PeerMemberRecord {
  peerId: string
  removed: boolean
  /** The node id that wrote the entry. */
  by: string
  /** Wall-clock ms when it was written. */
  at: number
}

/** What the node server hands the SQL layer: its own libp2p identity, its join tokens and browser tokens. */
export interface MembershipHost {
  /** This node's libp2p PeerId. */
  selfPeerId(): string
  /** Consumes a one-time join token this node issued; false when unknown or already used. */
  redeemJoinToken(token: string): boolean
  /** A scoped browser token for these (existing) tables, valid this many seconds (concord_browser_token). */
  issueBrowserToken(tables: string[], validSeconds: number): string
}

const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{46,64}$/

/** Whether `s` looks like a libp2p PeerId in its usual (base58btc) text form. */
export function validPeerId(s: string): boolean {
  return PEER_ID.test(s)
}

/** A stored entry, or null when malformed (a broken peer's write admits nobody). */
export function decodePeerMember(peerId: string, v: Json): PeerMemberRecord | null {
  if (!validPeerId(peerId) || typeof v !== 'object' || v === null || Array.isArray(v)) return null
  const o = v as Record<string, Json>
  return {
    peerId,
    removed: o['removed'] === true,
    by: typeof o['by'] === 'string' ? o['by'] : '',
    at: typeof o['at'] === 'number' ? o['at'] : 0,
  }
}

/** Every entry of the list (removed ones included), in PeerId order. */
export function listPeerMembers(source: { listCatalog(kind: string): Array<[string, Json]> }): PeerMemberRecord[] {
  const out: PeerMemberRecord[] = []
  for (const [name, v] of source.listCatalog(PEER_MEMBER_KIND)) {
    const r = decodePeerMember(name, v)
    if (r) out.push(r)
  }
  return out.sort((a, b) => (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
}

/** Adds `peerId`, and this node itself when the list has no live entry for it yet (the list's first write). */
export function addPeerMember(tx: Transaction, host: MembershipHost, peerId: string, nodeId: string, now: number): void {
  checkPeerId(peerId)
  const self = host.selfPeerId()
  for (const id of new Set([self, peerId])) {
    const current = tx.getCatalog(PEER_MEMBER_KIND, id)
    const live = current !== undefined && decodePeerMember(id, current)?.removed === false
    if (!live || id === peerId) tx.setCatalog(PEER_MEMBER_KIND, id, { removed: false, by: nodeId, at: now })
  }
}

/** Marks `peerId` removed; 42704 when it was never a member, 55000 for this node's own identity. */
export function removePeerMember(tx: Transaction, host: MembershipHost, peerId: string, nodeId: string, now: number): void {
  checkPeerId(peerId)
  if (peerId === host.selfPeerId()) {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, 'a node cannot remove itself from the cluster: run ALTER SYSTEM REMOVE NODE on another member')
  }
  const current = tx.getCatalog(PEER_MEMBER_KIND, peerId)
  if (current === undefined || decodePeerMember(peerId, current)?.removed !== false) {
    throw new SqlError(SqlState.undefinedObject, `node "${peerId}" is not a member of the cluster`)
  }
  tx.setCatalog(PEER_MEMBER_KIND, peerId, { removed: true, by: nodeId, at: now })
}

function checkPeerId(peerId: string): void {
  if (!validPeerId(peerId)) {
    throw new SqlError(SqlState.invalidParameterValue, `"${peerId.slice(0, 80)}" is not a libp2p peer id (the node logs its own at start: "libp2p <peer id> listening on ..")`)
  }
}
