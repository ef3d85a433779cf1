/**
 * Child process of the lmdb-pages campaign: opens the LMDB store at argv[2] as a node
 * does, reads every record of every shard, appends one and closes (LMDB reads its free
 * list and rewrites pages on that write), then prints one JSON line: `{ refused }` with
 * the CorruptRecordError's message, or `{ digest }` of what it read. Any other error is
 * printed as `{ error }` and exits 2; a signal is the parent's to see.
 */
import { createHash } from 'node:crypto'
import { CorruptRecordError } from '@concord/core'
import { LmdbStorage } from '../../packages/node-server/src/storage/lmdb-storage.js'

const path = process.argv[2]!

async function main(): Promise<void> {
  let storage: LmdbStorage
  try {
    storage = new LmdbStorage({ path, durable: false })
  } catch (e) {
    if (e instanceof CorruptRecordError) return print({ refused: e.message })
    throw e
  }
  try {
    const hash = createHash('sha256')
    for (const shard of storage.shards().sort()) {
      hash.update(`${shard}\n`)
      for (const r of storage.load(shard)) hash.update(`${r.kind} ${r.generation} `).update(r.data)
    }
    const digest = hash.digest('hex')
    await storage.append([{ shard: 'after', record: { generation: 0, kind: 'update', data: new Uint8Array(100).fill(7) } }])
    await storage.close()
    print({ digest })
  } catch (e) {
    await storage.close().catch(() => {})
    if (e instanceof CorruptRecordError) return print({ refused: e.message })
    throw e
  }
}

function print(answer: Record<string, string>): void {
  process.stdout.write(`${JSON.stringify(answer)}\n`)
}

main().catch((e: unknown) => {
  print({ error: String(e instanceof Error ? e.stack : e) })
  process.exitCode = 2
})
