/**
 * What membership costs every replica (docs/scale.md): the catalog shard's encoded size,
 * and the time of one housekeeping round, with N members recorded (as N browsers opening
 * once each would record). One in-memory replica; prints one line per N; asserts nothing.
 *
 *   NODE_OPTIONS=--conditions=@concord/source npx tsx test/bench/member-catalog-size.ts
 */
import { Replica } from '@concord/core'

for (const n of [1_000, 10_000, 100_000]) {
  const r = await Replica.open({ nodeId: 'node-a', antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 })
  r.transact((tx) => tx.createTable({ name: 't', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }))
  const before = r.catalogShard.encodeState().length
  const now = Date.now()
  for (let i = 0; i < n; i += 1000) {
    r.transact((tx) => {
      for (let j = i; j < Math.min(n, i + 1000); j++) {
        // A browser's node id is a UUID-like string; its member row as registerMembership writes it.
        tx.setCatalog('member', `b-${j.toString(36).padStart(8, '0')}-4f1c-9a2e-1d3b5c7e9f01`, { region: 'eu-west', since: now * 65536 + j })
      }
    })
  }
  const bytes = r.catalogShard.encodeState().length - before
  const t0 = performance.now()
  const rounds = 5
  for (let k = 0; k < rounds; k++) r.compactionRound()
  const roundMs = (performance.now() - t0) / rounds
  console.log(`${n.toLocaleString('en-US')} members: catalog +${(bytes / 1e6).toFixed(2)} MB (${(bytes / n).toFixed(0)} B per member); one housekeeping round ${roundMs.toFixed(1)} ms`)
  await r.close()
}
