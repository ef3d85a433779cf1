/**
 * A user sequence's definition (CREATE / ALTER SEQUENCE) and how it is kept in the
 * catalog: object `('sequence', name)` with the options PostgreSQL has (AS type,
 * INCREMENT, MINVALUE, MAXVALUE, START, CACHE, CYCLE, OWNED BY) plus the current
 * epoch: `base`, the value index 0 stands for, and `epoch`, the HLC at which that base
 * was set (CREATE, RESTART, setval, a CYCLE wrap). Values of an epoch are
 * `base + k * increment` for k = 0, 1, ..; which node draws which k is
 * user-sequences.ts's business.
 *
 * Invariants: min < max, both within the type; start within [min, max]; increment is
 * not zero; every 64-bit number is stored as a decimal string (JSON has no int64).
 * Decoding trusts nothing: a malformed object reads as no sequence.
 */
import type { Json } from '@concord/core'
import type { DefElem, Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'

export const SEQUENCE_KIND = 'sequence'

export type SequenceType = 'int2' | 'int4' | 'int8'

export interface SequenceDef {
  type: SequenceType
  increment: bigint
  min: bigint
  max: bigint
  start: bigint
  cache: bigint
  cycle: boolean
  /** `table.column` whose DROP drops the sequence, or null. */
  ownedBy: string | null
  /** First value of the current epoch. */
  base: bigint
  /** HLC of the CREATE / reset that began the current epoch. */
  epoch: number
  /** A session's temporary sequence (CREATE TEMP SEQUENCE): kept in the session's temporary replica, drawn by the session alone. */
  temporary?: boolean
}

const LIMITS: Record<SequenceType, { min: bigint; max: bigint; name: string }> = {
  int2: { min: -32768n, max: 32767n, name: 'smallint' },
  int4: { min: -2147483648n, max: 2147483647n, name: 'integer' },
  int8: { min: -9223372036854775808n, max: 9223372036854775807n, name: 'bigint' },
}

export function sequenceTypeName(t: SequenceType): string {
  return LIMITS[t].name
}

export function encodeSequence(d: SequenceDef): Json {
  return {
    type: d.type, increment: String(d.increment), min: String(d.min), max: String(d.max), start: String(d.start),
    cache: String(d.cache), cycle: d.cycle, ownedBy: d.ownedBy, base: String(d.base), epoch: d.epoch,
    ...(d.temporary === true ? { temporary: true } : {}),
  }
}

function big(v: unknown): bigint | null {
  if (typeof v !== 'string' || !/^-?\d{1,20}$/.test(v)) return null
  return BigInt(v)
}

export function decodeSequence(v: Json | undefined | null): SequenceDef | null {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) return null
  const o = v as Record<string, Json>
  const type = o.type
  if (type !== 'int2' && type !== 'int4' && type !== 'int8') return null
  const [increment, min, max, start, cache, base] = [o.increment, o.min, o.max, o.start, o.cache, o.base].map(big)
  if (increment == null || min == null || max == null || start == null || cache == null || base == null || typeof o.epoch !== 'number') return null
  if (increment === 0n || min >= max) return null
  return { type, increment, min, max, start, cache, cycle: o.cycle === true, ownedBy: typeof o.ownedBy === 'string' ? o.ownedBy : null, base, epoch: o.epoch, ...(o.temporary === true ? { temporary: true } : {}) }
}

function optionValue(arg: Node | undefined, what: string): bigint | null {
  if (arg === undefined) return null
  if ('Integer' in arg) return BigInt(arg.Integer.ival ?? 0)
  if ('Float' in arg && /^-?\d+$/.test(arg.Float.fval ?? '')) return BigInt(arg.Float.fval!)
  throw new SqlError(SqlState.syntaxError, `invalid value for ${what}`)
}

function typeOption(arg: Node | undefined): SequenceType {
  const names = arg && 'TypeName' in arg ? (arg.TypeName.names ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : '')) : []
  const last = names[names.length - 1] ?? ''
  const t = ({ int2: 'int2', smallint: 'int2', int4: 'int4', integer: 'int4', int: 'int4', int8: 'int8', bigint: 'int8' } as Record<string, SequenceType>)[last]
  if (!t) throw new SqlError(SqlState.invalidParameterValue, 'sequence type must be smallint, integer, or bigint')
  return t
}

function ownedByOption(arg: Node | undefined): string | null {
  const items = arg && 'List' in arg ? (arg.List.items ?? []).map((n) => ('String' in n ? n.String.sval ?? '' : '')) : []
  if (items.length === 1 && items[0] === 'none') return null
  if (items.length !== 2) throw new SqlError(SqlState.syntaxError, 'invalid OWNED BY option', { hint: 'Specify OWNED BY table.column or OWNED BY NONE.' })
  return `${items[0]}.${items[1]}`
}

