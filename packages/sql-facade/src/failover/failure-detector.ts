/**
 * Failure detection of peers from the times their messages arrive (pure: the caller
 * feeds arrival times and asks at a time of its choosing, so the simulator drives it).
 *
 * - 'heartbeat': a peer is suspected once silent for `timeoutMs`.
 * - 'phi_accrual': a peer is suspected once the suspicion level phi (how unlikely its
 *   silence is, given the spread of its recent inter-arrival times) reaches PHI_THRESHOLD,
 *   or once silent for `timeoutMs`, whichever comes first: the timeout stays the bound.
 *   phi = -log10(P(next arrival later than now)), the arrival gaps taken as normally
 *   distributed (a logistic approximation of the normal distribution's tail).
 *
 * Bounds: the last WINDOW gaps are kept per peer; the standard deviation used is at
 * least a quarter of the mean gap, so a perfectly regular link does not make a peer
 * suspect after one late message.
 */
export type DetectionMethod = 'heartbeat' | 'phi_accrual'

export const PHI_THRESHOLD = 8
const WINDOW = 100

interface Arrivals {
  last: number
  gaps: number[]
}

export class FailureDetector {
  method: DetectionMethod
  timeoutMs: number
  private readonly peers = new Map<string, Arrivals>()

  constructor(method: DetectionMethod, timeoutMs: number) {
    this.method = method
    this.timeoutMs = timeoutMs
  }

  /** A message from `peer` arrived at `at` (ms); earlier or repeated times are ignored. */
  heard(peer: string, at: number): void {
    const a = this.peers.get(peer)
    if (a === undefined) {
      this.peers.set(peer, { last: at, gaps: [] })
      return
    }
    if (at <= a.last) return
    a.gaps.push(at - a.last)
    if (a.gaps.length > WINDOW) a.gaps.shift()
    a.last = at
  }

  /** When `peer` was last heard from; null if never. */
  lastHeard(peer: string): number | null {
    return this.peers.get(peer)?.last ?? null
  }

  /** The suspicion level of `peer` at `now` (0 while no gap is known). */
  phi(peer: string, now: number): number {
    const a = this.peers.get(peer)
    if (a === undefined || a.gaps.length === 0) return 0
    const mean = a.gaps.reduce((s, g) => s + g, 0) / a.gaps.length
    const variance = a.gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / a.gaps.length
    const sd = Math.max(Math.sqrt(variance), mean / 4, 1)
    const y = (now - a.last - mean) / sd
    const e = Math.exp(-y * (1.5976 + 0.070566 * y * y))
    // P(later) = e / (1 + e); for large y the direct form underflows to 0.
    return y > 0 ? -Math.log10(e / (1 + e)) : -Math.log10(1 - 1 / (1 + e))
  }

  /**
   * Whether `peer` is suspected at `now`. `since` is when watching began (a peer never
   * heard from counts as silent since then).
   */
  suspects(peer: string, now: number, since: number): boolean {
    const last = Math.max(this.lastHeard(peer) ?? since, since)
    if (now - last >= this.timeoutMs) return true
    return this.method === 'phi_accrual' && this.lastHeard(peer) !== null && this.phi(peer, now) >= PHI_THRESHOLD
  }

  forget(peer: string): void {
    this.peers.delete(peer)
  }
}
