import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request as httpsRequest } from 'node:https'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { once } from 'node:events'
import { connect as tlsConnect } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordNode, type ConcordNodeOptions } from './concord-node.js'
import { hasOpenssl, TestPki } from './test-pki.fixture.js'

const run = promisify(execFile)
const nodes: ConcordNode[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const hasPsql = (): Promise<boolean> => run('psql', ['--version']).then(() => true, () => false)

/** A PKI (test-pki.fixture.ts) in a directory of its own: root, intermediate, the server's chain, and a certificate the intermediate signed for each of `users`. */
async function pkiDir(users = ['alice', 'bob']): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-tls-pki-'))
  dirs.push(dir)
  return TestPki.create(dir, users)
}

async function tlsNode(): Promise<{ node: ConcordNode; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-tls-'))
  dirs.push(dir)
  const node = await ConcordNode.start({ dataDir: dir, nodeId: 'tls', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', tls: 'self-signed' })
  nodes.push(node)
  return { node, dir }
}

describe('TLS on the PostgreSQL port', () => {
  it('serves sslmode=verify-full with its self-signed certificate, and plain connections still', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const { node, dir } = await tlsNode()
    const ca = readFileSync(join(dir, 'server.crt'))
    expect(statSync(join(dir, 'server.key')).mode & 0o777).toBe(0o600)
    const secure = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', ssl: { ca, rejectUnauthorized: true } })
    await secure.connect()
    try {
      expect((await secure.query('SELECT 41 + 1 AS n')).rows).toEqual([{ n: 42 }])
      const socket = (secure as unknown as { connection: { stream: { encrypted?: boolean; getProtocol?: () => string } } }).connection.stream
      expect(socket.encrypted).toBe(true)
    } finally {
      await secure.end()
    }
    // A certificate the client does not trust is refused by the client.
    const wrongCa = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', ssl: { rejectUnauthorized: true } })
    await expect(wrongCa.connect()).rejects.toThrow(/self.signed|certificate/i)
    const plain = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' })
    await plain.connect()
    expect((await plain.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await plain.end()
  }, 60_000)

  it('psql connects with sslmode=verify-full and reports TLS', async (ctx) => {
    if (!(await hasOpenssl()) || !(await hasPsql())) ctx.skip()
    const { node, dir } = await tlsNode()
    const conn = `host=localhost port=${node.pgPort} user=concord dbname=concord sslmode=verify-full sslrootcert=${join(dir, 'server.crt')}`
    const out = await run('psql', ['-X', '-At', conn, '-c', 'SELECT 7'], { env: { ...process.env, PGCONNECT_TIMEOUT: '5' }, timeout: 15_000 })
    expect(out.stdout.trim()).toBe('7')
    const info = await run('psql', ['-X', conn, '-c', '\\conninfo'], { env: { ...process.env, PGCONNECT_TIMEOUT: '5' }, timeout: 15_000 })
    expect(info.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/)
  }, 60_000)
})

describe('requiring TLS (requireTls, --require-tls)', () => {
  it("'all' refuses a plain connection with 28000 and serves a TLS one", async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const dir = mkdtempSync(join(tmpdir(), 'concord-tls-req-'))
    dirs.push(dir)
    const node = await ConcordNode.start({ dataDir: dir, nodeId: 'tlsreq', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', tls: 'self-signed', requireTls: 'all' })
    nodes.push(node)
    const plain = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' })
    const refused = await plain.connect().then(() => undefined, (err: { code?: string; message: string }) => err)
    expect(refused?.code).toBe('28000')
    expect(refused?.message).toBe('no pg_hba.conf entry for host "127.0.0.1", user "concord", database "concord", no encryption')
    const ca = readFileSync(join(dir, 'server.crt'))
    const secure = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', ssl: { ca, servername: 'localhost', rejectUnauthorized: true } })
    await secure.connect()
    try {
      expect((await secure.query('SELECT 6 * 7 AS n')).rows).toEqual([{ n: 42 }])
    } finally {
      await secure.end()
    }
  }, 60_000)

  it('without a certificate is refused at start', async () => {
    await expect(ConcordNode.start({ memory: true, nodeId: 'noreq', pgPort: 0, pgPortSearch: false, requireTls: 'remote' })).rejects.toThrow(/needs a certificate/)
  })
})

describe('client certificates (tlsClientCaFile, --tls-client-ca)', () => {
  const failure = (c: pg.Client): Promise<{ code?: string; message: string } | undefined> => c.connect().then(() => undefined, (err: { code?: string; message: string }) => err)

  it('a certificate the CA signed logs in the user it names without a password; another user, or a rogue certificate, does not', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const dir = mkdtempSync(join(tmpdir(), 'concord-tls-cert-'))
    dirs.push(dir)
    const pki = await pkiDir(['alice'])
    // Also naming alice, signed by no CA of the bundle.
    await pki.selfSigned('rogue', 'alice')
    const node = await ConcordNode.start({
      dataDir: dir, nodeId: 'tlscert', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', tls: 'self-signed', tlsClientCaFile: pki.path('bundle.crt'), password: 's3cret',
    })
    nodes.push(node)
    const admin = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', password: 's3cret' })
    await admin.connect()
    await admin.query(`CREATE ROLE alice LOGIN PASSWORD 'alice-pw'`)
    await admin.query(`CREATE ROLE bob LOGIN PASSWORD 'bob-pw'`)
    await admin.end()
    const withCert = (user: string, name: string, password?: string) => new pg.Client({
      host: '127.0.0.1', port: node.pgPort, user, database: 'concord', ...(password !== undefined ? { password } : {}),
      ssl: { rejectUnauthorized: false, cert: readFileSync(pki.path(`${name}.crt`)), key: readFileSync(pki.path(`${name}.key`)) },
    })
    const alice = withCert('alice', 'alice')
    await alice.connect()
    try {
      expect((await alice.query('SELECT current_user AS u')).rows).toEqual([{ u: 'alice' }])
    } finally {
      await alice.end()
    }
    expect(await failure(withCert('bob', 'alice', 'bob-pw'))).toMatchObject({ code: '28000', message: 'certificate authentication failed for user "bob"' })
    // A certificate the CA did not sign proves nothing: the password rules apply.
    expect(await failure(withCert('alice', 'rogue', 'wrong'))).toMatchObject({ message: 'password authentication failed for user "alice"' })
  }, 60_000)

  it("requireTls 'cert' refuses a TLS connection without a client certificate", async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const dir = mkdtempSync(join(tmpdir(), 'concord-tls-cert-req-'))
    dirs.push(dir)
    const pki = await pkiDir(['alice'])
    const node = await ConcordNode.start({
      dataDir: dir, nodeId: 'tlscertreq', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', tls: 'self-signed', tlsClientCaFile: pki.path('bundle.crt'), requireTls: 'cert',
    })
    nodes.push(node)
    const bare = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', ssl: { rejectUnauthorized: false } })
    expect(await failure(bare)).toMatchObject({ code: '28000', message: 'connection requires a valid client certificate' })
    const signed = new pg.Client({
      host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord',
      ssl: { rejectUnauthorized: false, cert: readFileSync(pki.path('alice.crt')), key: readFileSync(pki.path('alice.key')) },
    })
    // Before any LOGIN role exists every user name is the bootstrap superuser, but the certificate must still name the user.
    expect(await failure(signed)).toMatchObject({ code: '28000', message: 'certificate authentication failed for user "concord"' })
  }, 60_000)
})

describe('intermediate CAs and revocation lists (tlsCrlFile, --tls-crl-file)', () => {
  const psqlEnv = { ...process.env, PGCONNECT_TIMEOUT: '5', PGPASSWORD: '' }
  interface Logged { warn: string[]; info: string[] }
  async function pkiNode(pki: TestPki, extra: Partial<ConcordNodeOptions> = {}): Promise<{ node: ConcordNode; logged: Logged }> {
    const logged: Logged = { warn: [], info: [] }
    const node = await ConcordNode.start({
      memory: true, nodeId: 'tlspki', pgPort: 0, pgPortSearch: false, p2p: false,
      tls: { certFile: pki.path('server.crt'), keyFile: pki.path('server.key') },
      logger: { info: (m) => logged.info.push(m), warn: (m) => logged.warn.push(m), error: (m) => logged.warn.push(m) },
      ...extra,
    })
    nodes.push(node)
    return { node, logged }
  }

  /** Creates alice and bob, each with a password, through the bootstrap superuser. */
  async function roles(node: ConcordNode): Promise<void> {
    const admin = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', password: 's3cret' })
    await admin.connect()
    await admin.query(`CREATE ROLE alice LOGIN PASSWORD 'alice-pw'`)
    await admin.query(`CREATE ROLE bob LOGIN PASSWORD 'bob-pw'`)
    await admin.end()
  }

  /** psql verifying the server against the root alone, sending the user's certificate (its leaf only). */
  const psql = (node: ConcordNode, pki: TestPki, user: string, cert = user): Promise<string> =>
    run('psql', ['-X', '-At', '-w', `host=localhost port=${node.pgPort} user=${user} dbname=concord sslmode=verify-full sslrootcert=${pki.path('root.crt')} `
      + `sslcert=${pki.path(`${cert}.crt`)} sslkey=${pki.path(`${cert}.key`)}`, '-c', 'SELECT current_user'], { env: psqlEnv, timeout: 15_000 }).then((o) => o.stdout.trim())

  const client = (node: ConcordNode, pki: TestPki, user: string, cert: string, password?: string) => new pg.Client({
    host: '127.0.0.1', port: node.pgPort, user, database: 'concord', ...(password !== undefined ? { password } : {}),
    ssl: { ca: readFileSync(pki.path('root.crt')), servername: 'localhost', rejectUnauthorized: true, cert: readFileSync(pki.path(`${cert}.crt`)), key: readFileSync(pki.path(`${cert}.key`)) },
  })
  const currentUser = async (c: pg.Client): Promise<string> => {
    await c.connect()
    try {
      return ((await c.query('SELECT current_user AS u')).rows[0] as { u: string }).u
    } finally {
      await c.end()
    }
  }

  it('serves the chain of its certificate file: psql verify-full trusts the root alone', async (ctx) => {
    if (!(await hasOpenssl()) || !(await hasPsql())) ctx.skip()
    const pki = await pkiDir()
    const { node } = await pkiNode(pki)
    const conn = (port: number) => `host=localhost port=${port} user=concord dbname=concord sslmode=verify-full sslrootcert=${pki.path('root.crt')}`
    expect((await run('psql', ['-X', '-At', conn(node.pgPort), '-c', 'SELECT 7'], { env: psqlEnv, timeout: 15_000 })).stdout.trim()).toBe('7')
    const secure = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', ssl: { ca: readFileSync(pki.path('root.crt')), servername: 'localhost' } })
    expect(await currentUser(secure)).toBe('concord')
    // The leaf alone does not reach the root: the chain in the file is what the client needs.
    const { node: leafOnly } = await pkiNode(pki, { nodeId: 'tlsleaf', tls: { certFile: pki.path('server-leaf.crt'), keyFile: pki.path('server.key') } })
    await expect(run('psql', ['-X', '-At', conn(leafOnly.pgPort), '-c', 'SELECT 7'], { env: psqlEnv, timeout: 15_000 })).rejects.toMatchObject({ stderr: expect.stringMatching(/certificate verify failed/) })
  }, 60_000)

  it('verifies a client certificate of an intermediate CA of the bundle when the client sends only its leaf', async (ctx) => {
    if (!(await hasOpenssl()) || !(await hasPsql())) ctx.skip()
    const pki = await pkiDir()
    const { node } = await pkiNode(pki, { tlsClientCaFile: pki.path('bundle.crt'), password: 's3cret' })
    await roles(node)
    expect(await psql(node, pki, 'alice')).toBe('alice')
    expect(await currentUser(client(node, pki, 'bob', 'bob'))).toBe('bob')
    // With the root alone as the client CA, a leaf of the intermediate proves nothing (no password given: refused).
    const { node: rootOnly, logged } = await pkiNode(pki, { nodeId: 'tlsroot', tlsClientCaFile: pki.path('root.crt'), password: 's3cret' })
    await roles(rootOnly)
    await expect(psql(rootOnly, pki, 'alice')).rejects.toMatchObject({ stderr: expect.stringMatching(/password/) })
    expect(logged.info).toContainEqual(expect.stringMatching(/client certificate "alice" not verified: .*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/))
  }, 60_000)

  it('a certificate the CRL revokes proves nothing: the password rules apply, and requireTls cert refuses it', async (ctx) => {
    if (!(await hasOpenssl()) || !(await hasPsql())) ctx.skip()
    const pki = await pkiDir()
    const crlFile = pki.concatenate('clients.crl', [await pki.crl('inter', { revoke: ['bob'] }), await pki.crl('root')])
    const { node, logged } = await pkiNode(pki, { tlsClientCaFile: pki.path('bundle.crt'), tlsCrlFile: crlFile, password: 's3cret' })
    expect(logged.warn).toEqual([])
    await roles(node)
    expect(await psql(node, pki, 'alice')).toBe('alice')
    await expect(psql(node, pki, 'bob')).rejects.toMatchObject({ stderr: expect.stringMatching(/password/) })
    await expect(currentUser(client(node, pki, 'bob', 'bob', 'wrong'))).rejects.toMatchObject({ message: 'password authentication failed for user "bob"' })
    expect(await currentUser(client(node, pki, 'bob', 'bob', 'bob-pw'))).toBe('bob')
    expect(logged.info).toContainEqual(expect.stringMatching(/client certificate "bob" not verified: certificate revoked \(CERT_REVOKED\)$/))

    const { node: certOnly } = await pkiNode(pki, { nodeId: 'tlscrlcert', tlsClientCaFile: pki.path('bundle.crt'), tlsCrlFile: crlFile, requireTls: 'cert' })
    await expect(currentUser(client(certOnly, pki, 'bob', 'bob'))).rejects.toMatchObject({ code: '28000', message: 'connection requires a valid client certificate' })
    await expect(psql(certOnly, pki, 'bob')).rejects.toMatchObject({ stderr: expect.stringMatching(/connection requires a valid client certificate/) })
    expect(await psql(certOnly, pki, 'alice')).toBe('alice')
  }, 90_000)

  it('an expired CRL refuses every certificate of its CA, as OpenSSL and PostgreSQL do, warned at start and at the first refusal', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const pki = await pkiDir()
    const crlFile = pki.concatenate('expired.crl', [
      await pki.crl('inter', { lastUpdate: '20200101000000Z', nextUpdate: '20200102000000Z' }), await pki.crl('root'),
    ])
    const { node, logged } = await pkiNode(pki, { tlsClientCaFile: pki.path('bundle.crt'), tlsCrlFile: crlFile, requireTls: 'cert' })
    expect(logged.warn).toEqual([expect.stringMatching(/CRL 1 of .*expired\.crl \(CA "CN=test-intermediate"\) expired at 2020-01-02T00:00:00\.000Z/)])
    for (let i = 0; i < 2; i++) {
      await expect(currentUser(client(node, pki, 'alice', 'alice'))).rejects.toMatchObject({ code: '28000', message: 'connection requires a valid client certificate' })
    }
    // Once where the operator looks, then at info.
    expect(logged.warn.slice(1)).toEqual([expect.stringMatching(/client certificate "alice" not verified: CRL has expired \(CRL_HAS_EXPIRED\); every client certificate under that CA is refused/)])
    expect(logged.info).toContainEqual(expect.stringMatching(/client certificate "alice" not verified: CRL has expired \(CRL_HAS_EXPIRED\)$/))
  }, 60_000)

  it('a CA of the bundle without a CRL in the file refuses the certificates under it', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const pki = await pkiDir()
    const { node, logged } = await pkiNode(pki, { tlsClientCaFile: pki.path('bundle.crt'), tlsCrlFile: await pki.crl('inter'), requireTls: 'cert' })
    expect(logged.warn).toEqual([expect.stringMatching(/holds no CRL from CA "CN=test-root"/)])
    await expect(currentUser(client(node, pki, 'alice', 'alice'))).rejects.toMatchObject({ code: '28000', message: 'connection requires a valid client certificate' })
    expect(logged.warn[1]).toMatch(/not verified: unable to get certificate CRL \(UNABLE_TO_GET_CRL\)/)
  }, 60_000)

  it('reloadTls (SIGHUP) reads a new CRL for the next connections, and keeps the one in use when the new file does not parse', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const pki = await pkiDir()
    const root = await pki.crl('root')
    const crlFile = pki.concatenate('live.crl', [await pki.crl('inter'), root])
    const { node } = await pkiNode(pki, { tlsClientCaFile: pki.path('bundle.crt'), tlsCrlFile: crlFile, requireTls: 'cert' })
    expect(await currentUser(client(node, pki, 'bob', 'bob'))).toBe('bob')
    const open = client(node, pki, 'bob', 'bob')
    await open.connect()
    pki.concatenate('live.crl', [await pki.crl('inter', { revoke: ['bob'] }), root])
    expect(node.reloadTls()).toBe(true)
    await expect(currentUser(client(node, pki, 'bob', 'bob'))).rejects.toMatchObject({ code: '28000', message: 'connection requires a valid client certificate' })
    expect(await currentUser(client(node, pki, 'alice', 'alice'))).toBe('alice')
    // A session open before the reload keeps running.
    expect((await open.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await open.end()
    writeFileSync(crlFile, '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n')
    expect(() => node.reloadTls()).toThrow(/live\.crl, CRL 1 of 1 cannot be parsed/)
    await expect(currentUser(client(node, pki, 'bob', 'bob'))).rejects.toMatchObject({ code: '28000' })
    expect(await currentUser(client(node, pki, 'alice', 'alice'))).toBe('alice')
  }, 60_000)

  it('a CRL directory (tlsCrlDir) is read whole: a certificate a CRL in it revokes gets 28000 under requireTls cert', async (ctx) => {
    if (!(await hasOpenssl()) || !(await hasPsql())) ctx.skip()
    const pki = await pkiDir()
    const crlDir = pki.path('crl.d')
    mkdirSync(crlDir)
    copyFileSync(await pki.crl('inter', { revoke: ['bob'] }), join(crlDir, 'intermediate.pem'))
    copyFileSync(await pki.crl('root'), join(crlDir, 'root.crl'))
    const { node, logged } = await pkiNode(pki, { tlsClientCaFile: pki.path('bundle.crt'), tlsCrlDir: crlDir, requireTls: 'cert' })
    expect(logged.warn).toEqual([])
    await expect(currentUser(client(node, pki, 'bob', 'bob'))).rejects.toMatchObject({ code: '28000', message: 'connection requires a valid client certificate' })
    await expect(psql(node, pki, 'bob')).rejects.toMatchObject({ stderr: expect.stringMatching(/connection requires a valid client certificate/) })
    expect(await psql(node, pki, 'alice')).toBe('alice')
    expect(logged.info).toContainEqual(expect.stringMatching(/client certificate "bob" not verified: certificate revoked \(CERT_REVOKED\)$/))
  }, 60_000)

  it('reloadTls (SIGHUP) reads the CRL directory again: a CRL added to it applies to the next connections, with the CRL file', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const pki = await pkiDir()
    const crlDir = pki.path('crl.d')
    mkdirSync(crlDir)
    // The root's CRL in the file, none yet from the intermediate: its certificates are refused.
    const { node, logged } = await pkiNode(pki, { tlsClientCaFile: pki.path('bundle.crt'), tlsCrlFile: await pki.crl('root'), tlsCrlDir: crlDir, requireTls: 'cert' })
    expect(logged.warn).toEqual([expect.stringMatching(/root-\d+\.crl and the CRL directory .*crl\.d hold no CRL from CA "CN=test-intermediate"/)])
    await expect(currentUser(client(node, pki, 'alice', 'alice'))).rejects.toMatchObject({ code: '28000' })
    copyFileSync(await pki.crl('inter', { revoke: ['bob'] }), join(crlDir, 'intermediate.crl'))
    expect(node.reloadTls()).toBe(true)
    expect(await currentUser(client(node, pki, 'alice', 'alice'))).toBe('alice')
    await expect(currentUser(client(node, pki, 'bob', 'bob'))).rejects.toMatchObject({ code: '28000', message: 'connection requires a valid client certificate' })
    // A file in the directory that does not parse: the CRLs in use are kept.
    writeFileSync(join(crlDir, 'broken.crl'), '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n')
    expect(() => node.reloadTls()).toThrow(/crl\.d\/broken\.crl, CRL 1 of 1 cannot be parsed/)
    expect(await currentUser(client(node, pki, 'alice', 'alice'))).toBe('alice')
    await expect(currentUser(client(node, pki, 'bob', 'bob'))).rejects.toMatchObject({ code: '28000' })
  }, 60_000)

  it('a client offering its last TLS session gets a full handshake, its certificate checked again', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const pki = await pkiDir()
    const { node } = await pkiNode(pki, { tlsClientCaFile: pki.path('bundle.crt'), tlsCrlFile: pki.concatenate('c.crl', [await pki.crl('inter'), await pki.crl('root')]) })
    /** SSLRequest, TLS offering `session`, a startup packet for alice: the first authentication message and whether the session was resumed. */
    const attempt = async (session?: Buffer): Promise<{ auth: number; reused: boolean; session?: Buffer }> => {
      const raw = connect(node.pgPort, '127.0.0.1')
      await once(raw, 'connect')
      raw.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]))
      const [answer] = (await once(raw, 'data')) as [Buffer]
      expect(answer.toString()).toBe('S')
      const secure = tlsConnect({
        socket: raw, servername: 'localhost', ca: readFileSync(pki.path('root.crt')), cert: readFileSync(pki.path('alice.crt')), key: readFileSync(pki.path('alice.key')),
        ...(session !== undefined ? { session } : {}),
      })
      let next: Buffer | undefined
      secure.on('session', (s: Buffer) => {
        next = s
      })
      await once(secure, 'secureConnect')
      const params = Buffer.from('user\0alice\0database\0concord\0\0')
      const startup = Buffer.alloc(8)
      startup.writeInt32BE(8 + params.length, 0)
      startup.writeInt32BE(3 << 16, 4)
      secure.write(Buffer.concat([startup, params]))
      const [reply] = (await once(secure, 'data')) as [Buffer]
      const reused = secure.isSessionReused()
      secure.destroy()
      expect(reply[0]).toBe('R'.charCodeAt(0))
      return { auth: reply.readInt32BE(5), reused, ...(next !== undefined ? { session: next } : {}) }
    }
    const first = await attempt()
    expect(first.auth).toBe(0)
    expect(first.session).toBeInstanceOf(Buffer)
    const second = await attempt(first.session)
    // AuthenticationOk (0) without a password: the certificate was verified on this connection.
    expect(second).toMatchObject({ auth: 0, reused: false })
  }, 60_000)

  it('a CRL file or directory that cannot be read or parsed, or one without a client CA, stops the start', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const pki = await pkiDir()
    const start = (extra: Partial<ConcordNodeOptions>) => ConcordNode.start({
      memory: true, nodeId: 'tlsbad', pgPort: 0, pgPortSearch: false, p2p: false,
      tls: { certFile: pki.path('server.crt'), keyFile: pki.path('server.key') }, tlsClientCaFile: pki.path('bundle.crt'), ...extra,
    })
    await expect(start({ tlsCrlFile: pki.path('missing.crl') })).rejects.toThrow(/^cannot read the TLS CRL file .*missing\.crl: ENOENT/)
    await expect(start({ tlsCrlFile: pki.path('root.crt') })).rejects.toThrow(/root\.crt holds no CRL/)
    writeFileSync(pki.path('bad.crl'), '-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n')
    await expect(start({ tlsCrlFile: pki.path('bad.crl') })).rejects.toThrow(/bad\.crl, CRL 1 of 1 cannot be parsed/)
    await expect(ConcordNode.start({
      memory: true, nodeId: 'tlsnoca', pgPort: 0, pgPortSearch: false, p2p: false,
      tls: { certFile: pki.path('server.crt'), keyFile: pki.path('server.key') }, tlsCrlFile: await pki.crl('root'),
    })).rejects.toThrow(/tlsCrlFile needs the client CA/)
    await expect(ConcordNode.start({
      memory: true, nodeId: 'tlsnoca', pgPort: 0, pgPortSearch: false, p2p: false,
      tls: { certFile: pki.path('server.crt'), keyFile: pki.path('server.key') }, tlsCrlDir: pki.dir,
    })).rejects.toThrow(/tlsCrlDir needs the client CA/)
    await expect(start({ tlsCrlDir: pki.path('missing.d') })).rejects.toThrow(/^cannot read the TLS CRL directory .*missing\.d: ENOENT/)
    // Every file of the directory is read: here, certificates and keys among them.
    await expect(start({ tlsCrlDir: pki.dir })).rejects.toThrow(/holds no CRL/)
  }, 60_000)
})

