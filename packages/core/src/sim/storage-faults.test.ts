import { describe, expect, it } from 'vitest'
import { runSeed } from './campaign.js'
import { Simulation } from './simulation.js'

const table = { name: 't', columns: [{ name: 'id', type: 'int' }], primaryKey: ['id'] }
const ids = (rows: Iterable<{ id?: unknown }>): number[] => [...rows].map((r) => Number(r.id)).sort((x, y) => x - y)

/** How `p` settles, once the simulation has run far enough. */
function outcome(p: Promise<void>): { settled: 'pending' | 'resolved' | 'rejected'; error: unknown } {
  const o: { settled: 'pending' | 'resolved' | 'rejected'; error: unknown } = { settled: 'pending', error: null }
  p.then(
    () => (o.settled = 'resolved'),
    (err: unknown) => {
      o.settled = 'rejected'
      o.error = err
    },
  )
  return o
}

describe('simulated storage faults', () => {
  it('a full disk fails the write that hit it, refuses writes until there is room, and loses nothing', async () => {
    const sim = new Simulation({ seed: 11, storageTiming: { minMs: 1, maxMs: 10 } })
    const a = await sim.addNode({ id: 'a' })
    const b = await sim.addNode({ id: 'b' })
    a.transact((tx) => tx.createTable(table))
    a.transact((tx) => tx.insert('t', { id: 1 }))
    await sim.settle()

    sim.fillDisk('a', 3_000)
    a.transact((tx) => tx.insert('t', { id: 2 }))
    const hit = outcome(a.durable())
    await sim.advance(100)
    expect(hit.settled).toBe('rejected')
    expect(hit.error).toMatchObject({ condition: 'diskFull' })
    expect(() => a.transact((tx) => tx.insert('t', { id: 3 }))).toThrow(expect.objectContaining({ condition: 'diskFull' }))
    // Not durable, so not sent: the peer does not see it yet; reads go on.
    await sim.advance(1_000)
    expect(b.get('t', [2])).toBeUndefined()
    expect(ids(a.scan('t'))).toEqual([1, 2])

    // The disk has room again: the queue's retry persists what it kept, then publishes it.
    await sim.advance(3_000)
    expect(a.isDurable()).toBe(true)
    a.transact((tx) => tx.insert('t', { id: 3 }))
    await sim.settle()
    expect(ids(b.scan('t'))).toEqual([1, 2, 3])
    sim.crash('a')
    const back = await sim.restart('a')
    expect(ids(back.scan('t'))).toEqual([1, 2, 3])
  })

  it('a torn tail lands a prefix of the writes in flight; the restarted node holds exactly that, and converges', async () => {
    const sim = new Simulation({
      seed: 5,
      storageTiming: { minMs: 20, maxMs: 40 },
      storageFaults: { tornTail: true, slowFsync: { probability: 0.3, minMs: 100, maxMs: 300 } },
    })
    const a = await sim.addNode({ id: 'a' })
    const b = await sim.addNode({ id: 'b' })
    a.transact((tx) => tx.createTable(table))
    await sim.settle()
    // b is cut off, so nothing a writes now is anywhere but on a's disk.
    sim.partition(['a'], ['b'])
    for (let i = 0; i < 12; i++) a.transact((tx) => tx.insert('t', { id: i }))
    await sim.advance(30)
    const before = sim.diskFaultCounts()
    sim.crash('a')
    const after = sim.diskFaultCounts()
    const landed = after.landedAtCrash - before.landedAtCrash
    const lost = after.lostAtCrash - before.lostAtCrash
    // This seed crashes with writes in flight, and cuts among them: some land, some do not.
    expect(landed).toBeGreaterThan(0)
    expect(lost).toBeGreaterThan(0)

    const back = await sim.restart('a')
    const held = ids(back.scan('t'))
    // Writes land in issue order: what came back is the first rows written, none skipped.
    expect(held).toEqual([...Array(held.length).keys()])
    expect(held.length).toBeGreaterThan(0)
    expect(held.length).toBeLessThan(12)
    sim.heal()
    await sim.settle()
    expect(ids(sim.replica('b').scan('t'))).toEqual(held)
  })

  it('the campaign holds its invariants with every fault on every seed (3 peers, 20 seeds)', async () => {
    const failures: string[] = []
    const totals = { slowWrites: 0, fullWrites: 0, landedAtCrash: 0, lostAtCrash: 0 }
    for (let seed = 1; seed <= 20; seed++) {
      try {
        const r = await runSeed(seed, { peers: 3, steps: 300, storageFaults: true })
        for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += r.diskFaults[k]
      } catch (err) {
        failures.push(`seed ${seed}: ${String(err).split('\n')[0]} (replay: npm run sim -- --from ${seed} --seeds 1 --peers 3 --steps 300 --faults)`)
      }
    }
    expect(failures).toEqual([])
    // Every kind of fault happened.
    expect(totals.slowWrites).toBeGreaterThan(0)
    expect(totals.fullWrites).toBeGreaterThan(0)
    expect(totals.landedAtCrash).toBeGreaterThan(0)
    expect(totals.lostAtCrash).toBeGreaterThan(0)
  }, 300_000)
})
