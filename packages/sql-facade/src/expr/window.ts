/**
 * Window functions: `f(..) OVER (PARTITION BY .. ORDER BY .. [frame])` and named windows
 * (`WINDOW w AS (..)`). The compiler records each call as a slot; after WHERE, GROUP BY
 * and HAVING the executor partitions the surviving rows, sorts each partition, computes
 * every slot's value per row and leaves it in `env.wins`, which the call's compiled
 * expression reads. Then the select list, DISTINCT, ORDER BY and LIMIT run as usual.
 *
 * Semantics follow PostgreSQL: ranking functions (row_number, rank, dense_rank,
 * percent_rank, cume_dist, ntile), offsets (lag, lead, first_value, last_value,
 * nth_value) and every aggregate as a window function. The default frame is RANGE
 * UNBOUNDED PRECEDING .. CURRENT ROW (the whole partition without ORDER BY: all rows are
 * peers); ROWS frames with UNBOUNDED / n PRECEDING / CURRENT ROW / n FOLLOWING are
 * supported, RANGE with offsets and GROUPS are not (0A000).
 */
import type { Node, WindowDef } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from './coerce.js'
import type { Compiled } from './compiled.js'
import type { Env } from '../relation/scope.js'
import { aggregateSeesNulls, isAggregate, resolveAggregate, type AggregateImpl, type AggState } from '../functions/aggregate.js'
import { compareValues, rowKey } from '../types/compare.js'
import { T, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { StatementBudget } from '../runtime/statement-budget.js'

// PostgreSQL's FRAMEOPTION_* bits (parsenodes.h).
const NONDEFAULT = 0x1
const RANGE = 0x2
const ROWS = 0x4
const GROUPS = 0x8
const START_UNBOUNDED_PRECEDING = 0x20
const END_UNBOUNDED_FOLLOWING = 0x100
const START_CURRENT_ROW = 0x200
const END_CURRENT_ROW = 0x400
const START_OFFSET_PRECEDING = 0x800
const END_OFFSET_PRECEDING = 0x1000
const START_OFFSET_FOLLOWING = 0x2000
const END_OFFSET_FOLLOWING = 0x4000
const EXCLUSIONS = 0x8000 | 0x10000 | 0x20000

const RANKING = new Set(['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile'])
const OFFSETS = new Set(['lag', 'lead', 'first_value', 'last_value', 'nth_value'])

export function isWindowFunction(name: string): boolean {
  return RANKING.has(name) || OFFSETS.has(name) || isAggregate(name)
}

export interface WindowOrder {
  key: Compiled
  desc: boolean
  nullsFirst: boolean
}

export interface WindowSlot {
  name: string
  args: Compiled[]
  partition: Compiled[]
  order: WindowOrder[]
  frameOptions: number
  startOffset: Compiled | null
  endOffset: Compiled | null
  agg: AggregateImpl | null
  filter: Compiled | null
  star: boolean
}

/** Collects the window-function calls of one query level. */
export class WindowCollector {
  readonly slots: WindowSlot[] = []
  readonly named: Map<string, WindowDef>

  constructor(named: Map<string, WindowDef>) {
    this.named = named
  }
}

/** Merges `OVER w` / `OVER (w ORDER BY ..)` with the named window it refers to. */
export function resolveWindowDef(over: WindowDef, named: Map<string, WindowDef>): WindowDef {
  // `OVER w` names a window outright; `OVER (w ORDER BY ..)` refines it (refname).
  if (over.name && !over.refname) {
    const named_ = named.get(over.name)
    if (!named_) throw new SqlError(SqlState.undefinedObject, `window "${over.name}" does not exist`)
    return resolveWindowDef({ ...named_, name: undefined }, named)
  }
  const ref = over.refname
  if (!ref) return over
  const base = named.get(ref)
  if (!base) throw new SqlError(SqlState.undefinedObject, `window "${ref}" does not exist`)
  const b = resolveWindowDef({ ...base, name: undefined }, named)
  if (over.partitionClause?.length) throw new SqlError(SqlState.windowingError, `cannot override PARTITION BY clause of window "${ref}"`)
  if (over.orderClause?.length && b.orderClause?.length) throw new SqlError(SqlState.windowingError, `cannot override ORDER BY clause of window "${ref}"`)
  const own = (over.frameOptions ?? 0) & NONDEFAULT
  return {
    partitionClause: b.partitionClause,
    orderClause: over.orderClause?.length ? over.orderClause : b.orderClause,
    frameOptions: own ? over.frameOptions : b.frameOptions,
    startOffset: own ? over.startOffset : b.startOffset,
    endOffset: own ? over.endOffset : b.endOffset,
  }
}

/** Result type and coerced arguments of a window function call. */
export function windowFunctionSignature(name: string, args: Compiled[], star: boolean, nowMicros: number): { result: SqlType; args: Compiled[]; agg: AggregateImpl | null } {
  switch (name) {
    case 'row_number': case 'rank': case 'dense_rank':
      if (args.length) throw noFunction(name, args)
      return { result: T.int8, args, agg: null }
    case 'percent_rank': case 'cume_dist':
      if (args.length) throw noFunction(name, args)
      return { result: T.float8, args, agg: null }
    case 'ntile':
      if (args.length !== 1) throw noFunction(name, args)
      return { result: T.int4, args: [coerce(args[0]!, T.int4, 'implicit', nowMicros)], agg: null }
    case 'lag': case 'lead': {
      if (args.length < 1 || args.length > 3) throw noFunction(name, args)
      const t = args[0]!.type.id === 'unknown' ? T.text : args[0]!.type
      const out = [coerce(args[0]!, t, 'implicit', nowMicros)]
      if (args[1]) out.push(coerce(args[1], T.int4, 'implicit', nowMicros))
      if (args[2]) out.push(coerce(args[2], t, 'implicit', nowMicros))
      return { result: t, args: out, agg: null }
    }
    case 'first_value': case 'last_value': {
      if (args.length !== 1) throw noFunction(name, args)
      const t = args[0]!.type.id === 'unknown' ? T.text : args[0]!.type
      return { result: t, args, agg: null }
    }
    case 'nth_value': {
      if (args.length !== 2) throw noFunction(name, args)
      const t = args[0]!.type.id === 'unknown' ? T.text : args[0]!.type
      return { result: t, args: [args[0]!, coerce(args[1]!, T.int4, 'implicit', nowMicros)], agg: null }
    }
  }
  const agg = resolveAggregate(name, args.map((a) => a.type), star)
  return { result: agg.result, args: args.map((a, i) => coerce(a, agg.args[i] ?? a.type, 'implicit', nowMicros)), agg }
}

function noFunction(name: string, args: Compiled[]): SqlError {
  return new SqlError(SqlState.undefinedFunction, `function ${name}(${args.map((a) => a.type.id).join(', ')}) does not exist`)
}

export function checkFrame(frameOptions: number): void {
  if (!(frameOptions & NONDEFAULT)) return
  if (frameOptions & GROUPS) throw new SqlError(SqlState.featureNotSupported, 'GROUPS frames are not supported')
  if (frameOptions & EXCLUSIONS) throw new SqlError(SqlState.featureNotSupported, 'frame EXCLUDE options are not supported')
  if (frameOptions & RANGE && frameOptions & (START_OFFSET_PRECEDING | START_OFFSET_FOLLOWING | END_OFFSET_PRECEDING | END_OFFSET_FOLLOWING)) {
    throw new SqlError(SqlState.featureNotSupported, 'RANGE frames with an offset are not supported')
  }
}

function sortIndices(keys: RtValue[][], order: WindowOrder[], budget: StatementBudget): number[] {
  const idx = keys.map((_k, i) => i)
  if (order.length === 0) return idx
  idx.sort((a, b) => {
    budget.tick()
    for (let i = 0; i < order.length; i++) {
      const o = order[i]!
      const x = keys[a]![i]!
      const y = keys[b]![i]!
      if (x === null || y === null) {
        if (x === y) continue
        return (x === null) === o.nullsFirst ? -1 : 1
      }
      const c = compareValues(x, y)
      if (c !== 0) return o.desc ? -c : c
    }
    return a - b
  })
  return idx
}

function samePeers(a: RtValue[], b: RtValue[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === null || y === null) {
      if (x !== y) return false
    } else if (compareValues(x, y) !== 0) return false
  }
  return true
}

