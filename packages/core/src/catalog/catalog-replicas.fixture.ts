/**
 * Replicas for catalog tests: opened in memory without an anti-entropy timer (the test
 * moves state between them itself), and closed after each test.
 */
import { afterEach } from 'vitest'
import { Replica } from '../replica.js'

/** Registers the after-each close; returns the function that opens a replica. */
export function catalogReplicas(): (nodeId: string) => Promise<Replica> {
  const open: Replica[] = []
  afterEach(async () => {
    for (const r of open.splice(0)) await r.close()
  })
  return async (nodeId) => {
    const r = await Replica.open({ nodeId, antiEntropyIntervalMs: 0 })
    open.push(r)
    return r
  }
}
