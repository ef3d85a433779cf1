import { describe, expect, it } from 'vitest'
import { peerIdOf } from '@concord/p2p'
import { denyDial, exchangeCandidates, isLocalAddr, isWebSocketAddr } from './dial-policy.js'

const ID = '12D3KooWJ7SWuAZSxcVhSPquXYduxxAYr3ULBnEzdUGDrWnEqKTA'

describe('dial policy', () => {
  it('dials WebSocket addresses on loopback and private hosts, never TCP', () => {
    expect(denyDial(`/ip4/127.0.0.1/tcp/4001/ws/p2p/${ID}`)).toBe(false)
    expect(denyDial('/ip4/192.168.1.5/tcp/4001/ws')).toBe(false)
    expect(denyDial('/dns4/example.org/tcp/443/tls/ws')).toBe(false)
    expect(denyDial('/dns4/example.org/tcp/443/wss')).toBe(false)
    expect(denyDial(`/ip4/127.0.0.1/tcp/4001/p2p/${ID}`)).toBe(true)
  })

  it('recognizes loopback and private hosts', () => {
    expect(isLocalAddr('/ip4/127.0.0.1/tcp/1/ws')).toBe(true)
    expect(isLocalAddr('/ip4/10.1.2.3/tcp/1/ws')).toBe(true)
    expect(isLocalAddr('/ip4/172.20.0.1/tcp/1/ws')).toBe(true)
    expect(isLocalAddr('/ip4/172.32.0.1/tcp/1/ws')).toBe(false)
    expect(isLocalAddr('/ip6/::1/tcp/1/ws')).toBe(true)
    expect(isLocalAddr('/dns4/localhost/tcp/1/ws')).toBe(true)
    expect(isLocalAddr('/ip4/8.8.8.8/tcp/1/ws')).toBe(false)
    expect(isWebSocketAddr('/ip4/8.8.8.8/tcp/1')).toBe(false)
  })

  it('keeps only dialable peer-exchange addresses with a peer id, up to the limit', () => {
    const addrs = [`/ip4/127.0.0.1/tcp/1/p2p/${ID}`, `/ip4/0.0.0.0/tcp/2/ws/p2p/${ID}`, '/ip4/127.0.0.1/tcp/3/ws', `/ip4/127.0.0.1/tcp/4/ws/p2p/${ID}`, `/ip4/127.0.0.1/tcp/5/ws/p2p/${ID}`]
    expect(exchangeCandidates(addrs, 1)).toEqual([`/ip4/127.0.0.1/tcp/4/ws/p2p/${ID}`])
    expect(peerIdOf(`/ip4/127.0.0.1/tcp/4/ws/p2p/${ID}`)).toBe(ID)
    expect(peerIdOf('/ip4/127.0.0.1/tcp/4/ws')).toBeUndefined()
  })
})
