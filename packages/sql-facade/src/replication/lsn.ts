/**
 * LSN text form. Concord's change sequence (`replica.lsn`, bytes of local updates
 * committed, only grows) is shown the way PostgreSQL shows WAL positions: two hex numbers,
 * the high and low 32 bits, e.g. `0/16B3748`.
 */
export function formatLsn(lsn: number): string {
  if (!Number.isSafeInteger(lsn) || lsn < 0) throw new RangeError(`bad LSN ${lsn}`)
  const hi = Math.floor(lsn / 0x1_0000_0000)
  const lo = lsn % 0x1_0000_0000
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`
}

/** Parses `X/Y`; null when malformed. */
export function parseLsn(text: string): number | null {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim())
  if (!m) return null
  const v = parseInt(m[1]!, 16) * 0x1_0000_0000 + parseInt(m[2]!, 16)
  return Number.isSafeInteger(v) ? v : null
}
