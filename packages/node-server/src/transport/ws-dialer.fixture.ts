/**
 * Child process of the WebSockets test. Node 20 has a global WebSocket only with
 * --experimental-websocket, which @libp2p/websockets dials with, so this side runs in its
 * own process: joins the given ws multiaddr, sends 'ping over ws' to node 'ws-parent',
 * prints the reply and exits.
 *
 * Usage: node --experimental-websocket --import tsx ws-dialer.fixture.ts <multiaddr>
 */
import { Libp2pTransport } from './libp2p-transport.js'

const target = process.argv[2]
if (!target) throw new Error('usage: ws-dialer.fixture.ts <multiaddr>')
const timer = setTimeout(() => {
  console.log('timeout')
  process.exit(2)
}, 15_000)
const t = new Libp2pTransport({ nodeId: 'ws-child', listen: [] })
await t.start({
  onPeerUp: (peer) => t.send(peer, new TextEncoder().encode('ping over ws')),
  onPeerDown: () => {},
  onMessage: (from, data) => {
    console.log(`${from}: ${new TextDecoder().decode(data)}`)
    clearTimeout(timer)
    void t.stop().then(() => process.exit(0))
  },
})
t.join(target)
