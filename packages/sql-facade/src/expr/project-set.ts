/**
 * Set-returning functions in a select list, as PostgreSQL 10+ runs them (ProjectSet):
 * every such call of one query level is evaluated once per input row, after WHERE,
 * grouping and window functions; the row is repeated as many times as the longest
 * result, each call contributing its i-th value or NULL once exhausted. A row for which
 * every call yields nothing is dropped. ORDER BY, DISTINCT and LIMIT apply afterwards.
 *
 * Calls nested in another set-returning call, in CASE/COALESCE, or in aggregate and
 * window arguments are refused (0A000) rather than given another meaning.
 */
import type { Env } from '../relation/scope.js'
import type { RtValue } from '../types/value.js'
import type { StatementBudget } from '../runtime/statement-budget.js'

export class SrfCollector {
  private readonly calls: Array<(env: Env) => RtValue[]> = []

  /** Registers one call; its value in an expanded row is `env.srfs[slot]`. */
  add(values: (env: Env) => RtValue[]): number {
    this.calls.push(values)
    return this.calls.length - 1
  }

  get empty(): boolean {
    return this.calls.length === 0
  }

  /** One environment per output row. */
  expand(envs: Env[], budget: StatementBudget): Env[] {
    const out: Env[] = []
    for (const env of envs) {
      const lists = this.calls.map((f) => f(env))
      let n = 0
      for (const l of lists) n = Math.max(n, l.length)
      budget.spend(n)
      for (let i = 0; i < n; i++) out.push({ ...env, srfs: lists.map((l) => (i < l.length ? l[i]! : null)) })
    }
    return out
  }
}
