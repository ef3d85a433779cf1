/**
 * The certificate revocation lists client certificates are checked against
 * (--tls-crl-file, PostgreSQL's ssl_crl_file): one PEM file holding one or more CRLs.
 * OpenSSL does the checking, with PostgreSQL's flags (every certificate of a client's
 * chain, so each CA of --tls-client-ca that signs certificates needs its CRL in the file,
 * the root's too); a certificate it revokes, or one whose CA has no CRL, or whose CRL has
 * expired or is not yet valid, does not verify.
 *
 * This module splits the file (Node hands OpenSSL one CRL per PEM string), refuses a file
 * it or OpenSSL cannot parse, and says at start what OpenSSL will refuse: an expired CRL,
 * a CA without one, a CRL from no CA of the bundle.
 *
 * Invariants: at most MAX_CRLS lists; every one of them parses (a file that does not stops
 * the start); nothing here makes a certificate verify that OpenSSL would refuse.
 */
import { readFileSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import { certificateSubject, crlFields, type CrlFields } from './x509-der.js'

/** Most CRLs one file may hold. */
export const MAX_CRLS = 1000

const CRL_BLOCK = /-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g
const CRL_BEGIN = /-----BEGIN X509 CRL-----/g
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

export interface CrlFile {
  /** Each CRL as its own PEM block, for `createSecureContext({ crl })`. */
  crls: string[]
  /** What OpenSSL will refuse because of the file, for the log. */
  warnings: string[]
}

/** Reads and checks `file` (CRLs for the CAs of `clientCa`, PEM) as of `now`; throws a message naming the file if unusable. */
export function readCrlFile(file: string, clientCa: Buffer | string, now: Date): CrlFile {
  let text: string
  try {
    text = readFileSync(file, 'latin1')
  } catch (err) {
    throw new Error(`cannot read the TLS CRL file ${file}: ${(err as Error).message}`)
  }
  return parseCrlFile(text, file, clientCa, now)
}

export function parseCrlFile(text: string, file: string, clientCa: Buffer | string, now: Date): CrlFile {
  const crls = text.match(CRL_BLOCK) ?? []
  const begun = text.match(CRL_BEGIN)?.length ?? 0
  if (begun !== crls.length) throw new Error(`the TLS CRL file ${file}: a CRL has no -----END X509 CRL----- line`)
  if (crls.length === 0) throw new Error(`the TLS CRL file ${file} holds no CRL (PEM, -----BEGIN X509 CRL-----)`)
  if (crls.length > MAX_CRLS) throw new Error(`the TLS CRL file ${file} holds ${crls.length} CRLs, more than ${MAX_CRLS}`)
  const fields: CrlFields[] = crls.map((pem, i) => {
    const where = `the TLS CRL file ${file}, CRL ${i + 1} of ${crls.length}`
    try {
      // OpenSSL's own parse, as the node will use it: a CRL it rejects stops the start here, named.
      createSecureContext({ crl: pem })
      return crlFields(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'))
    } catch (err) {
      throw new Error(`${where} cannot be parsed: ${(err as Error).message}`)
    }
  })
  const cas = authorities(clientCa)
  const nameOf = (issuer: Buffer): string | undefined => cas.find((ca) => ca.subject.equals(issuer))?.name
  const warnings: string[] = []
  fields.forEach((crl, i) => {
    const which = `CRL ${i + 1} of ${file}`
    const name = nameOf(crl.issuer)
    if (name === undefined) {
      warnings.push(`${which} is from no CA of --tls-client-ca: no client certificate is checked against it`)
      return
    }
    if (crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now.getTime()) {
      warnings.push(`${which} (CA "${name}") expired at ${crl.nextUpdate.toISOString()}: every client certificate under that CA `
        + 'is refused until a current CRL replaces it (then SIGHUP, or restart)')
    }
    if (crl.thisUpdate.getTime() > now.getTime()) {
      warnings.push(`${which} (CA "${name}") is valid only from ${crl.thisUpdate.toISOString()}: until then every client certificate under that CA is refused`)
    }
  })
  for (const ca of cas) {
    if (!fields.some((crl) => crl.issuer.equals(ca.subject))) {
      warnings.push(`${file} holds no CRL from CA "${ca.name}" of --tls-client-ca: every client certificate whose chain passes through it is refused`)
    }
  }
  return { crls, warnings }
}

/** The CA certificates of a PEM bundle: their subject, encoded and as text. Blocks that do not parse are left to the TLS context to refuse. */
function authorities(bundle: Buffer | string): { subject: Buffer; name: string }[] {
  const out: { subject: Buffer; name: string }[] = []
  for (const pem of bundle.toString('latin1').match(CERTIFICATE_BLOCK) ?? []) {
    try {
      const cert = new X509Certificate(pem)
      if (cert.ca) out.push({ subject: certificateSubject(cert.raw), name: cert.subject.replace(/\n/g, ', ') })
    } catch {
      continue
    }
  }
  return out
}