/** What an ALTER SEQUENCE changes; RESTART is returned apart (it begins an epoch). */
export interface SequenceOptions {
  def: SequenceDef
  /** RESTART given: the value to restart at (START when RESTART has no value). */
  restart: bigint | null
  /** OWNED BY given (null: NONE). */
  ownedBy?: string | null
}

/**
 * Applies CREATE / ALTER SEQUENCE options to `current` (null: CREATE, PostgreSQL's
 * defaults) and checks the result as PostgreSQL does (22023).
 */
export function applySequenceOptions(current: SequenceDef | null, options: Node[] | undefined, epoch: number): SequenceOptions {
  const seen = new Set<string>()
  let type = current?.type ?? 'int8'
  let increment = current?.increment ?? 1n
  let min: bigint | null | undefined = current ? current.min : undefined
  let max: bigint | null | undefined = current ? current.max : undefined
  let start: bigint | undefined = current?.start
  let cache = current?.cache ?? 1n
  let cycle = current?.cycle ?? false
  let ownedBy: string | null | undefined
  let restart: bigint | null = null
  let restartGiven = false
  let typeChanged = false
  for (const o of options ?? []) {
    const d = (o as { DefElem: DefElem }).DefElem
    const name = d.defname ?? ''
    if (seen.has(name)) throw new SqlError(SqlState.syntaxError, 'conflicting or redundant options')
    seen.add(name)
    switch (name) {
      case 'as': type = typeOption(d.arg); typeChanged = true; break
      case 'increment': increment = optionValue(d.arg, 'INCREMENT') ?? 1n; break
      case 'minvalue': min = optionValue(d.arg, 'MINVALUE'); break
      case 'maxvalue': max = optionValue(d.arg, 'MAXVALUE'); break
      case 'start': start = optionValue(d.arg, 'START') ?? undefined; break
      case 'restart': restartGiven = true; restart = optionValue(d.arg, 'RESTART'); break
      case 'cache': cache = optionValue(d.arg, 'CACHE') ?? 1n; break
      case 'cycle': cycle = d.arg !== undefined && 'Boolean' in d.arg ? d.arg.Boolean.boolval === true : true; break
      case 'owned_by': ownedBy = ownedByOption(d.arg); break
      case 'sequence_name': case 'logged': break
      default: throw new SqlError(SqlState.syntaxError, `option "${name}" not recognized`)
    }
  }
  if (increment === 0n) throw new SqlError(SqlState.invalidParameterValue, 'INCREMENT must not be zero')
  const lim = LIMITS[type]
  // A changed type moves defaulted bounds with it, as PostgreSQL's ALTER .. AS does.
  if (typeChanged && current) {
    const old = LIMITS[current.type]
    if (!seen.has('minvalue') && (min === old.min || (min === 1n && increment > 0n))) min = undefined
    if (!seen.has('maxvalue') && (max === old.max || (max === -1n && increment < 0n))) max = undefined
  }
  min ??= increment > 0n ? 1n : lim.min
  max ??= increment > 0n ? lim.max : -1n
  if (max < lim.min || max > lim.max) throw new SqlError(SqlState.invalidParameterValue, `MAXVALUE (${max}) is out of range for sequence data type ${lim.name}`)
  if (min < lim.min || min > lim.max) throw new SqlError(SqlState.invalidParameterValue, `MINVALUE (${min}) is out of range for sequence data type ${lim.name}`)
  if (min >= max) throw new SqlError(SqlState.invalidParameterValue, `MINVALUE (${min}) must be less than MAXVALUE (${max})`)
  start ??= increment > 0n ? min : max
  if (start < min) throw new SqlError(SqlState.invalidParameterValue, `START value (${start}) cannot be less than MINVALUE (${min})`)
  if (start > max) throw new SqlError(SqlState.invalidParameterValue, `START value (${start}) cannot be greater than MAXVALUE (${max})`)
  if (restartGiven) {
    restart ??= start
    if (restart < min) throw new SqlError(SqlState.invalidParameterValue, `RESTART value (${restart}) cannot be less than MINVALUE (${min})`)
    if (restart > max) throw new SqlError(SqlState.invalidParameterValue, `RESTART value (${restart}) cannot be greater than MAXVALUE (${max})`)
  }
  if (cache < 1n) throw new SqlError(SqlState.invalidParameterValue, `CACHE (${cache}) must be greater than zero`)
  const def: SequenceDef = {
    type, increment, min, max, start, cache, cycle,
    ownedBy: ownedBy !== undefined ? ownedBy : current?.ownedBy ?? null,
    base: current?.base ?? start,
    epoch: current?.epoch ?? epoch,
    ...(current?.temporary === true ? { temporary: true } : {}),
  }
  return { def, restart: restartGiven ? restart : null, ...(ownedBy !== undefined ? { ownedBy } : {}) }
}
