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
 * peers); ROWS, RANGE and GROUPS frames with UNBOUNDED / offset PRECEDING / CURRENT ROW /
 * offset FOLLOWING, and EXCLUDE CURRENT ROW / GROUP / TIES. A RANGE offset is applied to
 * the one ORDER BY key with its own `+` / `-` (int, numeric, float, date/timestamp with
 * an interval ..); a GROUPS offset counts peer groups.
 */
import type { Node, WindowDef } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { coerce } from './coerce.js'
import type { Compiled } from './compiled.js'
import type { Env } from '../relation/scope.js'
import { aggregateSeesNulls, isAggregate, resolveAggregate, type AggregateImpl, type AggState } from '../functions/aggregate.js'
import { compareValues, rowKey } from '../types/compare.js'
import { Decimal } from '../types/decimal.js'
import { Interval } from '../types/interval.js'
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
const EXCLUDE_CURRENT_ROW = 0x8000
const EXCLUDE_GROUP = 0x10000
const EXCLUDE_TIES = 0x20000
const OFFSETS_ANY = START_OFFSET_PRECEDING | START_OFFSET_FOLLOWING | END_OFFSET_PRECEDING | END_OFFSET_FOLLOWING

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
  /** RANGE with an offset: the ORDER BY key and the frame's bounds for a row, in one type. */
  range: RangeBounds | null
  agg: AggregateImpl | null
  filter: Compiled | null
  star: boolean
}

