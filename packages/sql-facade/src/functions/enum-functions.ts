/**
 * enum_first, enum_last and enum_range: the labels of an enum type in sort order. The
 * type comes from the argument's type (its value may be NULL), whose labels are the ones
 * the statement resolved, so every call in one statement sees one list.
 */
import { SqlError, SqlState } from '../errors/sql-error.js'
import { SqlArray } from '../types/array.js'
import { EnumValue } from '../types/enum-type.js'
import { arrayOf, type SqlType } from '../types/sql-type.js'
import type { RtValue } from '../types/value.js'
import type { ScalarResolver } from './scalar-impl.js'

function enumArg(t: SqlType | undefined): t is SqlType & { labels: NonNullable<SqlType['labels']> } {
  return t !== undefined && t.id === 'enum' && !t.array && t.labels !== undefined
}

function noType(): SqlError {
  return new SqlError(SqlState.invalidParameterValue, 'could not determine actual enum type')
}

/** The enum type of `ts` (one argument, or two where either may be an untyped NULL). */
function enumOf(ts: SqlType[]): SqlType | null {
  const t = ts.find(enumArg)
  if (!t) return null
  return ts.every((x) => enumArg(x) ? x.name === t.name : x.id === 'unknown') ? t : null
}

function values(t: SqlType): EnumValue[] {
  if (!t.labels) throw noType()
  return t.labels.map((l) => new EnumValue(l))
}

export const ENUM_FUNCTIONS: Record<string, ScalarResolver> = {
  enum_first: (ts) => {
    const t = ts.length === 1 ? enumOf(ts) : null
    return t && { args: [t], result: t, nonStrict: true, fn: () => values(t)[0] ?? null }
  },
  enum_last: (ts) => {
    const t = ts.length === 1 ? enumOf(ts) : null
    return t && { args: [t], result: t, nonStrict: true, fn: () => values(t).at(-1) ?? null }
  },
  enum_range: (ts) => {
    const t = ts.length === 1 || ts.length === 2 ? enumOf(ts) : null
    if (!t) return null
    return {
      args: ts.map(() => t),
      result: arrayOf(t),
      nonStrict: true,
      fn: (a: RtValue[]) => {
        let all = values(t)
        if (a.length === 2) {
          const lo = a[0] as EnumValue | null
          const hi = a[1] as EnumValue | null
          all = all.filter((v) => (lo === null || v.order >= lo.order) && (hi === null || v.order <= hi.order))
        }
        return SqlArray.of(all)
      },
    }
  },
}
