/**
 * The runtime values of scalar SQL types (see value.ts for the mapping per type); an
 * array's elements are always these, never an array (see array.ts).
 */
import type { Decimal } from './decimal.js'
import type { Interval } from './interval.js'
import type { EnumValue } from './enum-type.js'
import type { RowValue } from './row-type.js'

export type ScalarValue = null | boolean | number | bigint | string | Decimal | Interval | Uint8Array | EnumValue | RowValue
