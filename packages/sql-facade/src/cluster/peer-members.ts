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
 * **Node ids are bound to PeerIds** here too: a live entry may carry the replica node id
 * its member speaks as (`nodeId`). A node writes its own into its entry as soon as the list
 * is on; a member added by PeerId alone is bound to the node id of its first accepted HELLO
 * (`bindPeerMember`, written once by whichever node heard it). From then on no other
 * PeerId may speak as that node id, and that PeerId as no other (`memberBindings`; enforced
 * by the node server on HELLOs and gossip). A removed entry binds nothing (the node id is
 * free for a new identity); re-adding a PeerId clears its binding.
 *
 * **Rights**: each entry carries the member's right (`right`, shown as `role` in
 * concord_cluster_members): `admin` may change the member list, roles and grants, cluster
 * settings and browser grants; `member` may write data and ordinary DDL only (node-server
 * member-rights.ts enforces both on the node's own writes and on what it applies from
 * peers). The node that starts the list is an admin; a node added without a right is a
 * member; an entry written before rights existed (no `right`) is an admin, as every member
 * was then. `ALTER SYSTEM ALTER NODE` changes a right; the last live admin cannot lose its.
 *
 * Invariants: a key is a syntactically valid PeerId (base58btc, 46 to 64 characters,
 * `validPeerId`); a node never removes itself; two live entries naming one node id resolve
 * to the one written first (then the smaller PeerId), the same on every node.
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
  /** The replica node id this member speaks as; null until bound. */
  nodeId: string | null
  /** What it may write (see the header). */
  right: MemberRight
}

export type MemberRight = 'admin' | 'member'

export const MEMBER_RIGHTS: readonly MemberRight[] = ['admin', 'member']

/** Longest node id a binding carries (the sync frames' limit). */
const MAX_NODE_ID_BYTES = 256

/** What the node server hands the SQL layer: its own libp2p identity, its join tokens and browser tokens. */
export interface MembershipHost {
  /** This node's libp2p PeerId. */
  selfPeerId(): string
  /** Consumes a one-time join token this node issued; false when unknown or already used. */
  redeemJoinToken(token: string): boolean
  /**
   * A scoped browser token for these (existing) tables, read and written, `readOnly`
   * ones, read only, the shards within `regions`, read and written, and those within
   * `readOnlyRegions`, read only, valid this many seconds (concord_browser_token).
   */
  issueBrowserToken(tables: string[], validSeconds: number, readOnly: string[], regions: string[], readOnlyRegions: string[]): string
  /** Revokes a browser token (the token, or its id) on every node (concord_revoke_browser_token); false when unknown. */
  revokeBrowserToken(tokenOrId: string): boolean
  /** This node's right in the member list; null while the list is off (every node may write everything). */
  selfRight(): MemberRight | null
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
    nodeId: validNodeId(o['nodeId']) ? o['nodeId'] : null,
    right: o['right'] === 'member' ? 'member' : 'admin',
  }
}

/** The stored form of an entry. */
function encodePeerMember(r: Omit<PeerMemberRecord, 'peerId'>): Json {
  return { removed: r.removed, by: r.by, at: r.at, right: r.right, ...(r.nodeId !== null ? { nodeId: r.nodeId } : {}) }
}

function validNodeId(v: Json | undefined): v is string {
  return typeof v === 'string' && v.length > 0 && new TextEncoder().encode(v).length <= MAX_NODE_ID_BYTES
}

/** Which PeerId speaks as which node id: the live entries' bindings (see the header). */
export interface MemberBindings {
  peerOfNode: Map<string, string>
  nodeOfPeer: Map<string, string>
}

