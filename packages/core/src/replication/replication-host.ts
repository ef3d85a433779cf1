/**
 * What replication needs of its replica: the replicator talks to this interface, never
 * to the Replica class (which owns and implements it).
 *
 * Invariant the host keeps: shard state reaches peers only once it is durable here
 * (`whenDurable`), and whatever replication applies (`applyRemote`, `applyRemoteAt`,
 * `adoptGeneration`) is persisted, published and reported by the host without being asked;
 * `batch` only groups one message's changes into one storage append.
 */
import type { LinkPolicy, Scheduler } from '../api.js'
import type { Value } from '../types.js'
import type { HeldSet, ReportGroup } from './messages.js'

/** A shard as replication sees it: its id, generation, digests and Yjs state. */
export interface ReplicatedShard {
  readonly id: string
  /** The current generation (docs/decisions/0012-generations.md). */
  readonly generation: number
  /** Order-independent hash of the materialized rows (see ShardDigest.rows). */
  readonly rowsHash: number
  /** Older generations held as overlays: their entries take part in the rows until drained. */
  readonly prevs: readonly unknown[]
  /**
   * True while a sliced commit holds the shard: its document holds part of a commit, so
   * none of its state is encoded for a peer until the hold ends (the peer asks again).
   */
  readonly isHeld: boolean
  /** Hash of the current generation's Yjs state vector and delete set. */
  digest(): number
  /** The current generation's Yjs state vector. */
  stateVector(): Uint8Array
  /** The current generation's state as one Yjs update; only what a holder of `stateVector` lacks, if given (throws if it is malformed). */
  encodeState(stateVector?: Uint8Array): Uint8Array
  /** The same as causally ordered slices of at most `maxStructs` structs, encoded one per call, the delete set in the last; one update when small (throws if `stateVector` is malformed). */
  sliceState(stateVector: Uint8Array, maxStructs: number): StateSlices
}

/** A shard's state cut into slices (yjs/update-slices.ts). */
export interface StateSlices {
  /** True when `next()` gives the state in one update. */
  readonly whole: boolean
  /** The next slice; null once all were given. */
  next(): Uint8Array | null
}

/** A live member as the catalog records it. */
export interface AudienceMember {
  readonly nodeId: string
  readonly region: string
}

/** The live members and a number that moves whenever they change. */
export interface LiveMembers {
  readonly version: number
  readonly live: readonly AudienceMember[]
}

export interface ReplicationHost<S extends ReplicatedShard> {
  readonly nodeId: string
  readonly region: string
  readonly scheduler: Scheduler
  readonly isClosed: boolean
  /** This replica's change sequence: the end of its last local change (LSN). */
  readonly lsn: number
  /** Which shard data flows between which nodes (null: all of it, both ways). */
  readonly linkPolicy: LinkPolicy | null
  /** Uniform random in [0, 1) (the injected source). */
  random(): number
  /** Wall-clock ms (the injected clock). */
  now(): number
  /** Every shard in memory, in creation order. */
  shards(): Iterable<S>
  shard(id: string): S | undefined
  /** The shard for an id, created empty if absent; null for a dropped incarnation or no shard id. */
  shardFor(id: string): S | null
  /** Whether node `nodeId` of `region` holds the shard (placement.ts). */
  holds(nodeId: string, region: string, id: string): boolean
  /** Regions that hold a shard (null: all): the gossip topics of its updates. */
  scopeOf(id: string): string[] | null
  /** The digest to report for a shard: its own only while everything it holds is durable. */
  reportedDigest(shard: S): number
  /** Runs `fn` once every change made so far (to `shards`) is durable; a `send` may be dropped when too many wait. */
  whenDurable(fn: () => void, options: { shards?: Iterable<string>; send?: boolean }): void
  /** Applies a remote Yjs update to the shard's current generation; false when it was rejected. */
  applyRemote(shard: S, update: Uint8Array): boolean
  /**
   * Applies a remote update made in `generation`: 'ahead' when the sender is on a newer
   * generation than this replica (anti-entropy brings it over), 'stale' when the update is
   * for an older one (its writer re-applies it when it adopts the current one).
   */
  applyRemoteAt(shard: S, generation: number, update: Uint8Array): 'applied' | 'rejected' | 'ahead' | 'stale'
  /** Switches the shard to a newer generation, received whole. */
  adoptGeneration(shard: S, generation: number, state: Uint8Array): void
  /** A peer reported holding exactly this replica's state of a shard. */
  noteEqualState(shardId: string, peer: string): void
  /**
   * What this replica can vouch for of `holders` of a shard in `generation` (relayed-reports.ts):
   * groups of holders by the state they durably held, and the holders it knows nothing of
   * at its current state (to ask).
   */
  vouchesFor(shardId: string, generation: number, holders: readonly string[]): { groups: ReportGroup[]; stale: string[] }
  /** A peer relayed vouches for holders of a shard (kept for the builder, or for the next ask). */
  noteReports(shardId: string, generation: number, groups: readonly ReportGroup[]): void
  /** The held-by sets to send `peer`, whose digest showed it holds the same state of `shardIds` (housekeeping/held-sets.ts). */
  heldSets(peer: string, shardIds: readonly string[]): HeldSet[]
  /** Peer `from`'s held-by sets merged here; returns this replica's sets where it knows of more holders (to answer with). */
  noteHeld(from: string, sets: readonly HeldSet[]): HeldSet[]
  /**
   * An anti-entropy exchange with `peer` ended with this replica holding everything of the
   * `shards` the peer's digest listed, as the peer had them then (placement/catch-up.ts).
   */
  heldEverythingOf(peer: string, shards: ReadonlySet<string>): void
  /** A holder has every update of this replica's copy of a shard it does not hold: the copy may go. */
  releaseCopy(shard: S): void
  /**
   * The committed rows of the parts asked for of a table this replica holds (its shards
   * without a placement when `unplaced`, and the placed `shards`), in the incarnation asked
   * for, as column names and values in that order (a federated read); null when it does not
   * hold them all. `filter` narrows them when this replica can apply it (see
   * federated-reads.ts RowsSource).
   */
  readRows(table: string, incarnation: number, filter: string, parts: { unplaced: boolean; shards: readonly string[] }): { columns: string[]; rows: Value[][] } | null
  /** Runs `fn`, which applies what one message (or several held ones) carries, as one batch (settled once, at its end). */
  batch(fn: () => void): void
  /**
   * Runs `fn` with every remote update it applies to the catalog shard gathered in one Yjs
   * transaction (catalog-pacing.ts): each of them is persisted, and the catalog's rows are
   * resolved once, when `fn` returns.
   */
  applyCatalogTogether(fn: () => void): void
  /** An ephemeral notice from node `origin` (see Replicator.notice). */
  onNotice(origin: string, topic: string, body: Uint8Array): void
  /**
   * The cluster's live members (update-audience.ts: whether fresh updates can go to their
   * hearers directly). Absent: not known, and updates are gossiped.
   */
  liveMembers?(): LiveMembers
}
