import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseCrlFile, readCrlFile, readCrls } from './crl-file.js'
import { hasOpenssl, TestPki } from './test-pki.fixture.js'
import { crlFields, DerError } from './x509-der.js'

let dir = ''
let pki: TestPki | undefined

beforeAll(async () => {
  if (!(await hasOpenssl())) return
  dir = mkdtempSync(join(tmpdir(), 'concord-crl-'))
  pki = await TestPki.create(dir, ['bob'])
}, 60_000)

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const derOf = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')

describe('the CRL file (--tls-crl-file)', () => {
  it('splits a file of several CRLs into one PEM block each, and warns of nothing when every CA has a current one', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const file = pki.concatenate('both.crl', [await pki.crl('inter', { revoke: ['bob'] }), await pki.crl('root')])
    const read = readCrlFile(file, readFileSync(pki.path('bundle.crt')), new Date())
    expect(read.crls).toHaveLength(2)
    expect(read.crls.every((c) => c.startsWith('-----BEGIN X509 CRL-----') && c.endsWith('-----END X509 CRL-----'))).toBe(true)
    expect(read.warnings).toEqual([])
  })

  it('warns of an expired CRL, one not yet valid, a CA without a CRL, and a CRL from no CA of the bundle', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const expired = await pki.crl('inter', { lastUpdate: '20200101000000Z', nextUpdate: '20200102000000Z' })
    const future = await pki.crl('root', { lastUpdate: '20991231000000Z', nextUpdate: '21000101000000Z' })
    const warnings = readCrlFile(pki.concatenate('odd.crl', [expired, future]), readFileSync(pki.path('bundle.crt')), new Date()).warnings
    expect(warnings).toEqual([
      expect.stringMatching(/^CRL 1 of .*odd\.crl \(CA "CN=test-intermediate"\) expired at 2020-01-02T00:00:00\.000Z: every client certificate under that CA is refused/),
      expect.stringMatching(/^CRL 2 of .*odd\.crl \(CA "CN=test-root"\) is valid only from 2099-12-31T00:00:00\.000Z/),
    ])
    // The bundle's root has no CRL here; against the root alone, the intermediate's CRL is from no CA of it.
    const onlyInter = readCrlFile(await pki.crl('inter'), readFileSync(pki.path('root.crt')), new Date()).warnings
    expect(onlyInter).toEqual([
      expect.stringMatching(/^CRL 1 of .* is from no CA of --tls-client-ca/),
      expect.stringMatching(/holds no CRL from CA "CN=test-root" of --tls-client-ca: every client certificate whose chain passes through it is refused$/),
    ])
  })

  it('refuses a file it cannot read, one without a CRL, a cut CRL and one OpenSSL cannot parse, naming the file', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const ca = readFileSync(pki.path('bundle.crt'))
    const rootCert = readFileSync(pki.path('root.crt'), 'utf8')
    expect(() => readCrlFile(join(dir, 'missing.crl'), ca, new Date())).toThrow(/^cannot read the TLS CRL file .*missing\.crl: ENOENT/)
    expect(() => parseCrlFile(rootCert, 'certs.pem', ca, new Date())).toThrow('the TLS CRL file certs.pem holds no CRL (PEM, -----BEGIN X509 CRL-----)')
    const good = readFileSync(await pki.crl('root'), 'utf8')
    expect(() => parseCrlFile(good.slice(0, good.indexOf('-----END')), 'cut.crl', ca, new Date())).toThrow(/cut\.crl: a CRL has no -----END X509 CRL----- line/)
    const garbage = '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n'
    expect(() => parseCrlFile(good + garbage, 'bad.crl', ca, new Date())).toThrow(/^the TLS CRL file bad\.crl, CRL 2 of 2 cannot be parsed: /)
  })
})

