/**
 * float4 / float8 output: the shortest text that reads back as the same value (what
 * PostgreSQL prints with extra_float_digits = 1, its default), exponent form outside
 * [1e-4, 1e15) (1e6 for float4), and NaN, Infinity, -Infinity, -0 spelled as PostgreSQL does.
 * With extra_float_digits 0 or below (the session's style), C's `%.{n}g` with n = 15 + it
 * (float8) or 6 + it (float4), at least 1, as PostgreSQL prints then.
 */
import { activeDateTimeStyle } from './datetime-style.js'

/**
 * C's `%.{digits}f`: the double's exact value rounded to `digits` decimals, a tie (a value
 * exactly halfway, such as 2.5) to the even neighbour, as glibc's printf and so PostgreSQL
 * round; JS's toFixed rounds a tie away from zero (to_char(2.5::float8, '9') was 3).
 */
export function cFixed(x: number, digits: number): string {
  const s = x.toFixed(digits)
  if (digits > 75 || !Number.isFinite(x) || Math.abs(x) >= 1e21) return s
  const wide = x.toFixed(digits + 25)
  if (!wide.endsWith(TIE_TAIL)) return s
  const truncated = wide.slice(0, wide.length - TIE_TAIL.length).replace(/\.$/, '')
  // toFixed went away from zero; when that neighbour is odd, the even one is the truncated value.
  return Number(truncated[truncated.length - 1]) % 2 === 0 ? truncated : s
}

const TIE_TAIL = '5' + '0'.repeat(24)

/** C's `%.{precision}g`: exponent form when the exponent is below -4 or at least the precision; no trailing zeros. */
function formatG(v: number, precision: number): string {
  const [mant, e] = v.toExponential(precision - 1).split('e') as [string, string]
  const e10 = Number(e)
  const trim = (t: string): string => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t)
  if (e10 < -4 || e10 >= precision) return `${trim(mant)}e${e10 < 0 ? '-' : '+'}${String(Math.abs(e10)).padStart(2, '0')}`
  return trim(cFixed(v, Math.max(0, precision - 1 - e10)))
}

export function formatFloat(v: number, single: boolean, extraFloatDigits = activeDateTimeStyle().extraFloatDigits): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '-Infinity'
  if (v === 0) return Object.is(v, -0) ? '-0' : '0'
  if (extraFloatDigits <= 0) return formatG(v, Math.max(1, (single ? 6 : 15) + extraFloatDigits))
  let exp: string
  if (single) {
    let p = 1
    while (p < 9 && Math.fround(Number(v.toPrecision(p))) !== v) p++
    exp = Number(v.toPrecision(p)).toExponential()
  } else {
    exp = v.toExponential()
  }
  const [mant, e] = exp.split('e') as [string, string]
  const e10 = Number(e)
  if (e10 < -4 || e10 >= (single ? 6 : 15)) {
    return `${mant}e${e10 < 0 ? '-' : '+'}${String(Math.abs(e10)).padStart(2, '0')}`
  }
  return String(Number(exp))
}
