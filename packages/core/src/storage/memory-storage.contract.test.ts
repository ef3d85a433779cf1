import { MemoryStorage } from './memory-storage.js'
import { describeStorageContract } from './storage-contract.fixture.js'

// Memory is durable for the object's lifetime (the simulator keeps one per node across
// crashes): reopening is using it again. It never fills up.
describeStorageContract(
  'MemoryStorage',
  async () => {
    const storage = new MemoryStorage()
    return { storage, reopen: async () => storage, cleanup: () => {} }
  },
  { reopen: true, fill: false },
)
