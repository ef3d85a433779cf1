/**
 * Member rights and cluster-wide browser tokens (issue 15), with real processes on
 * 127.0.0.1. Before: a node admitted by a join token could add members and change the
 * cluster-wide conflict policy on every node, a browser token worked only on the node that
 * issued it, and no token could be revoked before its expiry. Now the joiner is a plain
 * member (42501, nothing applied anywhere), a token issued by alpha works on beta, and a
 * revoked token is refused by both, the open session on beta included.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '@concord/core'
import { decodeBrowserToken } from '@concord/p2p'
import { openDatabase } from '@concord/sql-facade'
import { Libp2pTransport } from '../../packages/node-server/src/transport/libp2p-transport.js'
import { ensureGlobalWebSocket } from '../../packages/node-server/src/cli/global-websocket.js'
import { ConcordProcess, until } from './concord-process.js'
import { useNodeProcesses } from './node-processes.fixture.js'

const { dir, started } = useNodeProcesses('concord-rights-')

const peerIdOf = (p: ConcordProcess): string => p.p2pAddress.split('/p2p/')[1]!
const SOMEONE = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'

function joinToken(p: ConcordProcess): string {
  const m = /--join-token ([A-Za-z0-9_-]{43})/.exec(`${p.out}\n${p.log}`)
  if (m === null) throw new Error(`no join token in the output:\n${p.out}`)
  return m[1]!
}

async function sqlState(p: ConcordProcess, sql: string): Promise<string | undefined> {
  try {
    await p.query(sql)
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

async function ids(run: (sql: string) => Promise<{ rows: unknown[] }>, table: string): Promise<number[] | null> {
  try {
    return (await run(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => Number((r as { id: unknown }).id))
  } catch {
    return null
  }
}

async function wsAddress(p: ConcordProcess): Promise<string> {
  const rows = (await p.query<{ address: string }>('SHOW concord.p2p_addresses')).rows
  return rows.map((r) => r.address).find((a) => a.includes('/ws') && !a.includes('/tls/'))!
}

describe('member rights and browser tokens across processes', () => {
  it('a member cannot change the list or a cluster setting anywhere; a token from alpha works on beta until revoked', async () => {
    const alpha = await started(ConcordProcess.start({ dataDir: join(dir, 'alpha'), nodeId: 'alpha' }))
    await alpha.query(`ALTER SYSTEM ADD NODE '${peerIdOf(alpha)}'`)
    await alpha.query('CREATE TABLE notes (id INT PRIMARY KEY)')
    await alpha.query('INSERT INTO notes VALUES (1)')
    const beta = await started(ConcordProcess.start({ dataDir: join(dir, 'beta'), nodeId: 'beta', join: [alpha.pgAddress], extraArgs: ['--join-token', joinToken(alpha)] }))
    await until(async () => (await ids((s) => beta.query(s), 'notes'))?.join() === '1', 60_000, 'notes on beta')

    const roles = async (p: ConcordProcess): Promise<string> =>
      JSON.stringify((await p.query<{ peer_id: string; role: string }>('SELECT peer_id, role FROM concord_cluster_members WHERE member ORDER BY role')).rows)
    const expected = JSON.stringify([{ peer_id: peerIdOf(alpha), role: 'admin' }, { peer_id: peerIdOf(beta), role: 'member' }])
    await until(async () => (await roles(beta)) === expected, 30_000, 'beta to see itself a member')

    expect(await sqlState(beta, `ALTER SYSTEM ADD NODE '${SOMEONE}'`)).toBe('42501')
    expect(await sqlState(beta, "ALTER SYSTEM SET conflict_resolution_policy = 'first_write_wins'")).toBe('42501')
    await beta.query('INSERT INTO notes VALUES (2)')
    await until(async () => (await ids((s) => alpha.query(s), 'notes'))?.join() === '1,2', 30_000, "beta's row on alpha")
    for (const p of [alpha, beta]) {
      expect(await roles(p)).toBe(expected)
      expect((await p.query<{ conflict_resolution_policy: string }>('SHOW conflict_resolution_policy')).rows[0]!.conflict_resolution_policy).not.toBe('first_write_wins')
    }

    // A token alpha issued, used on beta by a browser-protocol client.
    const token = (await alpha.query<{ t: string }>("SELECT concord_browser_token(ARRAY['notes'], 3600) AS t")).rows[0]!.t
    const browserId = decodeBrowserToken(token).peerId
    await ensureGlobalWebSocket()
    const transport = new Libp2pTransport({ nodeId: 'browser', listen: [], privateKey: decodeBrowserToken(token).privateKey })
    const browser = await openDatabase({ nodeId: 'browser', storage: new MemoryStorage(), transport, serialWaitMs: 0 })
    try {
      transport.join(await wsAddress(beta))
      await until(async () => (await ids((s) => browser.query(s), 'notes'))?.join() === '1,2', 60_000, 'the browser to read notes through beta')
      await browser.query('INSERT INTO notes VALUES (3)')
      await until(async () => (await ids((s) => alpha.query(s), 'notes'))?.join() === '1,2,3', 30_000, "the browser's row on alpha, through beta")

      expect((await alpha.query<{ r: boolean }>(`SELECT concord_revoke_browser_token('${token}') AS r`)).rows[0]!.r).toBe(true)
      transport.join(await wsAddress(alpha))
      await until(() => beta.log.includes(`refused peer ${browserId}: its browser token was revoked`), 60_000, 'beta to refuse the revoked browser')
      await until(() => alpha.log.includes(`refused peer ${browserId}: its browser token was revoked`), 60_000, 'alpha to refuse the revoked browser')
      browser.replica.transact((tx) => tx.upsert('notes', { id: 4 }))
      await alpha.query('INSERT INTO notes VALUES (5)')
      await until(async () => (await ids((s) => beta.query(s), 'notes'))?.join() === '1,2,3,5', 30_000, "alpha's later row on beta")
      expect(await ids((s) => alpha.query(s), 'notes')).toEqual([1, 2, 3, 5])
      expect(browser.replica.get('notes', [5])).toBeUndefined()
    } finally {
      await browser.close()
    }
  }, 300_000)
})
