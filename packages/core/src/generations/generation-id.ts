/**
 * Names of generations (docs/decisions/0012-generations.md): their numbers, the Yjs
 * client id a generation's base is written under, and the storage id of an older
 * generation kept as an overlay until drained.
 *
 * Invariants: a builder's next generation is above the current one; two builders that
 * disagree about who builds still produce different generations (the builder's number
 * is part of it), and every replica ends on the highest.
 */
import { nodeNumberOf } from '../clock/id-generator.js'
import { fnv1aString } from '../codec/checksum.js'

/** Generation numbers are counter x this + a builder number, so two builders never collide. */
export const GENERATION_BUILDERS = 4096

/** The generation `builder` rewrites a shard at generation `current` as. */
export function nextGeneration(current: number, builder: string): number {
  const counter = Math.floor(current / GENERATION_BUILDERS) + 1
  return counter * GENERATION_BUILDERS + (nodeNumberOf(builder) % GENERATION_BUILDERS)
}

/** The Yjs client id a generation's base is written under: the same on every replica. */
export function builderClientId(shardId: string, generation: number): number {
  return 1 + (fnv1aString(`${shardId}\u0000${generation}`) % 0xfffffffe)
}

/** Storage id prefix of an older generation kept until drained: `prev:<generation>:<shard id>`. */
const PREV_PREFIX = 'prev:'

export function previousId(shard: string, generation: number): string {
  return `${PREV_PREFIX}${generation}:${shard}`
}

/** True for the storage id of an older generation (see previousId). */
export function isPreviousId(id: string): boolean {
  return id.startsWith(PREV_PREFIX)
}

export function parsePreviousId(id: string): { shard: string; generation: number } | null {
  const at = id.indexOf(':', PREV_PREFIX.length)
  if (!id.startsWith(PREV_PREFIX) || at < 0) return null
  const generation = Number(id.slice(PREV_PREFIX.length, at))
  return Number.isSafeInteger(generation) ? { shard: id.slice(at + 1), generation } : null
}
