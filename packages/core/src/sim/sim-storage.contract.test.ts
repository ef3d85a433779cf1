import { MemoryStorage } from '../storage/memory-storage.js'
import { describeStorageContract } from '../storage/storage-contract.fixture.js'
import { DiskFaults } from './disk-faults.js'
import { SeededRandom } from './seeded-random.js'
import { SimStorage } from './sim-storage.js'

// Virtual time stands still here; a write's completion runs on a real timer of its own,
// in issue order (the order SimStorage completes writes in). Reopening is a restart: a
// new SimStorage over the same durable memory and the same disk.
describeStorageContract(
  'SimStorage',
  async () => {
    const durable = new MemoryStorage()
    const random = new SeededRandom(7)
    const disk = new DiskFaults({}, () => random.next(), 0)
    const timers = new Set<ReturnType<typeof setTimeout>>()
    const schedule = (_ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t)
        fn()
      }, 0)
      timers.add(t)
    }
    const make = () => new SimStorage(durable, { minMs: 0, maxMs: 5 }, schedule, () => 0, () => random.next(), disk)
    return {
      storage: make(),
      reopen: async () => make(),
      fill: (full) => disk.fillUntil(full ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY),
      cleanup: () => {
        for (const t of timers) clearTimeout(t)
      },
    }
  },
  { reopen: true, fill: true },
)
