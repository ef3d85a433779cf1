/**
 * Child process of the crash test: appends records as fast as it can, several in flight,
 * and prints each sequence number once its append has been acknowledged. The parent kills
 * it with SIGKILL and checks that every printed number is on disk.
 *
 * Usage: node --import tsx crash-writer.fixture.ts <dir> <max-records>
 */
import { LmdbStorage } from './lmdb-storage.js'

const [dir, maxArg] = process.argv.slice(2)
if (!dir) throw new Error('usage: crash-writer.fixture.ts <dir> <max-records>')
const max = Number(maxArg ?? 100_000)
const storage = new LmdbStorage({ path: dir })
const IN_FLIGHT = 8

let next = 0
async function writer(): Promise<void> {
  while (next < max) {
    const seq = next++
    const data = new TextEncoder().encode(`record-${seq}`)
    await storage.append([{ shard: `shard-${seq % 3}`, record: { generation: 1, kind: 'update', data } }])
    process.stdout.write(`${seq}\n`)
  }
}
await Promise.all(Array.from({ length: IN_FLIGHT }, writer))
await storage.close()
