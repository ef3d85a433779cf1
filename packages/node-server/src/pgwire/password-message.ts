/**
 * Screens a client's authentication message (PasswordMessage, SASLInitialResponse,
 * SASLResponse: type 'p') before pg-gateway reads it. pg-gateway throws on a message of
 * another type, and on a SASLInitialResponse whose inner length does not match what
 * follows, and prints each such error's stack trace to stderr: any client could fill the
 * node's log. The connection is dropped with one log line instead (pg-server.ts).
 *
 * SASLInitialResponse: ['p'][length i32][mechanism, NUL-terminated][data length i32][data].
 * Later SASLResponses are ['p'][length i32][data]: their framing is the frame guard's.
 */
const PASSWORD_MESSAGE = 0x70 // 'p'

/** Why `message` is no authentication message pg-gateway can read, or null when it is. */
export function passwordMessageFault(message: Uint8Array, initial: boolean): string | null {
  if (message.length < 5 || message[0] !== PASSWORD_MESSAGE) return `message type ${message[0] ?? 'none'} during authentication`
  if (!initial) return null
  const nul = message.indexOf(0, 5)
  if (nul < 0 || nul + 5 > message.length) return 'SASLInitialResponse without a mechanism and data length'
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength)
  const dataLength = view.getInt32(nul + 1)
  if (dataLength !== message.length - (nul + 5)) return `SASLInitialResponse data length ${dataLength} does not match its ${message.length - (nul + 5)} bytes`
  return null
}
