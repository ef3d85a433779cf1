/**
 * SHA-256 of a byte array as lowercase hex, through Web Crypto (`globalThis.crypto.subtle`,
 * present in Node 20+ and browsers), so core stays free of Node built-ins.
 */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>))
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  return hex
}
