/**
 * The DateStyle parameter's values: SET takes any mix of an output style (ISO, Postgres,
 * SQL, German) and a field order (MDY, DMY, YMD and their old names US, European ..)
 * and stores the two as `Output, ORDER` (`Postgres, DMY`), the form SHOW prints and
 * types/datetime-style.ts reads.
 */
type DateOutput = 'ISO' | 'Postgres' | 'SQL' | 'German'
type DateOrder = 'MDY' | 'DMY' | 'YMD'

const OUTPUTS: Record<string, DateOutput> = { ISO: 'ISO', POSTGRES: 'Postgres', SQL: 'SQL', GERMAN: 'German' }
const ORDERS: Record<string, DateOrder> = {
  MDY: 'MDY', US: 'MDY', NONEURO: 'MDY', NONEUROPEAN: 'MDY', DMY: 'DMY', EURO: 'DMY', EUROPEAN: 'DMY', YMD: 'YMD',
}

function parseStored(value: string): { output: DateOutput; order: DateOrder } {
  const [o, d] = value.split(/[\s,]+/).map((p) => p.toUpperCase())
  return { output: OUTPUTS[o ?? ''] ?? 'ISO', order: ORDERS[d ?? ''] ?? 'MDY' }
}

/**
 * A DateStyle setting as SET stores it (`Postgres, DMY`), from the new text and the
 * current value: a part not named keeps its current value, except that German alone
 * also sets DMY (PostgreSQL's check_datestyle). Null when the text is not a DateStyle.
 */
export function normalizeDateStyle(text: string, current: string): string | null {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '').map((p) => p.toUpperCase())
  if (parts.length === 0) return null
  const now = parseStored(current)
  let output: DateOutput | null = null
  let order: DateOrder | null = null
  for (const p of parts) {
    if (p === 'DEFAULT') {
      output ??= 'ISO'
      order ??= 'MDY'
      continue
    }
    const o = OUTPUTS[p]
    const d = ORDERS[p]
    if (o !== undefined) {
      if (output !== null && output !== o) return null
      output = o
    } else if (d !== undefined) {
      if (order !== null && order !== d) return null
      order = d
    } else return null
  }
  if (output === 'German' && order === null) order = 'DMY'
  return `${output ?? now.output}, ${order ?? now.order}`
}
