/**
 * Fuzz campaign over what a node reads from disk at start-up: shard records in LMDB
 * (record-codec.ts framing around Yjs updates and snapshots). A golden data directory is
 * written once by a replica; each iteration copies it, damages one stored record (flipped
 * bits, truncation, zeroes, a forged header, a deleted record, random bytes, or the
 * record's whole shard deleted with its marker) through LMDB itself, and opens a replica
 * on the copy.
 *
 * Properties: `decodeRecord` throws only CorruptRecordError; opening on a damaged copy
 * either refuses with a CorruptRecordError naming the data file, or opens, answers reads
 * and serves exactly the rows it was given: never a wrong value (records, shard markers
 * and metadata carry checksums, each shard's marker counts its records and the shard
 * directory the markers, so a changed byte, a missing record or a missing shard is found
 * at load). Before checksums about a fifth of damaged starts served wrong rows; before
 * the shard directory a shard deleted whole opened as an empty table.
 *
 * Damage to LMDB's own pages: the meta-page and truncation cases LMDB would die of with a
 * signal are refused before it opens the file (lmdb-file-check.ts, fixed cases in
 * lmdb-integrity.test.ts); random damage to its B-tree pages needs a child process per
 * case: the lmdb-pages campaign.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { open } from 'lmdb'
import { Replica, type Row } from '@concord/core'
import { CorruptRecordError, LmdbStorage, decodeRecord, encodeRecord } from '../../packages/node-server/src/index.js'
import { mutate, randomBytes } from './byte-mutator.js'
import { campaignRandom, fuzzBudget } from './fuzz-budget.js'

type Key = [string, string, number]

let root: string
let golden: string
let goldenRows: Row[]
let recordKeys: Key[]

async function openReplica(path: string): Promise<{ replica: Replica; storage: LmdbStorage }> {
  const storage = new LmdbStorage({ path, durable: false })
  try {
    const replica = await Replica.open({ nodeId: 'disk', storage, antiEntropyIntervalMs: 0, housekeepingIntervalMs: 0 })
    return { replica, storage }
  } catch (e) {
    await storage.close()
    throw e
  }
}

const rowsOf = (r: Replica): Row[] =>
  [...Array(40).keys()].map((id) => r.get('t', [id])).filter((row): row is Row => row !== undefined)

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'concord-fuzz-storage-'))
  golden = join(root, 'golden')
  const { replica, storage } = await openReplica(golden)
  const columns = [{ name: 'id', type: 'int' }, { name: 'v', type: 'text' }]
  replica.transact((tx) => tx.createTable({ name: 't', columns, primaryKey: ['id'] }))
  for (let i = 0; i < 30; i++) replica.transact((tx) => tx.insert('t', { id: i, v: `value ${i}` }))
  replica.transact((tx) => tx.update('t', [3], { v: 'changed' }))
  replica.transact((tx) => tx.delete('t', [4]))
  await replica.durable()
  goldenRows = rowsOf(replica)
  await replica.close()
  await storage.close()
  const env = open<Uint8Array, Key>(golden, { encoding: 'binary' })
  recordKeys = [...env.getKeys({ start: ['r', '', 0], end: ['s'] })] as Key[]
  await env.close()
})

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true })
})

/** Copies the golden directory and damages one record in the copy; returns its path. */
async function damagedCopy(name: string, damage: (env: ReturnType<typeof open<Uint8Array, Key>>) => void): Promise<string> {
  const path = join(root, name)
  rmSync(path, { recursive: true, force: true })
  cpSync(golden, path, { recursive: true })
  const env = open<Uint8Array, Key>(path, { encoding: 'binary' })
  await env.transaction(() => damage(env))
  await env.close()
  return path
}