describe('WebSockets over TLS for browser replicas (wssPort)', () => {
  it('listens on /tls/ws with the node certificate: a client trusting it upgrades to a WebSocket', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const dir = mkdtempSync(join(tmpdir(), 'concord-wss-'))
    dirs.push(dir)
    const node = await ConcordNode.start({ dataDir: dir, nodeId: 'wss', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', tls: 'self-signed', wssPort: 0 })
    nodes.push(node)
    const wss = node.p2pAddresses().find((a) => a.includes('/tls/ws'))
    expect(wss).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/tls\/ws\/p2p\//)
    const port = Number(/\/tcp\/(\d+)\//.exec(wss!)![1])
    const ca = readFileSync(join(dir, 'server.crt'))
    const upgrade = (trusted: boolean) =>
      new Promise<{ status: number; encrypted: boolean }>((resolve, reject) => {
        const req = httpsRequest({
          host: '127.0.0.1', port, path: '/', servername: 'localhost', ...(trusted ? { ca } : {}), rejectUnauthorized: true,
          headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64') },
        })
        req.on('upgrade', (res, socket) => {
          resolve({ status: res.statusCode ?? 0, encrypted: (socket as { encrypted?: boolean }).encrypted === true })
          socket.destroy()
        })
        req.on('response', (res) => resolve({ status: res.statusCode ?? 0, encrypted: true }))
        req.on('error', reject)
        req.end()
      })
    expect(await upgrade(true)).toEqual({ status: 101, encrypted: true })
    // Not trusting the certificate: refused by the client, as a browser on an HTTPS page would.
    await expect(upgrade(false)).rejects.toThrow(/self.signed|certificate/i)
  })

  it('wssPort without a certificate is refused', async () => {
    await expect(ConcordNode.start({ memory: true, nodeId: 'nowss', pgPort: 0, pgPortSearch: false, wssPort: 0 })).rejects.toThrow(/needs a certificate/)
  })
})
