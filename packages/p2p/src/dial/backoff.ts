/**
 * Reconnect delays: exponential from `initialMs`, capped at `maxMs`, with up to 25 %
 * random jitter so a restarted cluster does not redial in lockstep. Pure: randomness is
 * injected.
 */
export interface BackoffOptions {
  initialMs?: number
  maxMs?: number
  random?: () => number
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250
  const max = options.maxMs ?? 30_000
  const random = options.random ?? Math.random
  const base = Math.min(max, initial * 2 ** Math.min(attempt, 30))
  return Math.round(base * (0.75 + 0.25 * random()))
}
