/**
 * The multi-value register (docs/decisions/0004-multi-value-registers.md): every writer's
 * entry holds its own value of a column, with the other writers' values it had seen when
 * it wrote (`deps`, which it supersedes). The register's current set is the values
 * nobody has superseded; a policy (policy.ts) turns that set into the one value a reader
 * sees, and `registerConflict` says what it decided when the set held more than one.
 *
 * Pure functions over any writer entries carrying these fields: no Yjs, no storage.
 */
import type { ConflictRecord, ConflictValue, PolicySpec, Value } from '../types.js'
import { compareCandidates, contenders, policyName, type Candidate } from './policy.js'

/** One writer's value of one column. */
export interface RegisterWrite {
  value: Value
  hlc: number
  /** Other writers' values of this column this write supersedes: writer -> hlc. */
  deps: ReadonlyArray<readonly [string, number]> | null
  /** A default an INSERT filled in for a column it did not name (yields to explicit values). */
  dflt?: boolean
}

/** A writer's entry for one row, as far as the register needs it: its writes by column key. */
export interface RegisterEntry {
  /** When the writer first wrote the row in this life; absent means `hlc`. */
  born?: number
  hlc: number
  cols: ReadonlyMap<string, RegisterWrite>
}

/** Values of one column nobody has superseded: the multi-value register's current set. */
export function concurrentValues(entries: ReadonlyArray<readonly [string, RegisterEntry]>, skey: string): Candidate[] {
  const all: Array<{ writer: string; w: RegisterWrite }> = []
  for (const [writer, e] of entries) {
    const w = e.cols.get(skey)
    if (w !== undefined) all.push({ writer, w })
  }
  if (all.length <= 1) return all.map(({ writer, w }) => ({ writer, value: w.value, hlc: w.hlc }))
  const out: Candidate[] = []
  for (const a of all) {
    let superseded = false
    for (const b of all) {
      if (b === a || b.w.deps === null) continue
      for (const [dw, dt] of b.w.deps) {
        if (dw === a.writer && dt >= a.w.hlc) {
          superseded = true
          break
        }
      }
      if (superseded) break
    }
    if (!superseded) out.push(a.w.dflt === true ? { writer: a.writer, value: a.w.value, hlc: a.w.hlc, dflt: true } : { writer: a.writer, value: a.w.value, hlc: a.w.hlc })
  }
  return out
}

/**
 * What a policy decided between concurrent values of one register column, as a conflict
 * (table and key filled in by the caller); null when there was nothing to decide. An
 * insert_insert when every contending value was written by its writer's first write of
 * this life of the row (its insert), else an update_update. `candidates` is the set the
 * policy resolved, `value` what it chose.
 */
export function registerConflict(
  entries: ReadonlyArray<readonly [string, RegisterEntry]>,
  skey: string,
  candidates: Candidate[],
  policy: PolicySpec,
  value: Value,
): Pick<ConflictRecord, 'kind' | 'policy' | 'winner' | 'losers'> | null {
  // In (HLC, node id) order, as the policy saw them: `resolve` sorts only its own copy
  // when defaults were left out, and the winner's place depends on the order.
  const contending = [...contenders(candidates)].sort(compareCandidates)
  if (contending.length < 2) return null
  const inserts = contending.every((c) => {
    const e = entries.find(([w]) => w === c.writer)?.[1]
    return e !== undefined && (e.born ?? e.hlc) === e.cols.get(skey)?.hlc
  })
  let winnerAt = contending.findIndex((c) => sameValue(c.value, value))
  if (policy === 'last_write_wins') winnerAt = contending.length - 1
  else if (policy === 'first_write_wins') winnerAt = 0
  const winner: ConflictValue = winnerAt >= 0 ? toConflictValue(contending[winnerAt]!) : { writer: policyName(policy), value, hlc: Math.max(...contending.map((c) => c.hlc)) }
  return {
    kind: inserts ? 'insert_insert' : 'update_update',
    policy: policyName(policy),
    winner,
    losers: contending.filter((_c, i) => i !== winnerAt).map(toConflictValue),
  }
}

function toConflictValue(c: Candidate): ConflictValue {
  return { writer: c.writer, value: c.value, hlc: c.hlc }
}

function sameValue(x: Value, y: Value): boolean {
  if (x === y) return true
  if (x instanceof Uint8Array && y instanceof Uint8Array) return x.length === y.length && x.every((b, i) => b === y[i])
  return false
}
