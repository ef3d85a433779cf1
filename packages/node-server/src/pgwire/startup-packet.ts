/**
 * The parameters of a StartupMessage (protocol 3.0): after the length and version, pairs
 * of NUL-terminated names and values, ended by an empty name. The packet is already
 * bounded (10,000 bytes, pg-server.ts); a truncated or malformed one yields what was read
 * before the fault, and the protocol handler then refuses it.
 */
const decoder = new TextDecoder()

export function startupParameters(packet: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 8
  const cstring = (): string | null => {
    const end = packet.indexOf(0, i)
    if (end < 0) return null
    const s = decoder.decode(packet.subarray(i, end))
    i = end + 1
    return s
  }
  // Each pair consumes at least two bytes, so this ends within the packet.
  while (i < packet.length) {
    const name = cstring()
    if (name === null || name === '') break
    const value = cstring()
    if (value === null) break
    out[name] = value
  }
  return out
}
