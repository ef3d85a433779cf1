import { describe, expect, it } from 'vitest'
import { parseStartOptions, toNodeOptions, UsageError } from './start-options.js'

const noFile = (): string => {
  throw new Error('ENOENT')
}

describe('concord start options', () => {
  it('has defaults for a one-node start', () => {
    const s = parseStartOptions([], {}, noFile)
    expect(s).toMatchObject({ dataDir: './data', region: 'default', host: '127.0.0.1', pgPort: 5432, p2pPort: 0, join: [], quiet: false })
    expect(s.httpPort).toBeUndefined()
    expect(s).toMatchObject({ compaction: true, departAfter: 24 * 3_600_000 })
  })
  it('takes the compaction switch and the departure horizon as a duration', () => {
    const s = parseStartOptions(['--depart-after', '90m', '--compaction', 'off'], {}, noFile)
    expect(s).toMatchObject({ compaction: false, departAfter: 90 * 60_000 })
    expect(parseStartOptions([], { CONCORD_DEPART_AFTER: '7d' }, noFile).departAfter).toBe(7 * 86_400_000)
    expect(() => parseStartOptions(['--depart-after', '10 years'], {}, noFile)).toThrow(/--depart-after: '10 years' is not a duration/)
    expect(() => parseStartOptions(['--depart-after', '0s'], {}, noFile)).toThrow(/not a duration/)
    expect(() => parseStartOptions(['--compaction', 'maybe'], {}, noFile)).toThrow(/not on or off/)
    const file = JSON.stringify({ departAfter: 60_000, compaction: false })
    expect(parseStartOptions(['--config', 'c.json'], {}, () => file)).toMatchObject({ departAfter: 60_000, compaction: false })
  })
  it('takes the hibernation quiet spell as a duration or off', () => {
    expect(parseStartOptions([], {}, noFile).hibernateAfter).toBe(0)
    expect(parseStartOptions(['--hibernate-after', '30s'], {}, noFile).hibernateAfter).toBe(30_000)
    expect(parseStartOptions(['--hibernate-after', 'off'], {}, noFile).hibernateAfter).toBe(0)
    expect(parseStartOptions([], { CONCORD_HIBERNATE_AFTER: 'off' }, noFile).hibernateAfter).toBe(0)
    expect(toNodeOptions(parseStartOptions(['--hibernate-after', '5m'], {}, noFile)).hibernateAfterMs).toBe(300_000)
    expect(() => parseStartOptions(['--hibernate-after', '0s'], {}, noFile)).toThrow(/not a duration .*or off/)
    // Only this setting takes off.
    expect(() => parseStartOptions(['--depart-after', 'off'], {}, noFile)).toThrow(/not a duration \(a positive number with ms, s, m, h or d\)/)
  })
  it('takes the idle heap return interval as a duration or off, 2 s by default', () => {
    expect(parseStartOptions([], {}, noFile).idleHeapReturn).toBe(2000)
    expect(parseStartOptions(['--idle-heap-return', '500ms'], {}, noFile).idleHeapReturn).toBe(500)
    expect(parseStartOptions(['--idle-heap-return', 'off'], {}, noFile).idleHeapReturn).toBe(0)
    expect(parseStartOptions([], { CONCORD_IDLE_HEAP_RETURN: 'off' }, noFile).idleHeapReturn).toBe(0)
    expect(toNodeOptions(parseStartOptions([], {}, noFile)).idleHeapReturnMs).toBe(2000)
    expect(() => parseStartOptions(['--idle-heap-return', 'soon'], {}, noFile)).toThrow(/not a duration .*or off/)
  })
  it('takes the compaction threshold as a positive whole number', () => {
    expect(parseStartOptions([], {}, noFile).compactionMinGarbage).toBe(1000)
    expect(parseStartOptions(['--compaction-min-garbage', '50'], {}, noFile).compactionMinGarbage).toBe(50)
    expect(parseStartOptions([], { CONCORD_COMPACTION_MIN_GARBAGE: '200' }, noFile).compactionMinGarbage).toBe(200)
    expect(() => parseStartOptions(['--compaction-min-garbage', '0'], {}, noFile)).toThrow(/not a positive whole number/)
    expect(() => parseStartOptions(['--compaction-min-garbage', '1e3'], {}, noFile)).toThrow(/not a positive whole number/)
  })
  it('takes --memory and --no-p2p as value-less flags, on|off from env and config, and refuses --join without libp2p', () => {
    expect(parseStartOptions([], {}, noFile)).toMatchObject({ memory: false, p2p: true })
    expect(parseStartOptions(['--memory', '--no-p2p'], {}, noFile)).toMatchObject({ memory: true, p2p: false })
    expect(parseStartOptions([], { CONCORD_MEMORY: 'on', CONCORD_P2P: 'off' }, noFile)).toMatchObject({ memory: true, p2p: false })
    const file = '{"memory": true, "p2p": false}'
    expect(parseStartOptions(['--config', 'c.json'], {}, () => file)).toMatchObject({ memory: true, p2p: false })
    expect(() => parseStartOptions(['--memory=yes'], {}, noFile)).toThrow(UsageError)
    expect(() => parseStartOptions(['--no-p2p', '--join', 'a:1'], {}, noFile)).toThrow(/--join needs libp2p/)
  })
    it('flags override environment variables, which override the config file', () => {
    const file = JSON.stringify({ region: 'from-file', pgPort: 7000, dataDir: '/file', join: ['a:1'] })
    const argv = ['--config', 'c.json', '--pg-port', '6000', '--join', 'b:2,c:3', '--join', '/ip4/127.0.0.1/tcp/9']
    const s = parseStartOptions(argv, { CONCORD_REGION: 'from-env', CONCORD_PG_PORT: '6500' }, () => file)
    expect(s).toMatchObject({ region: 'from-env', pgPort: 6000, dataDir: '/file', join: ['b:2', 'c:3', '/ip4/127.0.0.1/tcp/9'] })
  })
  it('reads the password from --password-file or CONCORD_PASSWORD_FILE (first line), or CONCORD_PASSWORD, and from one source only', () => {
    const files: Record<string, string> = { '/run/pw': 's3cret\n', '/run/crlf': 'p w\r\nignored\n', '/run/empty': '\n' }
    const read = (p: string): string => {
      const t = files[p]
      if (t === undefined) throw new Error(`ENOENT: ${p}`)
      return t
    }
    expect(parseStartOptions(['--password-file', '/run/pw'], {}, read).password).toBe('s3cret')
    expect(parseStartOptions([], { CONCORD_PASSWORD_FILE: '/run/crlf' }, read).password).toBe('p w')
    expect(parseStartOptions([], { CONCORD_PASSWORD: 'from-env' }, read).password).toBe('from-env')
    expect(() => parseStartOptions(['--password-file', '/run/pw'], { CONCORD_PASSWORD: 'x' }, read)).toThrow(/one way/)
    expect(() => parseStartOptions(['--password-file', '/run/empty'], {}, read)).toThrow(/is empty/)
    expect(() => parseStartOptions(['--password-file', '/run/none'], {}, read)).toThrow(/cannot read password file \/run\/none/)
  })
  it('takes max_connections and the authentication and idle-session timeouts', () => {
    expect(parseStartOptions([], {}, noFile)).toMatchObject({ maxConnections: 100, authenticationTimeout: 60_000 })
    expect(parseStartOptions([], {}, noFile).idleSessionTimeout).toBeUndefined()
    const argv = ['--max-connections', '2000', '--authentication-timeout', '5s', '--idle-session-timeout', '10m']
    const s = parseStartOptions(argv, {}, noFile)
    expect(s).toMatchObject({ maxConnections: 2000, authenticationTimeout: 5000, idleSessionTimeout: 600_000 })
    expect(() => parseStartOptions(['--max-connections', '0'], {}, noFile)).toThrow(/not a positive whole number/)
  })
  it('takes the statement worker count (0: none) and their heap', () => {
    expect(parseStartOptions([], {}, noFile)).toMatchObject({ offloadWorkers: 1, offloadHeapMb: 1024 })
    const off = parseStartOptions(['--offload-workers', '0', '--offload-heap-mb', '256'], {}, noFile)
    expect(off).toMatchObject({ offloadWorkers: 0, offloadHeapMb: 256 })
    expect(parseStartOptions([], { CONCORD_OFFLOAD_WORKERS: '2' }, noFile)).toMatchObject({ offloadWorkers: 2 })
    expect(() => parseStartOptions(['--offload-workers', 'two'], {}, noFile)).toThrow(/non-negative whole number/)
    expect(() => parseStartOptions(['--offload-heap-mb', '0'], {}, noFile)).toThrow(/positive whole number/)
  })
  it('takes how long an unused statement worker stays (default 5 min; off: always)', () => {
    expect(toNodeOptions(parseStartOptions([], {}, noFile)).offloadIdleMs).toBe(300_000)
    expect(toNodeOptions(parseStartOptions(['--offload-idle', '10m'], {}, noFile)).offloadIdleMs).toBe(600_000)
    expect(toNodeOptions(parseStartOptions(['--offload-idle', 'off'], {}, noFile)).offloadIdleMs).toBe(0)
    expect(toNodeOptions(parseStartOptions([], { CONCORD_OFFLOAD_IDLE: '5s' }, noFile)).offloadIdleMs).toBe(5000)
    expect(() => parseStartOptions(['--offload-idle', 'soon'], {}, noFile)).toThrow(/offload-idle/)
  })

  it('takes --require-tls off, remote or all, only with a certificate', () => {
    expect(toNodeOptions(parseStartOptions([], {}, noFile)).requireTls).toBeUndefined()
    expect(toNodeOptions(parseStartOptions(['--tls-self-signed', '--require-tls', 'remote'], {}, noFile)).requireTls).toBe('remote')
    const fromEnv = { CONCORD_TLS_SELF_SIGNED: 'on', CONCORD_REQUIRE_TLS: 'all' }
    expect(toNodeOptions(parseStartOptions([], fromEnv, noFile)).requireTls).toBe('all')
    expect(toNodeOptions(parseStartOptions(['--tls-self-signed', '--require-tls', 'off'], {}, noFile)).requireTls).toBeUndefined()
    expect(() => parseStartOptions(['--require-tls', 'all'], {}, noFile)).toThrow(/needs a certificate/)
    expect(() => parseStartOptions(['--tls-self-signed', '--require-tls', 'yes'], {}, noFile)).toThrow(/'yes' is not one of off, remote, all, cert/)
  })
  it('takes --tls-client-ca with a certificate, and --require-tls cert only with it', () => {
    const s = toNodeOptions(parseStartOptions(['--tls-self-signed', '--tls-client-ca', 'ca.pem', '--require-tls', 'cert'], {}, noFile))
    expect([s.tlsClientCaFile, s.requireTls]).toEqual(['ca.pem', 'cert'])
    expect(() => parseStartOptions(['--tls-client-ca', 'ca.pem'], {}, noFile)).toThrow(/--tls-client-ca needs a certificate/)
    expect(() => parseStartOptions(['--tls-self-signed', '--require-tls', 'cert'], {}, noFile)).toThrow(/needs --tls-client-ca/)
  })
  it('takes --tls-crl-file only with --tls-client-ca', () => {
    const s = toNodeOptions(parseStartOptions(['--tls-self-signed', '--tls-client-ca', 'ca.pem', '--tls-crl-file', 'crl.pem'], {}, noFile))
    expect([s.tlsClientCaFile, s.tlsCrlFile]).toEqual(['ca.pem', 'crl.pem'])
    const fromEnv = { CONCORD_TLS_SELF_SIGNED: 'on', CONCORD_TLS_CLIENT_CA: 'ca.pem', CONCORD_TLS_CRL_FILE: 'crl.pem' }
    expect(toNodeOptions(parseStartOptions([], fromEnv, noFile)).tlsCrlFile).toBe('crl.pem')
    expect(() => parseStartOptions(['--tls-self-signed', '--tls-crl-file', 'crl.pem'], {}, noFile)).toThrow(/--tls-crl-file needs --tls-client-ca/)
  })
  it('takes --tls-crl-dir only with --tls-client-ca, alone or with --tls-crl-file', () => {
    const s = toNodeOptions(parseStartOptions(['--tls-self-signed', '--tls-client-ca', 'ca.pem', '--tls-crl-dir', 'crl.d'], {}, noFile))
    expect([s.tlsClientCaFile, s.tlsCrlDir, s.tlsCrlFile]).toEqual(['ca.pem', 'crl.d', undefined])
    const withFile = ['--tls-self-signed', '--tls-client-ca', 'ca.pem', '--tls-crl-dir', 'crl.d', '--tls-crl-file', 'crl.pem']
    const both = toNodeOptions(parseStartOptions(withFile, {}, noFile))
    expect([both.tlsCrlDir, both.tlsCrlFile]).toEqual(['crl.d', 'crl.pem'])
    const fromEnv = { CONCORD_TLS_SELF_SIGNED: 'on', CONCORD_TLS_CLIENT_CA: 'ca.pem', CONCORD_TLS_CRL_DIR: 'crl.d' }
    expect(toNodeOptions(parseStartOptions([], fromEnv, noFile)).tlsCrlDir).toBe('crl.d')
    expect(() => parseStartOptions(['--tls-self-signed', '--tls-crl-dir', 'crl.d'], {}, noFile)).toThrow(/--tls-crl-dir needs --tls-client-ca/)
    expect(() => parseStartOptions([], { CONCORD_TLS_SELF_SIGNED: 'on', CONCORD_TLS_CRL_DIR: 'crl.d' }, noFile)).toThrow(/--tls-crl-dir needs --tls-client-ca/)
  })
  it('takes TLS as a certificate and key pair, or a self-signed pair, never half of one', () => {
    expect(toNodeOptions(parseStartOptions([], {}, noFile)).tls).toBeUndefined()
    const pair = toNodeOptions(parseStartOptions(['--tls-cert', 'c.pem', '--tls-key', 'k.pem'], {}, noFile))
    expect(pair.tls).toEqual({ certFile: 'c.pem', keyFile: 'k.pem' })
    expect(toNodeOptions(parseStartOptions(['--tls-self-signed'], {}, noFile)).tls).toBe('self-signed')
    expect(() => parseStartOptions(['--tls-cert', 'c.pem'], {}, noFile)).toThrow(UsageError)
    expect(() => parseStartOptions(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-self-signed'], {}, noFile)).toThrow(/not both/)
    // WebSockets over TLS take the same certificate, and need one.
    expect(toNodeOptions(parseStartOptions(['--tls-self-signed', '--wss-port', '4443'], {}, noFile)).wssPort).toBe(4443)
    expect(toNodeOptions(parseStartOptions([], { CONCORD_WSS_PORT: '0', CONCORD_TLS_SELF_SIGNED: 'on' }, noFile)).wssPort).toBe(0)
    expect(toNodeOptions(parseStartOptions([], {}, noFile)).wssPort).toBeUndefined()
    expect(() => parseStartOptions(['--wss-port', '4443'], {}, noFile)).toThrow(/needs a certificate/)
  })
  it('listens on loopback by default, libp2p included', () => {
    expect(parseStartOptions([], {}, noFile)).toMatchObject({ host: '127.0.0.1', p2pHost: '127.0.0.1' })
    expect(parseStartOptions([], {}, noFile).httpHost).toBeUndefined()
  })
  it('rejects unknown flags, bad ports, unknown config keys and unreadable files with clear messages', () => {
    expect(() => parseStartOptions(['--nope'], {}, noFile)).toThrow(/Unknown option '--nope'/)
    expect(() => parseStartOptions(['--pg-port', 'x'], {}, noFile)).toThrow(/--pg-port: 'x' is not a port/)
    expect(() => parseStartOptions([], { CONCORD_HTTP_PORT: '70000' }, noFile)).toThrow(/CONCORD_HTTP_PORT/)
    expect(() => parseStartOptions(['--config', 'c.json'], {}, () => '{"pgport": 1}')).toThrow(/unknown setting 'pgport'/)
    expect(() => parseStartOptions(['--config', 'c.json'], {}, noFile)).toThrow(UsageError)
    expect(() => parseStartOptions(['stray'], {}, noFile)).toThrow(UsageError)
  })
})
