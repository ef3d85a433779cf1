/**
 * The parameters of a StartupMessage (protocol 3.0): after the length and version, pairs
 * of NUL-terminated names and values, ended by an empty name that is the packet's last
 * byte. The packet is already bounded (10,000 bytes, pg-server.ts).
 *
 * `startupLayoutFault` checks that layout as PostgreSQL does ("invalid startup packet
 * layout") before pg-gateway reads the packet: pg-gateway throws on a malformed one and
 * prints the stack trace to stderr, so any client could fill the node's log with them.
 */
const decoder = new TextDecoder()

/** Why a StartupMessage's parameter list is malformed, or null when it is well formed. */
export function startupLayoutFault(packet: Uint8Array): string | null {
  let i = 8
  // Each name and value consumes at least its NUL, so this ends within the packet.
  for (let names = 0; i < packet.length; names++) {
    const nameEnd = packet.indexOf(0, i)
    if (nameEnd < 0) return 'a parameter name without its terminating NUL'
    if (nameEnd === i) return nameEnd === packet.length - 1 ? null : 'bytes after the terminating empty name'
    const valueEnd = packet.indexOf(0, nameEnd + 1)
    if (valueEnd < 0) return 'a parameter value without its terminating NUL'
    i = valueEnd + 1
  }
  return 'no empty name terminating the parameters'
}

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
