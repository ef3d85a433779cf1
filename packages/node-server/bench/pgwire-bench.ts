/**
 * PostgreSQL wire server micro-benchmark over a fake SQL session (DESIGN.md 13):
 * 2,000 sequential queries from node-postgres, parameterized and simple, and the number
 * of socket writes the server made for them.
 *
 *   node --import tsx packages/node-server/bench/pgwire-bench.ts
 */
import { Socket } from 'node:net'
import pg from 'pg'
import { PgServer } from '../src/pgwire/pg-server.js'
import { fakeDatabase, fakeSession } from '../src/pgwire/fake-sql-session.fixture.js'

const N = 2000
const server = new PgServer({ session: () => fakeSession(fakeDatabase()), port: 0 })
const port = await server.listen()
const client = new pg.Client({ host: '127.0.0.1', port, user: 'concord' })
await client.connect()

let writes = 0
const write = Socket.prototype.write
Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
  if ((this.localPort ?? 0) === port) writes++
  return write.apply(this, args)
} as Socket['write']

for (const [label, run] of [
  ['parameterized', (i: number) => client.query('select $1::int + $2::int as sum', [i, 1])],
  ['simple', () => client.query('select 1')],
] as const) {
  writes = 0
  const t = performance.now()
  for (let i = 0; i < N; i++) await run(i)
  const ms = performance.now() - t
  console.log(`${N} ${label} queries: ${ms.toFixed(0)} ms (${((ms * 1000) / N).toFixed(0)} µs each), ${writes} server socket writes`)
}
Socket.prototype.write = write
await client.end()
await server.close()
