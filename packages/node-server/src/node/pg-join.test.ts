import { describe, expect, it } from 'vitest'
import { parsePgAddress } from './pg-join.js'

describe('parsePgAddress', () => {
  it('reads host:port, bare hosts and postgresql URLs, and leaves multiaddrs alone', () => {
    expect(parsePgAddress('127.0.0.1:5433')).toEqual({ host: '127.0.0.1', port: 5433 })
    expect(parsePgAddress('db.example')).toEqual({ host: 'db.example', port: 5432 })
    expect(parsePgAddress('postgresql://u@10.0.0.1:6000/concord')).toEqual({ host: '10.0.0.1', port: 6000 })
    expect(parsePgAddress('[::1]:7000')).toEqual({ host: '::1', port: 7000 })
    expect(parsePgAddress('/ip4/127.0.0.1/tcp/1')).toBeNull()
    expect(() => parsePgAddress('a:b:c')).toThrow(/neither/)
  })
})
