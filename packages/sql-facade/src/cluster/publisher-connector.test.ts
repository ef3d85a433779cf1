import { describe, expect, it } from 'vitest'
import { parseConnInfo, parseMasterNodes } from './publisher-connector.js'

const code = (f: () => unknown) => {
  try {
    f()
    return 'ok'
  } catch (e) {
    return (e as { code?: string }).code
  }
}

describe('connection strings', () => {
  it('reads URIs and key=value strings like libpq', () => {
    expect(parseConnInfo('postgresql://primary-host:5432/database')).toEqual({ host: 'primary-host', port: 5432, dbname: 'database', user: null, password: null })
    expect(parseConnInfo('postgres://u:p%40ss@127.0.0.1:6000')).toMatchObject({ host: '127.0.0.1', port: 6000, user: 'u', password: 'p@ss' })
    expect(parseConnInfo("host=10.0.0.1 port=5433 dbname=app user=rep password='a b'")).toEqual({ host: '10.0.0.1', port: 5433, dbname: 'app', user: 'rep', password: 'a b' })
  })
  it('rejects malformed ones with 42601', () => {
    for (const bad of ['', 'host=a bogus', 'nonsense=1 host=a', 'port=5432', 'postgresql://h:99999/db']) expect(code(() => parseConnInfo(bad))).toBe('42601')
  })
})

describe('master_nodes', () => {
  it('is a comma-separated list of host:port (default port 5432)', () => {
    expect(parseMasterNodes('node2:5432, node3').map((c) => `${c.host}:${c.port}`)).toEqual(['node2:5432', 'node3:5432'])
    expect(parseMasterNodes('')).toEqual([])
  })
  it('rejects entries that are not host:port with 22023', () => {
    expect(code(() => parseMasterNodes('node2:5432,not a host'))).toBe('22023')
    expect(code(() => parseMasterNodes('node2:70000'))).toBe('22023')
  })
})
