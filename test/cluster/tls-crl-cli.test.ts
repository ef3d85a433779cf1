/**
 * `concord start --tls-crl-file` and `--tls-crl-dir` (issue 15, "Secure by default"): a
 * client certificate a CRL revokes does not log in under `--require-tls cert`, and SIGHUP
 * makes the running node read the CRL file and directory again (as PostgreSQL rereads
 * ssl_crl_file and ssl_crl_dir), keeping the CRLs in use when a new file does not parse.
 * Real processes on 127.0.0.1, psql as the client.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { hasOpenssl, TestPki } from '../../packages/node-server/src/node/test-pki.fixture.js'
import { ConcordProcess, until } from './concord-process.js'
import { useNodeProcesses } from './node-processes.fixture.js'

const CLI = fileURLToPath(new URL('../../packages/node-server/src/cli.ts', import.meta.url))
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const run = promisify(execFile)
const has = (cmd: string): Promise<boolean> => run(cmd, ['--version']).then(() => true, () => false)

const { dir, started } = useNodeProcesses('concord-tls-crl-')

/** psql as `user` with its certificate: the user it logged in as, or psql's error. */
async function login(node: ConcordProcess, pki: TestPki, user: string): Promise<string> {
  const conn = `host=localhost port=${node.pgPort} user=${user} dbname=concord sslmode=verify-full sslrootcert=${pki.path('root.crt')} `
    + `sslcert=${pki.path(`${user}.crt`)} sslkey=${pki.path(`${user}.key`)}`
  try {
    const { stdout } = await run('psql', ['-X', '-At', '-w', conn, '-c', 'SELECT current_user'], { env: { ...process.env, PGCONNECT_TIMEOUT: '5' }, timeout: 15_000 })
    return stdout.trim()
  } catch (err) {
    return (err as { stderr?: string }).stderr ?? String(err)
  }
}