function offsetValue(c: Compiled | null, env: Env): number {
  const v = c ? c.eval(env) : null
  if (v === null) throw new SqlError(SqlState.nullValueNotAllowed, 'frame starting offset must not be null')
  const n = Number(v)
  if (n < 0) throw new SqlError(SqlState.invalidPrecedingOrFollowingSize, 'frame starting offset must not be negative')
  return n
}

/** Computes every window slot for the rows of one query level; sets `env.wins`. */
export function computeWindows(envs: Env[], slots: WindowSlot[], budget: StatementBudget): void {
  for (const env of envs) env.wins = new Array<RtValue>(slots.length).fill(null)
  slots.forEach((slot, si) => {
    const parts = new Map<string, Env[]>()
    for (const env of envs) {
      const key = slot.partition.length ? rowKey(slot.partition.map((p) => p.eval(env))) : ''
      let list = parts.get(key)
      if (!list) parts.set(key, (list = []))
      list.push(env)
    }
    for (const part of parts.values()) computePartition(part, slot, si, budget)
  })
}

function computePartition(part: Env[], slot: WindowSlot, si: number, budget: StatementBudget): void {
  budget.spend(part.length)
  const keys = part.map((env) => slot.order.map((o) => o.key.eval(env)))
  const idx = sortIndices(keys, slot.order, budget)
  const rows = idx.map((i) => part[i]!)
  const sortedKeys = idx.map((i) => keys[i]!)
  const n = rows.length
  // peerStart[i] / peerEnd[i]: first and last position of row i's peer group.
  const peerStart = new Array<number>(n)
  const peerEnd = new Array<number>(n)
  for (let i = 0; i < n; i++) peerStart[i] = i > 0 && samePeers(sortedKeys[i - 1]!, sortedKeys[i]!) ? peerStart[i - 1]! : i
  for (let i = n - 1; i >= 0; i--) peerEnd[i] = i < n - 1 && peerStart[i + 1] === peerStart[i] ? peerEnd[i + 1]! : i
  const set = (i: number, v: RtValue) => (rows[i]!.wins![si] = v)
  const arg = (k: number, i: number) => slot.args[k]!.eval(rows[i]!)
  switch (slot.name) {
    case 'row_number':
      for (let i = 0; i < n; i++) set(i, BigInt(i + 1))
      return
    case 'rank':
      for (let i = 0; i < n; i++) set(i, BigInt(peerStart[i]! + 1))
      return
    case 'dense_rank': {
      let d = 0
      for (let i = 0; i < n; i++) {
        if (peerStart[i] === i) d++
        set(i, BigInt(d))
      }
      return
    }
    case 'percent_rank':
      for (let i = 0; i < n; i++) set(i, n > 1 ? peerStart[i]! / (n - 1) : 0)
      return
    case 'cume_dist':
      for (let i = 0; i < n; i++) set(i, (peerEnd[i]! + 1) / n)
      return
    case 'ntile': {
      for (let i = 0; i < n; i++) {
        const b = arg(0, i)
        if (b === null) {
          set(i, null)
          continue
        }
        const buckets = b as number
        if (buckets <= 0) throw new SqlError(SqlState.invalidArgumentForNtile, 'argument of ntile must be greater than zero')
        const size = Math.floor(n / buckets)
        const extra = n % buckets
        // The first `extra` buckets hold size + 1 rows.
        const big = extra * (size + 1)
        set(i, i < big ? Math.floor(i / (size + 1)) + 1 : extra + Math.floor((i - big) / Math.max(size, 1)) + 1)
      }
      return
    }
    case 'lag': case 'lead': {
      const dir = slot.name === 'lag' ? -1 : 1
      for (let i = 0; i < n; i++) {
        const off = slot.args[1] ? arg(1, i) : 1
        if (off === null) {
          set(i, null)
          continue
        }
        const j = i + dir * (off as number)
        set(i, j >= 0 && j < n ? arg(0, j) : slot.args[2] ? arg(2, i) : null)
      }
      return
    }
  }
  const frame = (i: number): [number, number] => frameOf(slot, rows[i]!, i, n, peerStart, peerEnd)
  if (slot.name === 'first_value' || slot.name === 'last_value' || slot.name === 'nth_value') {
    for (let i = 0; i < n; i++) {
      const [s, e] = frame(i)
      if (s > e) {
        set(i, null)
        continue
      }
      if (slot.name === 'first_value') set(i, arg(0, s))
      else if (slot.name === 'last_value') set(i, arg(0, e))
      else {
        const k = arg(1, i)
        if (k === null) set(i, null)
        else if ((k as number) <= 0) throw new SqlError(SqlState.invalidArgumentForNthValue, 'argument of nth_value must be greater than zero')
        else set(i, s + (k as number) - 1 <= e ? arg(0, s + (k as number) - 1) : null)
      }
    }
    return
  }
  const agg = slot.agg!
  const seesNulls = aggregateSeesNulls(slot.name)
  const feed = (st: AggState, j: number) => {
    budget.tick()
    const env = rows[j]!
    if (slot.filter && slot.filter.eval(env) !== true) return
    const vals = slot.args.map((a) => a.eval(env))
    if (!seesNulls && vals.length > 0 && vals[0] === null) return
    if (slot.name === 'count' && vals.some((v) => v === null)) return
    agg.step(st, vals)
  }
  const final = (st: AggState): RtValue => agg.final(st)
  // Frames that start at the partition's first row grow monotonically: step incrementally.
  const opts = slot.frameOptions
  const fromStart = !(opts & NONDEFAULT) || !!(opts & START_UNBOUNDED_PRECEDING)
  if (fromStart) {
    const st: AggState = { acc: null, n: 0 }
    let fed = 0
    for (let i = 0; i < n; i++) {
      const [, e] = frame(i)
      while (fed <= e) feed(st, fed++)
      set(i, final(st))
    }
    return
  }
  for (let i = 0; i < n; i++) {
    const [s, e] = frame(i)
    const st: AggState = { acc: null, n: 0 }
    for (let j = s; j <= e; j++) feed(st, j)
    set(i, final(st))
  }
}

function frameOf(slot: WindowSlot, env: Env, i: number, n: number, peerStart: number[], peerEnd: number[]): [number, number] {
  const o = slot.frameOptions
  if (!(o & NONDEFAULT)) return [0, slot.order.length ? peerEnd[i]! : n - 1]
  const rows = !!(o & ROWS)
  let s: number
  if (o & START_UNBOUNDED_PRECEDING) s = 0
  else if (o & START_CURRENT_ROW) s = rows ? i : peerStart[i]!
  else if (o & START_OFFSET_PRECEDING) s = i - offsetValue(slot.startOffset, env)
  else if (o & START_OFFSET_FOLLOWING) s = i + offsetValue(slot.startOffset, env)
  else s = 0
  let e: number
  if (o & END_UNBOUNDED_FOLLOWING) e = n - 1
  else if (o & END_CURRENT_ROW) e = rows ? i : peerEnd[i]!
  else if (o & END_OFFSET_PRECEDING) e = i - offsetValue(slot.endOffset, env)
  else if (o & END_OFFSET_FOLLOWING) e = i + offsetValue(slot.endOffset, env)
  else e = rows ? i : peerEnd[i]!
  return [Math.max(0, s), Math.min(n - 1, e)]
}

export type { Node }
