/**
 * The few X.509 fields the TLS setup reads itself, from DER: a CRL's issuer and update
 * times, and a certificate's subject (crl-file.ts matches one against the other). OpenSSL
 * does the verifying; these fields only let the start say early what it would refuse.
 *
 *   CertificateList = SEQUENCE { tbsCertList, signatureAlgorithm, signature }
 *   tbsCertList     = SEQUENCE { version INTEGER OPTIONAL, signature SEQUENCE, issuer Name,
 *                                thisUpdate Time, nextUpdate Time OPTIONAL, .. }
 *   Certificate     = SEQUENCE { tbsCertificate, .. }
 *   tbsCertificate  = SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, signature SEQUENCE,
 *                                issuer Name, validity SEQUENCE, subject Name, .. }
 *   Time            = UTCTime YYMMDDHHMMSSZ | GeneralizedTime YYYYMMDDHHMMSSZ (DER forms only)
 *
 * Invariants: nothing read is trusted: every length is checked against what remains (no
 * indefinite lengths, at most 4 length bytes, single-byte tags only); a field of the wrong
 * tag, or a time not in its DER form, throws DerError. A Name is kept as its encoded bytes.
 */

export class DerError extends Error {}

const SEQUENCE = 0x30
const INTEGER = 0x02
const UTC_TIME = 0x17
const GENERALIZED_TIME = 0x18
const CONTEXT_0 = 0xa0

interface Tlv {
  tag: number
  /** The whole element, header included. */
  whole: Buffer
  value: Buffer
}

/** The element at `at` of `buf`; throws if its header or length does not fit. */
function readTlv(buf: Buffer, at: number): Tlv {
  if (at + 2 > buf.length) throw new DerError('truncated element')
  const tag = buf[at]!
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tag')
  let length = buf[at + 1]!
  let start = at + 2
  if (length & 0x80) {
    const bytes = length & 0x7f
    if (bytes === 0 || bytes > 4) throw new DerError(bytes === 0 ? 'indefinite length' : 'length too long')
    if (start + bytes > buf.length) throw new DerError('truncated length')
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + buf[start + i]!
    start += bytes
  }
  if (start + length > buf.length) throw new DerError('length beyond the data')
  return { tag, whole: buf.subarray(at, start + length), value: buf.subarray(start, start + length) }
}

/** Reads the children of a constructed element in order. */
class Fields {
  private at = 0
  private readonly buf: Buffer

  constructor(buf: Buffer) {
    this.buf = buf
  }

  peekTag(): number | undefined {
    return this.at < this.buf.length ? this.buf[this.at] : undefined
  }

  next(tag: number, what: string): Tlv {
    const tlv = readTlv(this.buf, this.at)
    if (tlv.tag !== tag) throw new DerError(`${what}: tag 0x${tlv.tag.toString(16)}, expected 0x${tag.toString(16)}`)
    this.at += tlv.whole.length
    return tlv
  }

  time(what: string): Date {
    const tag = this.peekTag()
    return derTime(this.next(tag === GENERALIZED_TIME ? GENERALIZED_TIME : UTC_TIME, what))
  }
}

function derTime(tlv: Tlv): Date {
  const text = tlv.value.toString('latin1')
  const m = (tlv.tag === UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/).exec(text)
  if (m === null) throw new DerError(`time '${text}' is not in its DER form`)
  let year = Number(m[1])
  // RFC 5280: a UTCTime year of 50 or more is 19YY, below it 20YY.
  if (tlv.tag === UTC_TIME) year += year >= 50 ? 1900 : 2000
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])))
  if (Number.isNaN(date.getTime())) throw new DerError(`time '${text}' is not a date`)
  return date
}

/** The outer SEQUENCE of `der` and its first child (the signed part), with nothing after the outer one. */
function signedPart(der: Buffer, what: string): Fields {
  const outer = readTlv(der, 0)
  if (outer.tag !== SEQUENCE || outer.whole.length !== der.length) throw new DerError(`${what}: not one DER SEQUENCE`)
  return new Fields(new Fields(outer.value).next(SEQUENCE, what).value)
}

export interface CrlFields {
  /** The issuer's Name, encoded. */
  issuer: Buffer
  thisUpdate: Date
  /** Absent when the CRL names no next update. */
  nextUpdate?: Date
}

export function crlFields(der: Buffer): CrlFields {
  const tbs = signedPart(der, 'CRL')
  if (tbs.peekTag() === INTEGER) tbs.next(INTEGER, 'CRL version')
  tbs.next(SEQUENCE, 'CRL signature algorithm')
  const issuer = tbs.next(SEQUENCE, 'CRL issuer').whole
  const thisUpdate = tbs.time('CRL thisUpdate')
  const tag = tbs.peekTag()
  const nextUpdate = tag === UTC_TIME || tag === GENERALIZED_TIME ? tbs.time('CRL nextUpdate') : undefined
  return { issuer, thisUpdate, ...(nextUpdate !== undefined ? { nextUpdate } : {}) }
}

/** A certificate's subject Name, encoded (compared with a CRL's issuer). */
export function certificateSubject(der: Buffer): Buffer {
  const tbs = signedPart(der, 'certificate')
  if (tbs.peekTag() === CONTEXT_0) tbs.next(CONTEXT_0, 'certificate version')
  tbs.next(INTEGER, 'certificate serial number')
  tbs.next(SEQUENCE, 'certificate signature algorithm')
  tbs.next(SEQUENCE, 'certificate issuer')
  tbs.next(SEQUENCE, 'certificate validity')
  return tbs.next(SEQUENCE, 'certificate subject').whole
}
