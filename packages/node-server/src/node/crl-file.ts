/**
 * The certificate revocation lists client certificates are checked against: one PEM file
 * holding one or more CRLs (--tls-crl-file, PostgreSQL's ssl_crl_file), a directory of
 * such files (--tls-crl-dir, ssl_crl_dir), or both. OpenSSL does the checking, with
 * PostgreSQL's flags (every certificate of a client's chain, so each CA of --tls-client-ca
 * that signs certificates needs its CRL, the root's too); a certificate it revokes, or one
 * whose CA has no CRL, or whose CRL has expired or is not yet valid, does not verify.
 *
 * PostgreSQL looks CRLs up in its directory by hashed name (openssl rehash), when a
 * certificate is checked; here every regular file of the directory is read (symbolic links
 * followed, so a rehashed directory works too; a CRL met twice counts once), when the node
 * starts and on SIGHUP, so a file that does not parse is reported then, not at a client.
 *
 * This module splits the files (Node hands OpenSSL one CRL per PEM string), refuses one it
 * or OpenSSL cannot parse, naming it, and says at start what OpenSSL will refuse: an expired
 * CRL, a CA without one, a CRL from no CA of the bundle.
 *
 * Invariants: at most MAX_CRLS lists in all and MAX_CRLS files in the directory; every one
 * of them parses (a file that does not stops the start); at least one list; nothing here
 * makes a certificate verify that OpenSSL would refuse.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { X509Certificate } from 'node:crypto'
import { join } from 'node:path'
import { createSecureContext } from 'node:tls'
import { certificateSubject, crlFields, type CrlFields } from './x509-der.js'

/** Most CRLs the file and the directory may hold together, and most files the directory may hold. */
export const MAX_CRLS = 1000

const CRL_BLOCK = /-----BEGIN X509 CRL-----[\s\S]*?-----END X509 CRL-----/g
const CRL_BEGIN = /-----BEGIN X509 CRL-----/g
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

export interface CrlFile {
  /** Each CRL as its own PEM block, for `createSecureContext({ crl })`. */
  crls: string[]
  /** What OpenSSL will refuse because of the files, for the log. */
  warnings: string[]
}

/** Where the CRLs are read from: --tls-crl-file, --tls-crl-dir, or both; at least one. */
export interface CrlSources {
  file?: string
  dir?: string
}

/** One CRL of a file: its PEM block, its fields, and which it is (`CRL 2 of crls.pem`). */
interface ParsedCrl {
  pem: string
  der: string
  fields: CrlFields
  which: string
}

/** Reads and checks the CRLs of `sources` (for the CAs of `clientCa`, PEM) as of `now`; throws a message naming the file or directory if unusable. */
export function readCrls(sources: CrlSources, clientCa: Buffer | string, now: Date): CrlFile {
  if (sources.file === undefined && sources.dir === undefined) throw new Error('no TLS CRL file or directory to read')
  const files = [...(sources.file !== undefined ? [sources.file] : []), ...(sources.dir !== undefined ? crlDirFiles(sources.dir) : [])]
  const seen = new Set<string>()
  const parsed: ParsedCrl[] = []
  for (const file of files) {
    for (const crl of crlsOf(readText(file), file)) {
      if (seen.has(crl.der)) continue
      seen.add(crl.der)
      parsed.push(crl)
      if (parsed.length > MAX_CRLS) throw new Error(`the TLS CRLs of ${described(sources)} are more than ${MAX_CRLS}`)
    }
  }
  if (parsed.length === 0) throw new Error(`the TLS CRL directory ${sources.dir ?? ''} holds no CRL file (PEM, -----BEGIN X509 CRL-----)`)
  return checked(parsed, sources, clientCa, now)
}

/** Reads and checks `file` (CRLs for the CAs of `clientCa`, PEM) as of `now`; throws a message naming the file if unusable. */
export function readCrlFile(file: string, clientCa: Buffer | string, now: Date): CrlFile {
  return readCrls({ file }, clientCa, now)
}