export interface RangeBounds {
  key: Compiled
  start: Compiled | null
  end: Compiled | null
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

export function checkFrame(frameOptions: number, orderKeys: number): void {
  if (!(frameOptions & NONDEFAULT)) return
  if (frameOptions & GROUPS && orderKeys === 0) throw new SqlError(SqlState.windowingError, 'GROUPS mode requires an ORDER BY clause')
  if (frameOptions & RANGE && frameOptions & OFFSETS_ANY && orderKeys !== 1) {
    throw new SqlError(SqlState.windowingError, 'RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column')
  }
}

/** Which offsets of a RANGE frame need bounds: [start, end] as 'preceding' | 'following' | null. */
export function rangeOffsets(frameOptions: number): ['preceding' | 'following' | null, 'preceding' | 'following' | null] | null {
  if (!(frameOptions & NONDEFAULT) || !(frameOptions & RANGE) || !(frameOptions & OFFSETS_ANY)) return null
  const start = frameOptions & START_OFFSET_PRECEDING ? 'preceding' : frameOptions & START_OFFSET_FOLLOWING ? 'following' : null
  const end = frameOptions & END_OFFSET_PRECEDING ? 'preceding' : frameOptions & END_OFFSET_FOLLOWING ? 'following' : null
  return [start, end]
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

/** Whether two rows are peers: equal on every ORDER BY value (NULLs equal to each other). Also FETCH .. WITH TIES. */
export function samePeers(a: RtValue[], b: RtValue[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === null || y === null) {
      if (x !== y) return false
    } else if (compareValues(x, y) !== 0) return false
  }
  return true
}

function offsetValue(c: Compiled | null, env: Env, which: 'starting' | 'ending'): number {
  const v = c ? c.eval(env) : null
  if (v === null) throw new SqlError(SqlState.nullValueNotAllowed, `frame ${which} offset must not be null`)
  const n = Number(v)
  if (n < 0) throw new SqlError(SqlState.invalidPrecedingOrFollowingSize, `frame ${which} offset must not be negative`)
  return n
}

/** A RANGE offset must be given and not negative (checked on the offset itself, before it is added). */
function checkRangeOffset(c: Compiled | null, env: Env, which: 'starting' | 'ending'): void {
  const v = c ? c.eval(env) : null
  if (v === null) throw new SqlError(SqlState.nullValueNotAllowed, `frame ${which} offset must not be null`)
  const nan = (typeof v === 'number' && Number.isNaN(v)) || (v instanceof Decimal && v.isNaN())
  const negative = nan || (v instanceof Interval ? v.months < 0 || v.days < 0 || v.micros < 0 : compareValues(v, typeof v === 'bigint' ? 0n : v instanceof Decimal ? Decimal.fromNumber(0) : 0) < 0)
  if (negative) throw new SqlError(SqlState.invalidPrecedingOrFollowingSize, 'invalid preceding or following size in window function')
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
  const frames = partitionFrames(slot, rows, peerStart, peerEnd)
  const frame = (i: number): [number, number] => frameOf(slot, frames, i)
  const exclusion = slot.frameOptions & NONDEFAULT ? slot.frameOptions & (EXCLUDE_CURRENT_ROW | EXCLUDE_GROUP | EXCLUDE_TIES) : 0
  /** Whether row j is in row i's frame [s, e] after EXCLUDE. */
  const kept = (i: number, j: number): boolean => {
    if (!exclusion) return true
    if (exclusion & EXCLUDE_CURRENT_ROW) return j !== i
    const peer = j >= peerStart[i]! && j <= peerEnd[i]!
    if (exclusion & EXCLUDE_GROUP) return !peer
    return !peer || j === i
  }
  if (slot.name === 'first_value' || slot.name === 'last_value' || slot.name === 'nth_value') {
    for (let i = 0; i < n; i++) {
      const [s, e] = frame(i)
      const members: number[] = []
      for (let j = s; j <= e; j++) {
        if (!kept(i, j)) continue
        members.push(j)
        // first_value needs one row, nth_value k rows: stop early on a long frame.
        if (slot.name === 'first_value') break
      }
      if (members.length === 0) {
        set(i, null)
        continue
      }
      if (slot.name === 'first_value') set(i, arg(0, members[0]!))
      else if (slot.name === 'last_value') set(i, arg(0, members[members.length - 1]!))
      else {
        const k = arg(1, i)
        if (k === null) set(i, null)
        else if ((k as number) <= 0) throw nthValueArgument()
        else set(i, (k as number) <= members.length ? arg(0, members[(k as number) - 1]!) : null)
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
  const fromStart = !(opts & NONDEFAULT) || (!!(opts & START_UNBOUNDED_PRECEDING) && !exclusion)
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
    for (let j = s; j <= e; j++) if (kept(i, j)) feed(st, j)
    set(i, final(st))
  }
}

function nthValueArgument(): SqlError {
  return new SqlError(SqlState.invalidArgumentForNthValue, 'argument of nth_value must be greater than zero')
}

/** What frame bounds of one sorted partition are computed from. */
interface PartitionFrames {
  rows: Env[]
  n: number
  peerStart: number[]
  peerEnd: number[]
  /** Peer group number of each row, and each group's first and last row (GROUPS). */
  group: number[]
  groupStart: number[]
  groupEnd: number[]
  /** RANGE with an offset: each row's key in the bounds' type, and the rows whose key is not NULL ([a, b)). */
  keys: RtValue[] | null
  nonNull: [number, number]
}

function partitionFrames(slot: WindowSlot, rows: Env[], peerStart: number[], peerEnd: number[]): PartitionFrames {
  const n = rows.length
  const group: number[] = []
  const groupStart: number[] = []
  const groupEnd: number[] = []
  for (let i = 0; i < n; i++) {
    if (peerStart[i] === i) {
      groupStart.push(i)
      groupEnd.push(peerEnd[i]!)
    }
    group.push(groupStart.length - 1)
  }
  let keys: RtValue[] | null = null
  let a = 0, b = n
  if (slot.range) {
    const k = slot.range.key
    keys = rows.map((env) => k.eval(env))
    while (a < n && keys[a] === null) a++
    b = a
    while (b < n && keys[b] !== null) b++
  }
  return { rows, n, peerStart, peerEnd, group, groupStart, groupEnd, keys, nonNull: [a, b] }
}

/** First index in [a, b) where `ok` holds (ok is false then true along the range), or b. */
function firstTrue(a: number, b: number, ok: (j: number) => boolean): number {
  let lo = a, hi = b
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (ok(mid)) hi = mid
    else lo = mid + 1
  }
  return lo
}

/** Row i's frame [s, e] within the partition (s > e: empty). */
function frameOf(slot: WindowSlot, p: PartitionFrames, i: number): [number, number] {
  const o = slot.frameOptions
  const { n, peerStart, peerEnd } = p
  if (!(o & NONDEFAULT)) return [0, slot.order.length ? peerEnd[i]! : n - 1]
  const env = p.rows[i]!
  const mode = o & ROWS ? 'rows' : o & GROUPS ? 'groups' : 'range'
  // Position of a key relative to `bound` in the partition's sort order.
  const desc = slot.order[0]?.desc ?? false
  const after = (j: number, bound: RtValue) => (desc ? -1 : 1) * compareValues(p.keys![j]!, bound)
  let s: number
  if (o & START_UNBOUNDED_PRECEDING) s = 0
  else if (o & START_CURRENT_ROW) s = mode === 'rows' ? i : peerStart[i]!
  else if (o & (START_OFFSET_PRECEDING | START_OFFSET_FOLLOWING)) {
    const sign = o & START_OFFSET_PRECEDING ? -1 : 1
    if (mode === 'rows') s = i + sign * offsetValue(slot.startOffset, env, 'starting')
    else if (mode === 'groups') {
      const g = p.group[i]! + sign * offsetValue(slot.startOffset, env, 'starting')
      s = g < 0 ? 0 : g >= p.groupStart.length ? n : p.groupStart[g]!
    } else {
      checkRangeOffset(slot.startOffset, env, 'starting')
      if (p.keys![i] === null) s = peerStart[i]!
      else {
        const bound = slot.range!.start!.eval(env)
        s = bound === null ? p.nonNull[1] : firstTrue(p.nonNull[0], p.nonNull[1], (j) => after(j, bound) >= 0)
      }
    }
  } else s = 0
  let e: number
  if (o & END_UNBOUNDED_FOLLOWING) e = n - 1
  else if (o & END_CURRENT_ROW) e = mode === 'rows' ? i : peerEnd[i]!
  else if (o & (END_OFFSET_PRECEDING | END_OFFSET_FOLLOWING)) {
    const sign = o & END_OFFSET_PRECEDING ? -1 : 1
    if (mode === 'rows') e = i + sign * offsetValue(slot.endOffset, env, 'ending')
    else if (mode === 'groups') {
      const g = p.group[i]! + sign * offsetValue(slot.endOffset, env, 'ending')
      e = g < 0 ? -1 : g >= p.groupEnd.length ? n - 1 : p.groupEnd[g]!
    } else {
      checkRangeOffset(slot.endOffset, env, 'ending')
      if (p.keys![i] === null) e = peerEnd[i]!
      else {
        const bound = slot.range!.end!.eval(env)
        e = bound === null ? p.nonNull[0] - 1 : firstTrue(p.nonNull[0], p.nonNull[1], (j) => after(j, bound) > 0) - 1
      }
    }
  } else e = mode === 'rows' ? i : peerEnd[i]!
  return [Math.max(0, s), Math.min(n - 1, e)]
}

export type { Node }