export function memberBindings(entries: PeerMemberRecord[]): MemberBindings {
  const live = entries
    .filter((e) => !e.removed && e.nodeId !== null)
    .sort((a, b) => a.at - b.at || (a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0))
  const out: MemberBindings = { peerOfNode: new Map(), nodeOfPeer: new Map() }
  for (const e of live) {
    if (out.peerOfNode.has(e.nodeId!)) continue
    out.peerOfNode.set(e.nodeId!, e.peerId)
    out.nodeOfPeer.set(e.peerId, e.nodeId!)
  }
  return out
}

/**
 * Binds a live member to the node id it speaks as (its own entry when `peerId` is this
 * node, or the first HELLO heard from it). Nothing when the entry is missing or removed,
 * or already says `nodeId`.
 */
export function bindPeerMember(tx: Transaction, peerId: string, nodeId: string, by: string, now: number): void {
  const current = tx.getCatalog(PEER_MEMBER_KIND, peerId)
  const r = current === undefined ? null : decodePeerMember(peerId, current)
  if (r === null || r.removed || r.nodeId === nodeId || !validNodeId(nodeId)) return
  tx.setCatalog(PEER_MEMBER_KIND, peerId, encodePeerMember({ removed: false, by, at: now, nodeId, right: r.right }))
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

/**
 * Adds `peerId` with `right` (null: the right it has when it is a live member already, else
 * `member`), and this node itself, as an admin, when the list has no live entry for it yet
 * (the list's first write).
 */
export function addPeerMember(tx: Transaction, host: MembershipHost, peerId: string, nodeId: string, now: number, right: MemberRight | null = null): void {
  checkPeerId(peerId)
  const self = host.selfPeerId()
  for (const id of new Set([self, peerId])) {
    const current = tx.getCatalog(PEER_MEMBER_KIND, id)
    const was = current === undefined ? null : decodePeerMember(id, current)
    const live = was !== null && !was.removed
    const wanted: MemberRight = id === peerId ? right ?? (live ? was.right : id === self ? 'admin' : 'member') : 'admin'
    // This node's own entry carries its node id; another's is bound by its first HELLO.
    if (!live || id === peerId) tx.setCatalog(PEER_MEMBER_KIND, id, encodePeerMember({ removed: false, by: nodeId, at: now, nodeId: id === self ? nodeId : null, right: wanted }))
  }
  checkAnAdminLeft(tx)
}

/** Changes a live member's right: 42704 when it is not one, 55000 when it would leave the list without an admin. */
export function alterPeerMember(tx: Transaction, peerId: string, right: MemberRight, nodeId: string, now: number): void {
  checkPeerId(peerId)
  const current = tx.getCatalog(PEER_MEMBER_KIND, peerId)
  const r = current === undefined ? null : decodePeerMember(peerId, current)
  if (r === null || r.removed) throw new SqlError(SqlState.undefinedObject, `node "${peerId}" is not a member of the cluster`)
  if (r.right === right) return
  tx.setCatalog(PEER_MEMBER_KIND, peerId, encodePeerMember({ ...r, by: nodeId, at: now, right }))
  checkAnAdminLeft(tx)
}

/** The list must keep a live admin: without one nobody could change it again. */
function checkAnAdminLeft(tx: Transaction): void {
  const entries = listPeerMembers(tx)
  if (entries.length > 0 && !entries.some((e) => !e.removed && e.right === 'admin')) {
    throw new SqlError(SqlState.objectNotInPrerequisiteState, 'the cluster must keep at least one admin member: make another member an admin first')
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
  const was = decodePeerMember(peerId, current)!
  tx.setCatalog(PEER_MEMBER_KIND, peerId, encodePeerMember({ removed: true, by: nodeId, at: now, nodeId: was.nodeId, right: was.right }))
  checkAnAdminLeft(tx)
}

function checkPeerId(peerId: string): void {
  if (!validPeerId(peerId)) {
    throw new SqlError(SqlState.invalidParameterValue, `"${peerId.slice(0, 80)}" is not a libp2p peer id (the node logs its own at start: "libp2p <peer id> listening on ..")`)
  }
}