describe('the CRL directory (--tls-crl-dir)', () => {
  let n = 0
  /** A new empty directory in the PKI's. */
  const crlDir = (): string => {
    const d = join(dir, `crl.d-${++n}`)
    mkdirSync(d)
    return d
  }

  it('reads every regular file of the directory, whatever its name, a CRL reached twice by a link counting once', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const d = crlDir()
    copyFileSync(await pki.crl('inter', { revoke: ['bob'] }), join(d, 'intermediate.pem'))
    copyFileSync(await pki.crl('root'), join(d, 'root'))
    // As `openssl rehash` leaves it: a hashed name linking to a file of the directory.
    symlinkSync('root', join(d, '1a2b3c4d.r0'))
    mkdirSync(join(d, 'old'))
    writeFileSync(join(d, 'old', 'ignored.crl'), 'not read: a subdirectory\n')
    const read = readCrls({ dir: d }, readFileSync(pki.path('bundle.crt')), new Date())
    expect(read.crls).toHaveLength(2)
    expect(read.warnings).toEqual([])
  })

  it('checks the directory and the file together: a CA with its CRL in either has one', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const d = crlDir()
    copyFileSync(await pki.crl('inter'), join(d, 'intermediate.crl'))
    const ca = readFileSync(pki.path('bundle.crt'))
    const both = readCrls({ file: await pki.crl('root'), dir: d }, ca, new Date())
    expect(both).toMatchObject({ crls: [expect.any(String), expect.any(String)], warnings: [] })
    expect(readCrls({ dir: d }, ca, new Date()).warnings).toEqual([
      expect.stringMatching(/^the CRL directory .*crl\.d-\d+ holds no CRL from CA "CN=test-root" of --tls-client-ca/),
    ])
    const expired = join(d, 'expired.crl')
    copyFileSync(await pki.crl('inter', { lastUpdate: '20200101000000Z', nextUpdate: '20200102000000Z' }), expired)
    expect(readCrls({ dir: d }, ca, new Date()).warnings[0]).toMatch(/^CRL 1 of .*expired\.crl \(CA "CN=test-intermediate"\) expired at 2020-01-02/)
  })

  it('refuses a directory it cannot read, one without a CRL file, and a file in it without a CRL or that does not parse, naming it', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const ca = readFileSync(pki.path('bundle.crt'))
    expect(() => readCrls({ dir: join(dir, 'missing.d') }, ca, new Date())).toThrow(/^cannot read the TLS CRL directory .*missing\.d: ENOENT/)
    const d = crlDir()
    expect(() => readCrls({ dir: d }, ca, new Date())).toThrow(/^the TLS CRL directory .*crl\.d-\d+ holds no CRL file/)
    copyFileSync(await pki.crl('root'), join(d, 'root.crl'))
    copyFileSync(pki.path('root.crt'), join(d, 'root.crt'))
    expect(() => readCrls({ dir: d }, ca, new Date())).toThrow(/^the TLS CRL file .*crl\.d-\d+\/root\.crt holds no CRL/)
    rmSync(join(d, 'root.crt'))
    writeFileSync(join(d, 'bad.crl'), '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n')
    expect(() => readCrls({ dir: d }, ca, new Date())).toThrow(/^the TLS CRL file .*crl\.d-\d+\/bad\.crl, CRL 1 of 1 cannot be parsed: /)
    // With the file too: the directory's bad file still stops it.
    const inter = await pki.crl('inter')
    expect(() => readCrls({ file: inter, dir: d }, ca, new Date())).toThrow(/bad\.crl, CRL 1 of 1 cannot be parsed/)
  })
})

describe('the DER fields of a CRL (x509-der.ts)', () => {
  it('reads the issuer and update times of a CRL openssl made', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const fields = crlFields(derOf(readFileSync(await pki.crl('root', { lastUpdate: '20260101120000Z', nextUpdate: '20500101000000Z' }), 'utf8')))
    expect(fields.thisUpdate.toISOString()).toBe('2026-01-01T12:00:00.000Z')
    // 2050 and later are GeneralizedTime in DER: both forms are read.
    expect(fields.nextUpdate?.toISOString()).toBe('2050-01-01T00:00:00.000Z')
    expect(fields.issuer.toString('latin1')).toContain('test-root')
  })

  it('throws DerError, never anything else, on every cut and every single-byte change of a CRL', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const der = derOf(readFileSync(await pki.crl('inter', { revoke: ['bob'] }), 'utf8'))
    const outcome = (bytes: Buffer): string => {
      try {
        crlFields(bytes)
        return 'read'
      } catch (err) {
        return err instanceof DerError ? 'DerError' : `other: ${String(err)}`
      }
    }
    for (let n = 0; n < der.length; n++) expect(outcome(der.subarray(0, n))).toBe('DerError')
    for (let i = 0; i < der.length; i++) {
      for (const value of [0x00, 0x7f, 0x80, 0x84, 0xff]) {
        const changed = Buffer.from(der)
        changed[i] = value
        expect(outcome(changed)).toMatch(/^(read|DerError)$/)
      }
    }
    // Trailing bytes after the CRL are refused too.
    expect(outcome(Buffer.concat([der, Buffer.from([0])]))).toBe('DerError')
  })

  it('refuses indefinite and over-long lengths and multi-byte tags', () => {
    expect(() => crlFields(Buffer.from([0x30, 0x80, 0x00, 0x00]))).toThrow(/indefinite length/)
    expect(() => crlFields(Buffer.from([0x30, 0x85, 1, 0, 0, 0, 0]))).toThrow(/length too long/)
    expect(() => crlFields(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]))).toThrow(/length beyond the data/)
    expect(() => crlFields(Buffer.from([0x1f, 0x81, 0x00]))).toThrow(/multi-byte tag/)
  })
})

describe('a CRL file with text around its blocks', () => {
  it('ignores text outside the PEM blocks, as OpenSSL does', async (ctx) => {
    if (pki === undefined) return ctx.skip()
    const file = join(dir, 'commented.crl')
    writeFileSync(file, `# the root's list\n${readFileSync(await pki.crl('root'), 'utf8')}\n# the intermediate's\n${readFileSync(await pki.crl('inter'), 'utf8')}`)
    expect(readCrlFile(file, readFileSync(pki.path('bundle.crt')), new Date())).toMatchObject({ crls: [expect.any(String), expect.any(String)], warnings: [] })
  })
})
