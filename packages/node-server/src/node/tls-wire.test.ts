import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { request as httpsRequest } from 'node:https'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordNode } from './concord-node.js'

const run = promisify(execFile)
const nodes: ConcordNode[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const has = (cmd: string): Promise<boolean> => run(cmd, [cmd === 'openssl' ? 'version' : '--version']).then(() => true, () => false)

async function tlsNode(): Promise<{ node: ConcordNode; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'concord-tls-'))
  dirs.push(dir)
  const node = await ConcordNode.start({ dataDir: dir, nodeId: 'tls', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', tls: 'self-signed' })
  nodes.push(node)
  return { node, dir }
}

describe('TLS on the PostgreSQL port', () => {
  it('serves sslmode=verify-full with its self-signed certificate, and plain connections still', async (ctx) => {
    if (!(await has('openssl'))) ctx.skip()
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
    if (!(await has('openssl')) || !(await has('psql'))) ctx.skip()
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
    if (!(await has('openssl'))) ctx.skip()
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
  /** A CA, a certificate it signed for `alice`, and a self-signed one also naming alice. */
  async function certificates(dir: string): Promise<void> {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
    await run('openssl', ['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=test-ca', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt')])
    await run('openssl', ['req', ...ec, '-subj', '/CN=alice', '-keyout', join(dir, 'alice.key'), '-out', join(dir, 'alice.csr')])
    await run('openssl', ['x509', '-req', '-in', join(dir, 'alice.csr'), '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2', '-out', join(dir, 'alice.crt')])
    await run('openssl', ['req', '-x509', ...ec, '-days', '2', '-subj', '/CN=alice', '-keyout', join(dir, 'rogue.key'), '-out', join(dir, 'rogue.crt')])
  }

  const failure = (c: pg.Client): Promise<{ code?: string; message: string } | undefined> => c.connect().then(() => undefined, (err: { code?: string; message: string }) => err)

  it('a certificate the CA signed logs in the user it names without a password; another user, or a rogue certificate, does not', async (ctx) => {
    if (!(await has('openssl'))) ctx.skip()
    const dir = mkdtempSync(join(tmpdir(), 'concord-tls-cert-'))
    dirs.push(dir)
    await certificates(dir)
    const node = await ConcordNode.start({
      dataDir: dir, nodeId: 'tlscert', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', tls: 'self-signed', tlsClientCaFile: join(dir, 'ca.crt'), password: 's3cret',
    })
    nodes.push(node)
    const admin = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', password: 's3cret' })
    await admin.connect()
    await admin.query(`CREATE ROLE alice LOGIN PASSWORD 'alice-pw'`)
    await admin.query(`CREATE ROLE bob LOGIN PASSWORD 'bob-pw'`)
    await admin.end()
    const withCert = (user: string, name: string, password?: string) => new pg.Client({
      host: '127.0.0.1', port: node.pgPort, user, database: 'concord', ...(password !== undefined ? { password } : {}),
      ssl: { rejectUnauthorized: false, cert: readFileSync(join(dir, `${name}.crt`)), key: readFileSync(join(dir, `${name}.key`)) },
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
    if (!(await has('openssl'))) ctx.skip()
    const dir = mkdtempSync(join(tmpdir(), 'concord-tls-cert-req-'))
    dirs.push(dir)
    await certificates(dir)
    const node = await ConcordNode.start({
      dataDir: dir, nodeId: 'tlscertreq', pgPort: 0, pgPortSearch: false, p2pHost: '127.0.0.1', tls: 'self-signed', tlsClientCaFile: join(dir, 'ca.crt'), requireTls: 'cert',
    })
    nodes.push(node)
    const bare = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord', ssl: { rejectUnauthorized: false } })
    expect(await failure(bare)).toMatchObject({ code: '28000', message: 'connection requires a valid client certificate' })
    const signed = new pg.Client({
      host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord',
      ssl: { rejectUnauthorized: false, cert: readFileSync(join(dir, 'alice.crt')), key: readFileSync(join(dir, 'alice.key')) },
    })
    // Before any LOGIN role exists every user name is the bootstrap superuser, but the certificate must still name the user.
    expect(await failure(signed)).toMatchObject({ code: '28000', message: 'certificate authentication failed for user "concord"' })
  }, 60_000)
})

describe('WebSockets over TLS for browser replicas (wssPort)', () => {
  it('listens on /tls/ws with the node certificate: a client trusting it upgrades to a WebSocket', async (ctx) => {
    if (!(await has('openssl'))) ctx.skip()
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
