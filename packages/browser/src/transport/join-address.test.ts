import { describe, expect, it } from 'vitest'
import { joinAddresses, JoinAddressError } from './join-address.js'

describe('join addresses of a page', () => {
  it('keeps WebSocket multiaddrs and turns host:port and ws:// URLs into them', () => {
    const ma = '/ip4/127.0.0.1/tcp/4002/ws/p2p/12D3KooWAbc'
    expect(joinAddresses([ma, '127.0.0.1:4003', 'ws://node.example:4004', 'wss://node.example', '[::1]:4005'])).toEqual([
      ma,
      '/ip4/127.0.0.1/tcp/4003/ws',
      '/dns/node.example/tcp/4004/ws',
      '/dns/node.example/tcp/443/wss',
      '/ip6/::1/tcp/4005/ws',
    ])
  })

  it('splits comma-separated entries as CONCORD_JOIN does, and uses wss from an HTTPS page', () => {
    expect(joinAddresses('10.0.0.1:4002, 10.0.0.2:4002', true)).toEqual(['/ip4/10.0.0.1/tcp/4002/wss', '/ip4/10.0.0.2/tcp/4002/wss'])
  })

  it('refuses what a page cannot dial, saying what to give instead', () => {
    expect(() => joinAddresses(['postgres://concord@10.0.0.1:5432/concord'])).toThrow(/cannot open PostgreSQL connections.*WebSocket address/)
    expect(() => joinAddresses(['/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWAbc'])).toThrow(/only \/ws or \/wss/)
    expect(() => joinAddresses(['node.example'])).toThrow(JoinAddressError)
    expect(() => joinAddresses(['10.0.0.1:70000'])).toThrow(/bad port/)
  })
})
