/**
 * The runtime values of scalar SQL types (see value.ts for the mapping per type); an
 * array's elements are always these, never an array (see array.ts).
 */
import type { Decimal } from './decimal.js'
import type { Interval } from './interval.js'
import type { EnumValue } from './enum-type.js'

export type ScalarValue = null | boolean | number | bigint | string | Decimal | Interval | Uint8Array | EnumValue | RowValue

/**
 * An array as a row field holds it: array.ts's SqlArray, described by shape here so the
 * value types form no import circle (value.ts's RtValue is ScalarValue | SqlArray).
 */
export interface NestedArray {
  readonly dims: readonly number[]
  readonly lbounds: readonly number[]
  readonly items: readonly ScalarValue[]
}

/**
 * A row value (types/row-type.ts): one item per field of its type, any runtime value
 * (`rowItems` there gives them as RtValue).
 */
export class RowValue {
  readonly items: ReadonlyArray<ScalarValue | NestedArray>

  constructor(items: ReadonlyArray<ScalarValue | NestedArray>) {
    this.items = items
  }
}
