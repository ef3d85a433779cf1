/**
 * SSLRequest, answered before pg-gateway sees the connection: with a certificate
 * configured, a client's SSLRequest gets 'S', the socket becomes a TLS socket, and the
 * session (startup, authentication, queries) runs over it; without one, the bytes are
 * put back and pg-gateway answers 'N' as before. A GSSENCRequest first is answered 'N'
 * (libpq then sends its SSLRequest). Done here rather than by pg-gateway's upgrade so the
 * frame guard and the one-write-per-reply socket (socket-duplex.ts) see the decrypted
 * stream, not TLS records.
 *
 * Invariants: at most two initial 8-byte requests are read before the session starts;
 * bytes after an SSLRequest and before the handshake (the "SSL injection" of
 * CVE-2021-23214) drop the connection; the caller's authentication timeout bounds the
 * whole negotiation, handshake included.
 */
import type { Socket } from 'node:net'
import { TLSSocket, type SecureContext } from 'node:tls'

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const REQUEST_BYTES = 8

export interface TlsNegotiation {
  /** The stream the session runs over: the TLS socket, or the raw socket. */
  io: Socket
  tls: boolean
  /** A client certificate was sent but did not verify: why (it proves nothing; the caller logs it). */
  certificateRefused?: CertificateRefusal
}

/** OpenSSL's verify error for a client certificate: its code (`CERT_REVOKED`, `CRL_HAS_EXPIRED`, ..) and text. */
export interface CertificateRefusal {
  code: string
  message: string
  /** The certificate's common name, or '' without one. */
  subject: string
}

/** Reads exactly the next `n` bytes (null if the socket ends first); leaves the socket paused. */
function readBytes(socket: Socket, n: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < n) return
      cleanup()
      socket.pause()
      if (buf.length > n) socket.unshift(buf.subarray(n))
      resolve(buf.subarray(0, n))
    }
    const onEnd = (): void => {
      cleanup()
      resolve(null)
    }
    const cleanup = (): void => {
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('close', onEnd)
    }
    socket.on('data', onData)
    socket.on('end', onEnd)
    socket.on('close', onEnd)
    socket.resume()
  })
}

/**
 * Negotiates TLS on a new connection when `context` is given; null when the connection
 * ended or broke the protocol (the caller destroys it). With `requestCert` the client is
 * asked for a certificate (checked against the context's CA); one that is missing or does
 * not verify does not fail the handshake: the TLS socket's `authorized` says which, for
 * client-authentication.ts to decide.
 */
export async function negotiateTls(socket: Socket, context: SecureContext, requestCert = false): Promise<TlsNegotiation | null> {
  for (let i = 0; i < 2; i++) {
    const head = await readBytes(socket, REQUEST_BYTES)
    if (head === null) return null
    const length = head.readInt32BE(0)
    const code = head.readInt32BE(4)
    if (length === REQUEST_BYTES && code === GSSENC_REQUEST) {
      socket.write(Buffer.from('N'))
      continue
    }
    if (length !== REQUEST_BYTES || code !== SSL_REQUEST) {
      // A startup packet (or anything else): back it goes, for the session to read.
      socket.unshift(head)
      return { io: socket, tls: false }
    }
    if (socket.readableLength > 0) return null
    socket.write(Buffer.from('S'))
    const secure = new TLSSocket(socket, { isServer: true, secureContext: context, requestCert, rejectUnauthorized: false })
    const ok = await new Promise<boolean>((resolve) => {
      secure.once('secure', () => resolve(true))
      secure.once('error', () => resolve(false))
      secure.once('close', () => resolve(false))
    })
    if (!ok) return null
    if (!requestCert) return { io: secure, tls: true }
    const refused = clientCertificateRefusal(secure)
    secure.authorized = refused === null
    return { io: secure, tls: true, ...(refused !== null && refused !== 'none' ? { certificateRefused: refused } : {}) }
  }
  return null
}

/**
 * Whether the client's certificate verified against the context's CA (and CRLs), as
 * Node's own TLS server records it in `authorized` (a TLSSocket made over an accepted
 * socket, as here, is not given it): OpenSSL's verify result of the handshake. null:
 * verified and names a user; 'none': no certificate was sent; else why it proves nothing.
 * Reads the socket's native handle, Node 20's (decision 0015).
 */
function clientCertificateRefusal(secure: TLSSocket): CertificateRefusal | 'none' | null {
  const peer = secure.getPeerCertificate()
  if (peer === null || peer.raw === undefined) return 'none'
  const cn = peer.subject?.CN
  const subject = typeof cn === 'string' ? cn : ''
  const handle = (secure as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle
  if (typeof handle?.verifyError !== 'function') return { code: 'UNKNOWN', message: 'no verify result from Node', subject }
  const error = handle.verifyError()
  if (error !== null) return { code: error.code ?? 'UNKNOWN', message: error.message, subject }
  return typeof cn === 'string' ? null : { code: 'NO_COMMON_NAME', message: 'the certificate names no user (no CN)', subject }
}
