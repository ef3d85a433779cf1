/**
 * Merge policies: pure, deterministic functions from the set of concurrent values of one
 * column to the value a reader sees (docs/decisions/0004-multi-value-registers.md). Every replica that holds the
 * same set computes the same answer, whatever order the values arrived in, because the
 * set is always sorted by (HLC, node id) before a policy looks at it.
 */
import { compareStamp } from '../clock/hlc.js'
import type { PolicySpec, Resolver, ResolverContext, Value } from '../types.js'

/** One surviving value of a multi-value register. */
export interface Candidate {
  writer: string
  value: Value
  hlc: number
  /** A default an INSERT filled in for a column it did not name. */
  dflt?: boolean
}

export function compareCandidates(a: Candidate, b: Candidate): number {
  return compareStamp(a.hlc, a.writer, b.hlc, b.writer)
}

export type ResolverLookup = (name: string) => Resolver | undefined

/**
 * Resolves concurrent values (already free of superseded ones) to one value.
 * A `custom` policy whose resolver is not (yet) known falls back to last-write-wins; the
 * replica re-resolves affected rows when the resolver is registered, so replicas agree
 * again as soon as the function's definition has replicated.
 */
export function resolve(policy: PolicySpec, candidates: Candidate[], resolvers: ResolverLookup, context?: ResolverContext): Value {
  if (candidates.length === 0) return null
  if (candidates.length === 1) return candidates[0]!.value
  candidates = contenders(candidates)
  if (candidates.length === 1) return candidates[0]!.value
  candidates.sort(compareCandidates)
  if (policy === 'first_write_wins') return candidates[0]!.value
  if (policy === 'last_write_wins') return candidates[candidates.length - 1]!.value
  const fn = resolvers(policy.custom)
  if (fn === undefined) return candidates[candidates.length - 1]!.value
  const ctx: ResolverContext = context ?? { table: '', column: { name: '', type: '', kind: 'register', policy, meta: null } }
  let acc = candidates[0]!.value
  for (let i = 1; i < candidates.length; i++) acc = fn(acc, candidates[i]!.value, ctx)
  return acc
}

/**
 * The concurrent values a policy chooses between. A default (an INSERT did not name the
 * column) never overrides a value some writer chose concurrently, whatever the policy:
 * two nodes inserting one key with different columns keep both.
 */
export function contenders(candidates: Candidate[]): Candidate[] {
  if (candidates.some((c) => c.dflt === true) && candidates.some((c) => c.dflt !== true)) return candidates.filter((c) => c.dflt !== true)
  return candidates
}

/** A policy as SQL names it (conflict_resolution_policy). */
export function policyName(policy: PolicySpec): string {
  return typeof policy === 'string' ? policy : `custom_function:${policy.custom}`
}

export function parsePolicy(v: unknown): PolicySpec | null {
  if (v === 'last_write_wins' || v === 'first_write_wins') return v
  if (typeof v === 'object' && v !== null && typeof (v as { custom?: unknown }).custom === 'string') {
    return { custom: (v as { custom: string }).custom }
  }
  return null
}
