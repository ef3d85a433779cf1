/**
 * Divergence detection: two replicas with equal Yjs state of a shard must show equal
 * rows, so a peer whose state hash matches ours but whose rows hash does not, seen often
 * and long enough, holds content that differs under equal Yjs ids. No exchange of diffs
 * repairs that: it is reported (`divergences()`: pg_cluster_health, /metrics) instead of
 * passing for healthy.
 *
 * Bounds: MAX_DIVERGENCE_TRACKED (peer, shard) pairs.
 */

/**
 * DIGEST `rows` value meaning "my rows do not follow from my state alone": the sender holds
 * an older generation as an overlay, whose writers' entries the current one lacks until
 * drained. A real rows hash of 0 is sent as 1, so the value is never ambiguous; a peer
 * ignoring this rule (older code) merely compares against it, as it did before.
 */
export const NOT_COMPARABLE = 0

/** The `rows` a DIGEST carries for a shard: its rows hash, or NOT_COMPARABLE while it holds overlays. */
export function comparableRows(shard: { readonly prevs: readonly unknown[]; readonly rowsHash: number }): number {
  if (shard.prevs.length > 0) return NOT_COMPARABLE
  return shard.rowsHash === NOT_COMPARABLE ? 1 : shard.rowsHash
}

/** A shard whose rows differ from a peer's under equal Yjs state this long is reported diverged. */
export const DIVERGENCE_CONFIRM_MS = 10_000
/** (peer, shard) pairs tracked for divergence, at most. */
const MAX_DIVERGENCE_TRACKED = 100_000

/** A shard whose content differs from a peer's although both hold the same Yjs state. */
export interface Divergence {
  peer: string
  shard: string
  /** Wall ms of the first comparison that found the difference (the latest ones still do). */
  since: number
  /** Seen often and long enough (DIVERGENCE_CONFIRM_MS) not to be a schema change still in flight. */
  confirmed: boolean
}

/** Seen differing in at least three comparisons spanning DIVERGENCE_CONFIRM_MS, none equal in between. */
function confirmed(m: { since: number; last: number; seen: number }): boolean {
  return m.seen >= 3 && m.last - m.since >= DIVERGENCE_CONFIRM_MS
}

export class DivergenceWatch {
  /** Per (peer U+0000 shard): rows seen differing under equal state (see noteRows). */
  private readonly mismatched = new Map<string, { since: number; last: number; seen: number; reported: boolean }>()
  /** Called once when a divergence is confirmed (for the log). */
  onDivergence: (d: Divergence) => void = () => {}

  /**
   * Records whether a peer holding the same Yjs state of a shard shows the same rows.
   * Rows follow from the state and the table's schema, so a difference seen repeatedly
   * over DIVERGENCE_CONFIRM_MS (longer than a schema change takes to arrive) means
   * content differing under equal Yjs ids.
   */
  noteRows(peer: string, shard: string, same: boolean, now: number): void {
    const key = `${peer}\u0000${shard}`
    if (same) {
      this.mismatched.delete(key)
      return
    }
    const m = this.mismatched.get(key)
    if (m === undefined) {
      if (this.mismatched.size < MAX_DIVERGENCE_TRACKED) this.mismatched.set(key, { since: now, last: now, seen: 1, reported: false })
      return
    }
    m.last = now
    m.seen++
    if (!m.reported && confirmed(m)) {
      m.reported = true
      this.onDivergence({ peer, shard, since: m.since, confirmed: true })
    }
  }

  /** Shards whose rows differ from a peer's under equal Yjs state (see noteRows). */
  divergences(): Divergence[] {
    const out: Divergence[] = []
    for (const [key, m] of this.mismatched) {
      const at = key.indexOf('\u0000')
      out.push({ peer: key.slice(0, at), shard: key.slice(at + 1), since: m.since, confirmed: confirmed(m) })
    }
    return out.sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : a.shard < b.shard ? -1 : 1))
  }
}
