/**
 * Session parameters a client sets in its startup packet, as PostgreSQL takes them: a
 * parameter by name (node-postgres sends `statement_timeout` so) or inside `options`
 * (`-c statement_timeout=5s`, `--statement_timeout=5s`, what libpq's PGOPTIONS carries).
 *
 * Only the parameters in APPLIED are taken: the others clients send at startup
 * (client_encoding, DateStyle ..) keep their existing handling, unchanged by this file.
 * A value is validated by the session (a bad one refuses the connection).
 */

/** Parameters applied from the startup packet. */
const APPLIED = new Set(['statement_timeout'])

/** Bound on the `options` string read (startup packets are already bounded at 10,000 bytes). */
const MAX_OPTIONS = 100

export function startupSettings(params: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of APPLIED) {
    const v = params[name]
    if (v !== undefined) out[name] = v
  }
  const options = params['options']
  if (options === undefined) return out
  const words = options.trim().split(/\s+/).slice(0, MAX_OPTIONS)
  for (let i = 0; i < words.length; i++) {
    let setting: string | undefined
    if (words[i] === '-c') setting = words[++i]
    else if (words[i]!.startsWith('-c')) setting = words[i]!.slice(2)
    else if (words[i]!.startsWith('--')) setting = words[i]!.slice(2)
    const eq = setting?.indexOf('=') ?? -1
    if (setting === undefined || eq <= 0) continue
    const name = setting.slice(0, eq).toLowerCase().replace(/-/g, '_')
    if (APPLIED.has(name)) out[name] = setting.slice(eq + 1)
  }
  return out
}
