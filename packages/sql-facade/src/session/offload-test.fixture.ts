/**
 * What the tests of moved statements share (write-offload.test.ts,
 * insert-select-offload.test.ts): an offloader answering on this thread as a worker
 * would, a table of ROWS rows, a WHERE term slow enough to move, and a session run with
 * offload on or off.
 */
import type { HeldShard } from '@concord/core'
import { OffloadEngineHost, runOffloadedStatement } from '../offloaded-statement.js'
import type { Database } from '../database.js'
import type { QueryResult } from '../result-format.js'
import type { OffloadEngine, OffloadReply, OffloadRequest, StatementOffloader } from './statement-offload.js'

/**
 * An offloader answering on this thread on a fresh engine, as a worker would; `meanwhile`
 * runs after the snapshot was taken and before the worker answers (other clients'
 * statements, replication), as on a node whose event loop serves others while the worker runs.
 */
export function offloader(meanwhile: () => Promise<void> = async () => {}): StatementOffloader & { requests: OffloadRequest[]; replies: OffloadReply[] } {
  const requests: OffloadRequest[] = []
  const replies: OffloadReply[] = []
  return {
    requests,
    replies,
    run: async (request, signal) => {
      requests.push(request)
      await meanwhile()
      const reply = await runOffloadedStatement(structuredClone(request), () => signal.aborted)
      replies.push(reply)
      return reply
    },
  }
}

/**
 * An offloader answering on this thread on one engine kept between statements, recording
 * what it holds as the node's worker pool does (node-server/src/offload/): each request is
 * recorded when run takes it, then answered on the kept engine. `meanwhile` runs as each
 * request arrives (other clients' writes while a table is sent in slices, say).
 */
export function keptEngineOffloader(maxBytes = 32 * 1024 * 1024, meanwhile: (request: OffloadRequest) => Promise<void> = async () => {}): StatementOffloader & { requests: OffloadRequest[]; replies: OffloadReply[]; host: OffloadEngineHost; record: { id: number; held: Map<string, HeldShard>; bytes: number; maxBytes: number } } {
  const requests: OffloadRequest[] = []
  const replies: OffloadReply[] = []
  const host = new OffloadEngineHost()
  let next = 1
  const record = { id: next++, held: new Map<string, HeldShard>(), bytes: 0, maxBytes }
  return {
    requests,
    replies,
    host,
    record,
    engine: (): OffloadEngine => record,
    run: async (request, signal) => {
      requests.push(request)
      await meanwhile(request)
      const e = request.engine
      if (e === undefined || e.id !== record.id) return null
      if (e.fresh) {
        record.id = next++
        record.held = new Map(e.states)
        record.bytes = e.bytes
        request = { ...request, engine: { ...e, id: record.id } }
      } else {
        for (const [id, state] of e.states) record.held.set(id, state)
        record.bytes += e.bytes
      }
      const reply = await host.run(structuredClone(request), () => signal.aborted)
      replies.push(reply)
      return reply
    },
  }
}

export const ROWS = 20_000

/**
 * `cond` as one WHERE term costing some µs per row (no index, not pushed into the scan):
 * so the statement runs longer than its table's snapshot costs (write-offload.ts
 * `snapshotCostMs`, 20 ms for 20,000 rows) and past `offload_after` (1 ms here), and moves;
 * a cheap WHERE over 20,000 rows ends before that and is not worth moving.
 */
export const slow = (cond: string, text = 'note') => `(md5(md5(md5(${text}))) <> '' AND (${cond})) IS TRUE`

/** A table of ROWS rows: k = id % 1000, note holding 'x<id>x'. */
export async function fill(db: Database, name: string, extra = ''): Promise<void> {
  await db.query(`CREATE TABLE ${name} (id INT PRIMARY KEY, k INT, v INT, note TEXT${extra})`)
  await db.query(`INSERT INTO ${name} SELECT g, g % 1000, 0, 'x' || g || 'x' FROM generate_series(1, ${ROWS}) g`)
}

/** `sql` in a new session with offload on (`off` given, after 1 ms) or off, after `setup`. */
export async function run(db: Database, sql: string, off: StatementOffloader | undefined, setup: string[] = []): Promise<QueryResult> {
  const session = db.session(off ? { offloader: off } : {})
  await session.query(`SET offload_after = '${off ? '1ms' : '0'}'`)
  for (const s of setup) await session.query(s)
  try {
    return await session.query(sql)
  } finally {
    await session.close()
  }
}

/** The error `p` rejects with (it must). */
export async function failure(p: Promise<unknown>): Promise<{ code?: string; message?: string }> {
  try {
    await p
  } catch (e) {
    return e as { code?: string }
  }
  throw new Error('expected a failure')
}
