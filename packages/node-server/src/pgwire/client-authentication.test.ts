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
