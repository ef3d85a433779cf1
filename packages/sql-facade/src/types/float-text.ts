/**
 * float4 / float8 output: the shortest text that reads back as the same value (what
 * PostgreSQL prints with extra_float_digits = 1, its default), exponent form outside
 * [1e-4, 1e15) (1e6 for float4), and NaN, Infinity, -Infinity, -0 spelled as PostgreSQL does.
 */
export function formatFloat(v: number, single: boolean): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '-Infinity'
  if (v === 0) return Object.is(v, -0) ? '-0' : '0'
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
