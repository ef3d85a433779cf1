/**
 * Id slots: which node may draw int2/int4 SERIAL ids from which range (serial-range.ts).
 * A node claims a slot by writing the catalog object `('serial-slot', '<slot> U+0000
 * <node>')` = `{ at: hlc }`, and draws from it only once the claim is confirmed:
 *
 *   every other live member has reported (anti-entropy digest) holding exactly this
 *   node's catalog state after the claim was written, and no other node's claim of the
 *   slot is visible.
 *
 * Then no other node can ever confirm the same slot: a member both confirmations relied
 * on held this claim when it matched the other claimant's state, so that claimant saw
 * it. (Two claimants that know each other are each such a member for the other.) The
 * confirmation is then recorded in the claim (`confirmed: true`), so a restart, or a
 * node cut off from the others, keeps drawing from its slots without asking anyone.
 * A node that knows no other member confirms at once: it cannot tell an empty cluster
 * from one it has not reached yet, so two nodes that each started alone and later
 * share a table may have drawn the same ids before they met (docs/compatibility.md);
 * from then on the later of the two confirmed claims gives the slot up.
 *
 * Two unconfirmed claims of one slot: the later one (claim HLC, then node id) is
 * withdrawn, the earlier waits until the withdrawal is visible. Slots are never
 * released: ids drawn from them may be stored anywhere.
 */
import type { Json } from '@concord/core'
import { SLOT_COUNT } from './serial-range.js'

export const SLOT_KIND = 'serial-slot'

/** What id slots need from the replica. */
export interface SlotHost {
  readonly nodeId: string
  /** Catalog members, departed ones flagged. */
  members(): Array<{ nodeId: string; departed: boolean }>
  listCatalog(kind: string): Array<[string, Json]>
  /** Writes one catalog object in its own transaction, now (not part of any statement's). */
  writeCatalog(kind: string, name: string, value: Json | null): void
  /** Wall ms when `peer` last reported holding exactly this node's catalog; null if never. */
  catalogMatchedAt(peer: string): number | null
  /** A new HLC timestamp. */
  hlc(): number
  wallMs(): number
  random(): number
}

interface Claim {
  slot: number
  node: string
  at: number
  confirmed: boolean
}

function before(a: Claim, b: Claim): boolean {
  return a.at < b.at || (a.at === b.at && a.node < b.node)
}

export class IdSlots {
  private cache: Claim[] | null = null
  private others: string[] | null = null
  /** Wall ms at which this process wrote (or first saw, after a restart) each own unconfirmed claim. */
  private readonly claimedAt = new Map<number, number>()

  private readonly host: SlotHost

  constructor(host: SlotHost) {
    this.host = host
  }

  /** Drops cached claims and members; called when either changes in the catalog. */
  invalidate(): void {
    this.cache = null
    this.others = null
  }

  private claims(): Claim[] {
    if (this.cache !== null) return this.cache
    const out: Claim[] = []
    for (const [name, v] of this.host.listCatalog(SLOT_KIND)) {
      const sep = name.indexOf('\u0000')
      const slot = Number(name.slice(0, sep))
      const o = v as { at?: unknown; confirmed?: unknown } | null
      if (sep < 0 || !Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT || typeof o?.at !== 'number') continue
      out.push({ slot, node: name.slice(sep + 1), at: o.at, confirmed: o.confirmed === true })
    }
    this.cache = out
    return out
  }

  private otherMembers(): string[] {
    this.others ??= this.host.members().filter((m) => !m.departed && m.nodeId !== this.host.nodeId).map((m) => m.nodeId)
    return this.others
  }

  /** Slots this node may draw from, ascending: confirmed, and no other node confirmed them earlier. */
  usable(): number[] {
    const all = this.claims()
    const out: number[] = []
    for (const c of all) {
      if (c.node !== this.host.nodeId || !c.confirmed) continue
      if (all.some((o) => o.slot === c.slot && o.node !== c.node && o.confirmed && before(o, c))) continue
      out.push(c.slot)
    }
    return out.sort((a, b) => a - b)
  }

  /** Own claims not confirmed yet. */
  pending(): number[] {
    return this.claims().filter((c) => c.node === this.host.nodeId && !c.confirmed).map((c) => c.slot)
  }

  /**
   * Confirms own pending claims whose condition holds and withdraws those that lost a
   * race to an earlier claim. Cheap when nothing is pending.
   */
  confirmPending(): void {
    const mine = this.claims().filter((c) => c.node === this.host.nodeId && !c.confirmed)
    if (mine.length === 0) return
    const others = this.otherMembers()
    const now = this.host.wallMs()
    for (const c of mine) {
      const rivals = this.claims().filter((o) => o.slot === c.slot && o.node !== c.node)
      if (rivals.some((o) => o.confirmed || before(o, c))) {
        this.host.writeCatalog(SLOT_KIND, `${c.slot}\u0000${c.node}`, null)
        this.claimedAt.delete(c.slot)
        continue
      }
      let since = this.claimedAt.get(c.slot)
      if (since === undefined) {
        // Claimed before this process started: only reports from now on vouch for it.
        since = now
        this.claimedAt.set(c.slot, since)
      }
      if (rivals.length > 0) continue
      if (others.every((m) => (this.host.catalogMatchedAt(m) ?? -1) > since)) {
        this.host.writeCatalog(SLOT_KIND, `${c.slot}\u0000${c.node}`, { at: c.at, confirmed: true })
        this.claimedAt.delete(c.slot)
      }
    }
    this.invalidate()
  }

  /**
   * Claims a free slot that `fits`: the lowest when this node knows no other member (it
   * is confirmed at once), else a random one (two nodes claiming together rarely pick the
   * same). Null when every fitting slot is claimed.
   */
  claim(fits: (slot: number) => boolean): number | null {
    const taken = new Set(this.claims().map((c) => c.slot))
    const free: number[] = []
    for (let s = 0; s < SLOT_COUNT; s++) if (!taken.has(s) && fits(s)) free.push(s)
    if (free.length === 0) return null
    const alone = this.otherMembers().length === 0
    const slot = alone ? free[0]! : free[Math.floor(this.host.random() * free.length) % free.length]!
    this.host.writeCatalog(SLOT_KIND, `${slot}\u0000${this.host.nodeId}`, alone ? { at: this.host.hlc(), confirmed: true } : { at: this.host.hlc() })
    if (!alone) this.claimedAt.set(slot, this.host.wallMs())
    this.invalidate()
    return slot
  }

  /** Whether every slot that `fits` is claimed by someone (the id space is used up). */
  exhausted(fits: (slot: number) => boolean): boolean {
    const taken = new Set(this.claims().map((c) => c.slot))
    for (let s = 0; s < SLOT_COUNT; s++) if (!taken.has(s) && fits(s)) return false
    return true
  }

  /** Whether another live member exists (then a claim waits for confirmation). */
  hasPeers(): boolean {
    return this.otherMembers().length > 0
  }
}