describe('concord start --tls-crl-file', () => {
  it('refuses a revoked client certificate, and reads a new CRL file on SIGHUP', async (ctx) => {
    if (!(await hasOpenssl()) || !(await has('psql'))) ctx.skip()
    const pki = await TestPki.create(dir, ['alice', 'bob'])
    const root = await pki.crl('root')
    const crlFile = pki.concatenate('clients.crl', [await pki.crl('inter'), root])
    const node = await started(ConcordProcess.start({
      nodeId: 'tls-crl', extraArgs: [
        '--memory', '--no-p2p', '--tls-cert', pki.path('server.crt'), '--tls-key', pki.path('server.key'), '--require-tls', 'cert',
        '--tls-client-ca', pki.path('bundle.crt'),
      ],
      env: { CONCORD_TLS_CRL_FILE: crlFile },
    }))
    expect(await login(node, pki, 'bob')).toBe('bob')

    pki.concatenate('clients.crl', [await pki.crl('inter', { revoke: ['bob'] }), root])
    node.child.kill('SIGHUP')
    await until(() => node.log.includes('TLS files of the PostgreSQL port read again'), 10_000, 'the reload')
    expect(await login(node, pki, 'bob')).toMatch(/connection requires a valid client certificate/)
    expect(await login(node, pki, 'alice')).toBe('alice')

    writeFileSync(crlFile, 'not a CRL\n')
    node.child.kill('SIGHUP')
    await until(() => node.log.includes('SIGHUP: the TLS files in use are kept'), 10_000, 'the failed reload')
    expect(node.log).toMatch(/SIGHUP: the TLS files in use are kept: the TLS CRL file .*clients\.crl holds no CRL/)
    expect(node.running).toBe(true)
    expect(await login(node, pki, 'bob')).toMatch(/connection requires a valid client certificate/)
    expect(await login(node, pki, 'alice')).toBe('alice')
  }, 120_000)

  it('--tls-crl-dir: refuses a certificate a CRL in the directory revokes, and reads a CRL added to it on SIGHUP', async (ctx) => {
    if (!(await hasOpenssl()) || !(await has('psql'))) ctx.skip()
    mkdirSync(join(dir, 'dir-pki'))
    const pki = await TestPki.create(join(dir, 'dir-pki'), ['alice', 'bob'])
    const crlDir = pki.path('crl.d')
    mkdirSync(crlDir)
    copyFileSync(await pki.crl('root'), join(crlDir, 'root.crl'))
    const node = await started(ConcordProcess.start({
      nodeId: 'tls-crl-dir', extraArgs: [
        '--memory', '--no-p2p', '--tls-cert', pki.path('server.crt'), '--tls-key', pki.path('server.key'), '--require-tls', 'cert',
        '--tls-client-ca', pki.path('bundle.crt'),
      ],
      env: { CONCORD_TLS_CRL_DIR: crlDir },
    }))
    // No CRL from the intermediate yet: its certificates are refused, as the start warned.
    expect(node.log).toMatch(/the CRL directory .*crl\.d holds no CRL from CA "CN=test-intermediate"/)
    expect(await login(node, pki, 'alice')).toMatch(/connection requires a valid client certificate/)

    copyFileSync(await pki.crl('inter', { revoke: ['bob'] }), join(crlDir, 'intermediate.crl'))
    node.child.kill('SIGHUP')
    await until(() => node.log.includes('TLS files of the PostgreSQL port read again'), 10_000, 'the reload')
    expect(await login(node, pki, 'alice')).toBe('alice')
    expect(await login(node, pki, 'bob')).toMatch(/connection requires a valid client certificate/)

    writeFileSync(join(crlDir, 'notes.txt'), 'not a CRL\n')
    node.child.kill('SIGHUP')
    await until(() => node.log.includes('SIGHUP: the TLS files in use are kept'), 10_000, 'the failed reload')
    expect(node.log).toMatch(/SIGHUP: the TLS files in use are kept: the TLS CRL file .*crl\.d\/notes\.txt holds no CRL/)
    expect(await login(node, pki, 'alice')).toBe('alice')
    expect(await login(node, pki, 'bob')).toMatch(/connection requires a valid client certificate/)
  }, 120_000)

  it('stops with a usage error without --tls-client-ca, and with a message when the file or directory cannot be read', async (ctx) => {
    if (!(await hasOpenssl())) ctx.skip()
    const start = (args: string[]) => run(process.execPath, ['--no-warnings=ExperimentalWarning', '--import', TSX, CLI, 'start', '--memory', '--no-p2p', '--pg-port', '0', ...args], { timeout: 60_000 })
      .then(() => 'started', (err: { stderr?: string }) => err.stderr ?? '')
    expect(await start(['--tls-self-signed', '--tls-crl-file', join(dir, 'any.crl')])).toMatch(/--tls-crl-file needs --tls-client-ca/)
    mkdirSync(join(dir, 'usage'))
    const pki = await TestPki.create(join(dir, 'usage'), [])
    expect(await start([
      '--tls-cert', pki.path('server.crt'), '--tls-key', pki.path('server.key'), '--tls-client-ca', pki.path('bundle.crt'), '--tls-crl-file', join(dir, 'missing.crl'),
    ])).toMatch(/cannot read the TLS CRL file .*missing\.crl/)
    expect(await start(['--tls-self-signed', '--tls-crl-dir', dir])).toMatch(/--tls-crl-dir needs --tls-client-ca/)
    writeFileSync(join(dir, 'usage', 'crl.d'), '')
    expect(await start([
      '--tls-cert', pki.path('server.crt'), '--tls-key', pki.path('server.key'), '--tls-client-ca', pki.path('bundle.crt'), '--tls-crl-dir', join(dir, 'usage', 'crl.d'),
    ])).toMatch(/cannot read the TLS CRL directory .*crl\.d: ENOTDIR/)
  }, 120_000)
})