describe('fuzz: storage records read at start-up', () => {
  it('decodeRecord throws only CorruptRecordError, and what it accepts re-encodes to the same bytes', () => {
    const samples = [
      encodeRecord({ generation: 0, kind: 'update', data: new Uint8Array([1, 2, 3]) }),
      encodeRecord({ generation: 2 ** 40, kind: 'snapshot', data: new Uint8Array(20) }),
    ]
    const { seeds, iterations } = fuzzBudget(6_000)
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'record-codec')
      for (let i = 0; i < iterations; i++) {
        const bytes = rng.chance(0.05) ? randomBytes(rng, 32) : mutate(rng, rng.pick(samples))
        try {
          expect(encodeRecord(decodeRecord(bytes))).toEqual(bytes)
        } catch (e) {
          const hex = Buffer.from(bytes).toString('hex')
          if (!(e instanceof CorruptRecordError)) throw new Error(`seed ${seed} iteration ${i} on ${hex}: ${String(e)}`, { cause: e })
        }
      }
    }
  })

  it('a replica on a damaged record refuses naming the data file, or opens and serves exactly its rows, never wrong ones', async () => {
    expect(recordKeys.length).toBeGreaterThan(0)
    const { seeds, iterations } = fuzzBudget(120)
    const outcomes = { refused: 0, same: 0, wrong: 0 }
    for (const seed of seeds) {
      const rng = campaignRandom(seed, 'storage-start')
      for (let i = 0; i < iterations; i++) {
        const key = rng.pick(recordKeys)
        const path = await damagedCopy(`s${seed}`, (env) => {
          const value = env.get(key)!
          if (rng.chance(0.05)) {
            for (const k of recordKeys.filter((k) => k[1] === key[1])) env.removeSync(k)
            env.removeSync(['s', key[1]] as unknown as Key)
          } else if (rng.chance(0.1)) env.removeSync(key)
          else env.putSync(key, rng.chance(0.05) ? randomBytes(rng, 64) : mutate(rng, value, { maxLength: value.length + 64 }))
        })
        let opened: { replica: Replica; storage: LmdbStorage }
        try {
          opened = await openReplica(path)
        } catch (e) {
          const where = `seed ${seed} iteration ${i} (record ${JSON.stringify(key)})`
          expect(e, where).toBeInstanceOf(CorruptRecordError)
          expect((e as Error).message, where).toContain(join(path, 'data.mdb'))
          outcomes.refused++
          continue
        }
        try {
          const rows = rowsOf(opened.replica)
          if (JSON.stringify(rows) === JSON.stringify(goldenRows)) outcomes.same++
          else outcomes.wrong++
          // Still answers: a write commits and reads back.
          opened.replica.transact((tx) => tx.insert('t', { id: 39, v: 'after' }))
          expect(opened.replica.get('t', [39])?.['v']).toBe('after')
        } finally {
          await opened.replica.close()
          await opened.storage.close()
        }
      }
    }
    // Reported for the campaign log: how many damaged starts were refused or opened unharmed.
    console.log(`storage fuzz outcomes: ${JSON.stringify(outcomes)}`)
    expect(outcomes.refused + outcomes.same + outcomes.wrong).toBe(seeds.length * iterations)
    expect(outcomes.wrong, 'damaged starts that served wrong rows').toBe(0)
  })

  // Found by this campaign (issue 15, "Storage integrity"): records carried no checksum, so
  // one changed byte inside a stored Yjs update was loaded and served as a different value.
  it('a changed byte inside a stored value is refused at start-up with a message naming the file, never served', async () => {
    const target = recordKeys[recordKeys.length - 1]!
    const path = await damagedCopy('flip', (env) => {
      const value = env.get(target)!.slice()
      const at = value.indexOf(Buffer.from('value 29')[6]!, value.length - 40)
      value[at > 10 ? at : value.length - 2] ^= 0x01
      env.putSync(target, value)
    })
    const refused = await openReplica(path).then(
      async ({ replica, storage }) => {
        const rows = rowsOf(replica)
        await replica.close()
        await storage.close()
        throw new Error(`opened and served ${JSON.stringify(rows) === JSON.stringify(goldenRows) ? 'the right' : 'wrong'} rows`)
      },
      (e: unknown) => e,
    )
    expect(refused).toBeInstanceOf(CorruptRecordError)
    expect((refused as Error).message).toContain(join(path, 'data.mdb'))
    expect((refused as Error).message).toMatch(/checksum mismatch/)
  })
})
