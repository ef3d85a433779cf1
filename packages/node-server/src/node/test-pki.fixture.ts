/**
 * A small PKI for TLS tests, made with the openssl command in a directory: a root CA, an
 * intermediate CA it signed, client certificates the intermediate signed (CN = user name),
 * a server certificate for localhost and 127.0.0.1 the intermediate signed (`server.crt`
 * holds it and the intermediate: a chain), and CRLs and self-signed certificates on demand.
 *
 * Files: root.crt, inter.crt, bundle.crt (root + intermediate), <user>.crt/.key,
 * server.crt/.key, server-leaf.crt. Keys are ECDSA P-256; certificates last two days.
 */
import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
const CA_EXTENSIONS = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'

export const hasOpenssl = (): Promise<boolean> => run('openssl', ['version']).then(() => true, () => false)

export type CaName = 'root' | 'inter'

export interface CrlOptions {
  /** Users whose certificates (signed by the intermediate) the CRL lists. */
  revoke?: string[]
  /** openssl's YYYYMMDDHHMMSSZ: thisUpdate and nextUpdate, e.g. to make an expired CRL. */
  lastUpdate?: string
  nextUpdate?: string
}

export class TestPki {
  readonly dir: string
  private crls = 0

  private constructor(dir: string) {
    this.dir = dir
  }

  /** Makes the CAs, the server chain and a certificate for each of `users` in `dir`. */
  static async create(dir: string, users: string[]): Promise<TestPki> {
    const pki = new TestPki(dir)
    const f = (name: string): string => join(dir, name)
    writeFileSync(f('ca.ext'), CA_EXTENSIONS)
    writeFileSync(f('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
    await run('openssl', ['req', '-x509', ...EC, '-days', '2', '-subj', '/CN=test-root', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', f('root.key'), '-out', f('root.crt')])
    await pki.sign('inter', '/CN=test-intermediate', 'root', f('ca.ext'))
    await pki.sign('server-leaf', '/CN=localhost', 'inter', f('server.ext'), 'server')
    for (const user of users) await pki.sign(user, `/CN=${user}`, 'inter')
    pki.concatenate('server.crt', [f('server-leaf.crt'), f('inter.crt')])
    pki.concatenate('bundle.crt', [f('root.crt'), f('inter.crt')])
    return pki
  }

  path(name: string): string {
    return join(this.dir, name)
  }

  /** A CRL of `ca` (PEM) in a new file; returns its path. */
  async crl(ca: CaName, options: CrlOptions = {}): Promise<string> {
    const n = ++this.crls
    const db = this.path(`crl-db-${n}`)
    mkdirSync(db)
    writeFileSync(join(db, 'index.txt'), '')
    writeFileSync(join(db, 'crlnumber'), '1000\n')
    const config = join(db, 'ca.cnf')
    writeFileSync(config, `[ca]\ndefault_ca = d\n[d]\ndatabase = ${join(db, 'index.txt')}\ncrlnumber = ${join(db, 'crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 2\n`)
    const caArgs = ['-config', config, '-keyfile', this.path(`${ca}.key`), '-cert', this.path(`${ca}.crt`)]
    for (const user of options.revoke ?? []) await run('openssl', ['ca', ...caArgs, '-revoke', this.path(`${user}.crt`)])
    const out = this.path(`${ca}-${n}.crl`)
    await run('openssl', ['ca', ...caArgs, '-gencrl', '-out', out,
      ...(options.lastUpdate !== undefined ? ['-crl_lastupdate', options.lastUpdate] : []),
      ...(options.nextUpdate !== undefined ? ['-crl_nextupdate', options.nextUpdate] : [])])
    rmSync(db, { recursive: true, force: true })
    return out
  }

  /** A self-signed certificate `<name>.crt` (key `<name>.key`) with CN = `user`: one no CA of the PKI signed. */
  async selfSigned(name: string, user: string): Promise<void> {
    await run('openssl', ['req', '-x509', ...EC, '-days', '2', '-subj', `/CN=${user}`, '-keyout', this.path(`${name}.key`), '-out', this.path(`${name}.crt`)])
    chmodSync(this.path(`${name}.key`), 0o600)
  }

  /** A file `name` holding the given files one after another (a CRL file with several lists, a chain); returns its path. */
  concatenate(name: string, parts: string[]): string {
    const out = this.path(name)
    writeFileSync(out, Buffer.concat(parts.map((p) => readFileSync(p))))
    return out
  }

  private async sign(name: string, subject: string, ca: CaName, extensions?: string, keyName = name): Promise<void> {
    await run('openssl', ['req', ...EC, '-subj', subject, '-keyout', this.path(`${keyName}.key`), '-out', this.path(`${name}.csr`)])
    // libpq refuses a key others may read.
    chmodSync(this.path(`${keyName}.key`), 0o600)
    await run('openssl', ['x509', '-req', '-in', this.path(`${name}.csr`), '-CA', this.path(`${ca}.crt`), '-CAkey', this.path(`${ca}.key`),
      '-CAcreateserial', '-days', '2', ...(extensions !== undefined ? ['-extfile', extensions] : []), '-out', this.path(`${name}.crt`)])
  }
}
