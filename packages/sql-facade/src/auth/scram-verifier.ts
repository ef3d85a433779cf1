/**
 * SCRAM-SHA-256 password verifiers (RFC 5802, RFC 7677), stored as PostgreSQL stores
 * `rolpassword`: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, each part
 * base64. A role's password is never kept in any other form: the plaintext given to
 * CREATE/ALTER ROLE .. PASSWORD is turned into a verifier at once, and a verifier given
 * there (what psql's \password sends) is stored as it is, after its shape is checked.
 *
 * The password is used as its UTF-8 bytes; SASLprep (RFC 4013) is not applied, so a
 * non-ASCII password that SASLprep would change does not match what libpq sends.
 */
import { hmacSha256, pbkdf2Sha256, sha256 } from './sha256.js'

/** What a SCRAM exchange needs from a verifier (the fields pg-gateway's ScramSha256Data names). */
export interface ScramSecret {
  iterations: number
  /** base64 */
  salt: string
  /** base64 */
  storedKey: string
  /** base64 */
  serverKey: string
}

/** PostgreSQL's default (scram_iterations). */
export const SCRAM_ITERATIONS = 4096
/** Bounds on a verifier taken from a client: iteration count and salt length. */
const MAX_ITERATIONS = 1_000_000
const MAX_SALT_BYTES = 64

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

export function base64(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    out += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + (i + 1 < bytes.length ? B64[(n >>> 6) & 63]! : '=') + (i + 2 < bytes.length ? B64[n & 63]! : '=')
  }
  return out
}

/** Decodes canonical base64 (padded); null for anything else. */
export function fromBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  const out = new Uint8Array((text.length / 4) * 3 - pad)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    const n = (B64.indexOf(text[i]!) << 18) | (B64.indexOf(text[i + 1]!) << 12) | (Math.max(0, B64.indexOf(text[i + 2]!)) << 6) | Math.max(0, B64.indexOf(text[i + 3]!))
    if (o < out.length) out[o++] = n >>> 16
    if (o < out.length) out[o++] = (n >>> 8) & 255
    if (o < out.length) out[o++] = n & 255
  }
  return base64(out) === text ? out : null
}

/** A new verifier for `password`, with a fresh random 16-byte salt unless one is given. */
export function scramVerifier(password: string, salt?: Uint8Array, iterations = SCRAM_ITERATIONS): string {
  const s = salt ?? globalThis.crypto.getRandomValues(new Uint8Array(16))
  const salted = pbkdf2Sha256(new TextEncoder().encode(password), s, iterations)
  const enc = new TextEncoder()
  const storedKey = sha256(hmacSha256(salted, enc.encode('Client Key')))
  const serverKey = hmacSha256(salted, enc.encode('Server Key'))
  return `SCRAM-SHA-256$${iterations}:${base64(s)}$${base64(storedKey)}:${base64(serverKey)}`
}

/** The parts of a stored verifier; null when `text` is not one (then it is a plaintext password). */
export function parseScramVerifier(text: string): ScramSecret | null {
  const m = /^SCRAM-SHA-256\$([0-9]{1,7}):([^$:]+)\$([^$:]+):([^$:]+)$/.exec(text)
  if (!m) return null
  const iterations = Number(m[1])
  const salt = fromBase64(m[2]!)
  const stored = fromBase64(m[3]!)
  const server = fromBase64(m[4]!)
  if (iterations < 1 || iterations > MAX_ITERATIONS || !salt || salt.length === 0 || salt.length > MAX_SALT_BYTES) return null
  if (stored?.length !== 32 || server?.length !== 32) return null
  return { iterations, salt: m[2]!, storedKey: m[3]!, serverKey: m[4]! }
}

/** Whether `text` has a verifier's prefix (PostgreSQL then refuses to take it as a plaintext password). */
export function looksLikeVerifier(text: string): boolean {
  return text.startsWith('SCRAM-SHA-256$')
}
