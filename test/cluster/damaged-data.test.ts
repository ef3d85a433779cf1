/**
 * Storage integrity through the `concord` command (issue 15): a node whose data file was
 * changed behind its back does not start, and says which file is damaged and what to do,
 * with exit code 1 (not a signal, not a start that serves a wrong value). Real processes
 * on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { open } from 'lmdb'
import { ConcordProcess } from './concord-process.js'

type Key = [string, string] | [string, string, number]

let dir: string
const procs: ConcordProcess[] = []

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('a damaged data directory', () => {
  dir = mkdtempSync(join(tmpdir(), 'concord-damaged-'))

  it('stops `concord start` with exit code 1 and a message naming the damaged file, instead of serving a wrong value', async () => {
    const dataDir = join(dir, 'node')
    const node = await ConcordProcess.start({ dataDir, nodeId: 'damaged' })
    procs.push(node)
    await node.query('CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT)')
    await node.query("INSERT INTO accounts VALUES (1, 'alice'), (2, 'bob')")
    expect(await node.stop()).toBe(0)

    // One bit of the record holding 'bob' flipped, so it would read 'boc'.
    const env = open<Uint8Array, Key>(join(dataDir, 'lmdb'), { encoding: 'binary' })
    let damaged: Key | undefined
    await env.transaction(() => {
      for (const { key, value } of env.getRange({ start: ['r', '', 0], end: ['s'] })) {
        const at = Buffer.from(value).lastIndexOf('bob')
        if (at < 0) continue
        const copy = Uint8Array.from(value)
        copy[at + 2]! ^= 0x01
        damaged = key
        void env.put(key, copy)
        break
      }
    })
    await env.close()
    expect(damaged, 'a stored record holding the value').toBeDefined()

    const restart = ConcordProcess.start({ dataDir, nodeId: 'damaged' })
    const err = await restart.then(
      (p) => {
        procs.push(p)
        throw new Error('the node started on a damaged data file')
      },
      (e: unknown) => e as Error,
    )
    expect(err.message).toMatch(/exited with 1 before it was ready/)
    expect(err.message).toContain(`${join(dataDir, 'lmdb', 'data.mdb')} is damaged: shard ${JSON.stringify(damaged![1])} record ${damaged![2]}`)
    expect(err.message).toMatch(/checksum mismatch/)
    expect(err.message).toMatch(/does not serve damaged data: restore the data directory from a backup/)
  }, 180_000)

  it("stops `concord start` when a table's shard was deleted whole (its records and its marker), instead of copying it back from peers", async () => {
    const dataDir = join(dir, 'shard-gone')
    const node = await ConcordProcess.start({ dataDir, nodeId: 'shard-gone' })
    procs.push(node)
    await node.query('CREATE TABLE ledger (id INT PRIMARY KEY, entry TEXT)')
    await node.query("INSERT INTO ledger VALUES (1, 'only-here')")
    expect(await node.stop()).toBe(0)

    // Every record of the shard holding the row, and its marker: nothing left that counts them.
    const env = open<Uint8Array, Key>(join(dataDir, 'lmdb'), { encoding: 'binary' })
    let shard: string | undefined
    await env.transaction(() => {
      for (const { key, value } of env.getRange({ start: ['r', '', 0], end: ['s'] })) {
        if (Buffer.from(value).indexOf('only-here') >= 0) shard = key[1]
      }
      if (shard === undefined) return
      for (const key of [...env.getKeys({ start: ['r', shard, 0], end: ['r', shard, Number.MAX_SAFE_INTEGER] })]) void env.remove(key)
      void env.remove(['s', shard])
    })
    await env.close()
    expect(shard, 'a shard holding the row').toBeDefined()

    const err = await ConcordProcess.start({ dataDir, nodeId: 'shard-gone' }).then(
      (p) => {
        procs.push(p)
        throw new Error('the node started without a shard it held')
      },
      (e: unknown) => e as Error,
    )
    expect(err.message).toMatch(/exited with 1 before it was ready/)
    expect(err.message).toContain(`${join(dataDir, 'lmdb', 'data.mdb')} is damaged: shard ${JSON.stringify(shard)}: the shard directory lists it but its records and marker are gone`)
    expect(err.message).toMatch(/does not serve damaged data: restore the data directory from a backup/)
  }, 180_000)
})