export function parseCrlFile(text: string, file: string, clientCa: Buffer | string, now: Date): CrlFile {
  return checked(crlsOf(text, file), { file }, clientCa, now)
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'latin1')
  } catch (err) {
    throw new Error(`cannot read the TLS CRL file ${file}: ${(err as Error).message}`)
  }
}

/** The regular files of `dir` (symbolic links to one included), by name; other entries are skipped. */
function crlDirFiles(dir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir).sort()
  } catch (err) {
    throw new Error(`cannot read the TLS CRL directory ${dir}: ${(err as Error).message}`)
  }
  if (names.length > MAX_CRLS) throw new Error(`the TLS CRL directory ${dir} holds ${names.length} entries, more than ${MAX_CRLS}`)
  return names.map((name) => join(dir, name)).filter((file) => {
    try {
      return statSync(file).isFile()
    } catch {
      // A dangling link, or an entry gone since the listing: no file to read.
      return false
    }
  })
}

/** The CRLs of one file's text, each parsed by OpenSSL and for its fields; throws naming `file`. */
function crlsOf(text: string, file: string): ParsedCrl[] {
  const crls = text.match(CRL_BLOCK) ?? []
  const begun = text.match(CRL_BEGIN)?.length ?? 0
  if (begun !== crls.length) throw new Error(`the TLS CRL file ${file}: a CRL has no -----END X509 CRL----- line`)
  if (crls.length === 0) throw new Error(`the TLS CRL file ${file} holds no CRL (PEM, -----BEGIN X509 CRL-----)`)
  if (crls.length > MAX_CRLS) throw new Error(`the TLS CRL file ${file} holds ${crls.length} CRLs, more than ${MAX_CRLS}`)
  return crls.map((pem, i) => {
    const where = `the TLS CRL file ${file}, CRL ${i + 1} of ${crls.length}`
    try {
      // OpenSSL's own parse, as the node will use it: a CRL it rejects stops the start here, named.
      createSecureContext({ crl: pem })
      const der = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
      return { pem, der, fields: crlFields(Buffer.from(der, 'base64')), which: `CRL ${i + 1} of ${file}` }
    } catch (err) {
      throw new Error(`${where} cannot be parsed: ${(err as Error).message}`)
    }
  })
}

/** `crls.pem`, `the CRL directory crl.d`, or both, as the warnings name them. */
function described(sources: CrlSources): string {
  const dir = sources.dir !== undefined ? `the CRL directory ${sources.dir}` : undefined
  return [sources.file, dir].filter((s) => s !== undefined).join(' and ')
}

/** The CRLs for the context, and warnings of what OpenSSL will refuse because of them. */
function checked(parsed: ParsedCrl[], sources: CrlSources, clientCa: Buffer | string, now: Date): CrlFile {
  const cas = authorities(clientCa)
  const nameOf = (issuer: Buffer): string | undefined => cas.find((ca) => ca.subject.equals(issuer))?.name
  const warnings: string[] = []
  for (const { fields: crl, which } of parsed) {
    const name = nameOf(crl.issuer)
    if (name === undefined) {
      warnings.push(`${which} is from no CA of --tls-client-ca: no client certificate is checked against it`)
      continue
    }
    if (crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now.getTime()) {
      warnings.push(`${which} (CA "${name}") expired at ${crl.nextUpdate.toISOString()}: every client certificate under that CA `
        + 'is refused until a current CRL replaces it (then SIGHUP, or restart)')
    }
    if (crl.thisUpdate.getTime() > now.getTime()) {
      warnings.push(`${which} (CA "${name}") is valid only from ${crl.thisUpdate.toISOString()}: until then every client certificate under that CA is refused`)
    }
  }
  const where = described(sources)
  const hold = sources.file !== undefined && sources.dir !== undefined ? 'hold' : 'holds'
  for (const ca of cas) {
    if (!parsed.some((crl) => crl.fields.issuer.equals(ca.subject))) {
      warnings.push(`${where} ${hold} no CRL from CA "${ca.name}" of --tls-client-ca: every client certificate whose chain passes through it is refused`)
    }
  }
  return { crls: parsed.map((crl) => crl.pem), warnings }
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
