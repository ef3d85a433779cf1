import { describe, expect, it } from 'vitest'
import { ClientAuthentication, type AuthRequest } from './client-authentication.js'

const from = (remoteAddress: string, tls: boolean): AuthRequest => ({ user: 'concord', database: 'concord', remoteAddress, tls })

describe('the TLS requirement (rule 0, --require-tls)', () => {
  it("'remote' refuses a connection from beyond loopback without TLS, before any password", () => {
    const auth = new ClientAuthentication('s3cret', undefined, 'remote')
    expect(auth.decide(from('10.1.2.3', false))).toEqual({
      method: 'refuse', code: '28000', message: 'no pg_hba.conf entry for host "10.1.2.3", user "concord", database "concord", no encryption',
    })
    expect(auth.decide(from('::ffff:192.168.0.9', false)).method).toBe('refuse')
    expect(auth.decide(from('10.1.2.3', true)).method).toBe('scram')
    // Loopback keeps its plain connections.
    expect(auth.decide(from('127.0.0.1', false)).method).toBe('scram')
    expect(auth.decide(from('::1', false)).method).toBe('scram')
  })

  it("'all' refuses plain connections from loopback too", () => {
    const auth = new ClientAuthentication(undefined, undefined, 'all')
    expect(auth.decide(from('127.0.0.1', false))).toMatchObject({ method: 'refuse', code: '28000' })
    expect(auth.decide(from('127.0.0.1', true))).toEqual({ method: 'trust', superuser: true })
  })

  it("'off' (the default) lets plain connections through to the other rules", () => {
    const auth = new ClientAuthentication(undefined, undefined)
    expect(auth.decide(from('127.0.0.1', false)).method).toBe('trust')
    // Beyond loopback without a password: refused by rule 4, naming the encryption used.
    expect(auth.decide(from('10.1.2.3', true))).toMatchObject({ method: 'refuse', message: expect.stringMatching(/SSL encryption$/) })
  })
})

describe('client certificates (rule 1b, --tls-client-ca)', () => {
  const withCert = (user: string, cn: string | undefined, remoteAddress = '10.1.2.3'): AuthRequest => ({ user, database: 'concord', remoteAddress, tls: true, certificateUser: cn })

  it('a verified certificate logs in the user its common name names, without a password', () => {
    const roles = { rolesEnforced: () => true, role: (n: string) => (n === 'alice' ? { login: true, superuser: false, scram: null } : undefined) }
    const auth = new ClientAuthentication('s3cret', roles)
    expect(auth.decide(withCert('alice', 'alice'))).toEqual({ method: 'trust', superuser: false })
    expect(auth.decide(withCert('alice', 'bob'))).toEqual({ method: 'refuse', code: '28000', message: 'certificate authentication failed for user "alice"' })
    // The role must still exist: rule 1 comes first.
    expect(auth.decide(withCert('carol', 'carol'))).toMatchObject({ method: 'refuse', message: 'role "carol" does not exist' })
    // Without a certificate the password rules apply as before.
    expect(auth.decide(withCert('concord', undefined)).method).toBe('scram')
  })

  it("--require-tls cert refuses a connection without a verified certificate, loopback too", () => {
    const auth = new ClientAuthentication(undefined, undefined, 'cert')
    expect(auth.decide(withCert('concord', undefined, '127.0.0.1'))).toEqual({ method: 'refuse', code: '28000', message: 'connection requires a valid client certificate' })
    expect(auth.decide({ ...withCert('concord', undefined, '127.0.0.1'), tls: false }).method).toBe('refuse')
    expect(auth.decide(withCert('concord', 'concord', '127.0.0.1'))).toEqual({ method: 'trust', superuser: true })
  })
})
