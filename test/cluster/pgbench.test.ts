/**
 * PostgreSQL's pgbench, unmodified, against a `concord start` node: `pgbench -i` (COPY
 * FROM STDIN, VACUUM, ALTER TABLE .. ADD PRIMARY KEY, TRUNCATE, its catalog probes), then
 * the built-in tpcb-like, simple-update and select-only scripts with 4 clients, plain and
 * prepared. Asserts no errors and the row counts, and, with one client and with 4, that
 * tpcb-like moves every balance by exactly the deltas its history records (4 clients
 * update the same teller and branch rows in concurrent blocks: row locks make a second
 * writer wait and add to the first's commit, as in PostgreSQL); speed is printed, not asserted.
 * Skipped, saying so, when pgbench is not installed.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConcordProcess } from './concord-process.js'

const run = promisify(execFile)
const PGBENCH = [process.env['PGBENCH'], '/usr/lib/postgresql/15/bin/pgbench', '/usr/bin/pgbench'].find((p) => p !== undefined && existsSync(p))
const TRANSACTIONS = 10
const CLIENTS = 4
/** Transactions per client of the balance checks (bounded count, not seconds: robust on a loaded machine). */
const BALANCE_TRANSACTIONS = 50

let node: ConcordProcess | undefined

async function pgbench(args: string[]): Promise<string> {
  const { stdout, stderr } = await run(PGBENCH!, ['-h', '127.0.0.1', '-p', String(node!.pgPort), '-U', 'concord', ...args, 'concord'], {
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  })
  return stdout + stderr
}

async function count(table: string): Promise<number> {
  return Number((await node!.query(`SELECT count(*) AS n FROM ${table}`)).rows[0]!['n'])
}

/** Sums of the account, teller and branch balances. */
async function balances(): Promise<number[]> {
  const r = (await node!.query(
    'SELECT (SELECT sum(abalance) FROM pgbench_accounts) AS a, (SELECT sum(tbalance) FROM pgbench_tellers) AS t, (SELECT sum(bbalance) FROM pgbench_branches) AS b',
  )).rows[0]!
  return [r['a'], r['t'], r['b']].map((v) => Number(v ?? 0))
}

if (!PGBENCH) console.warn('pgbench is not installed (Debian: postgresql-client or postgresql): skipping the pgbench suite')

describe.skipIf(!PGBENCH)('pgbench against a concord node', () => {
  beforeAll(async () => {
    node = await ConcordProcess.start({ extraArgs: ['--memory', '--no-p2p'] })
  })
  afterAll(async () => {
    await node?.stop()
  })

  it('pgbench -i -s 1 loads 100000 accounts, 10 tellers, 1 branch and adds the primary keys', async () => {
    const out = await pgbench(['-i', '-s', '1'])
    expect(out).not.toMatch(/error/i)
    expect(out).toMatch(/creating primary keys/)
    expect(await count('pgbench_accounts')).toBe(100_000)
    expect(await count('pgbench_tellers')).toBe(10)
    expect(await count('pgbench_branches')).toBe(1)
    expect(await count('pgbench_history')).toBe(0)
    await expect(node!.query('INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES (1, 1, 0)')).rejects.toMatchObject({ code: '23505' })
  }, 300_000)

  for (const script of ['tpcb-like', 'simple-update', 'select-only']) {
    for (const mode of ['simple', 'prepared']) {
      it(`runs the built-in ${script} script with ${CLIENTS} clients, -M ${mode}, without errors`, async () => {
        const out = await pgbench(['-b', script, '-M', mode, '-c', String(CLIENTS), '-t', String(TRANSACTIONS)])
        expect(out).toMatch(new RegExp(`number of transactions actually processed: ${CLIENTS * TRANSACTIONS}/${CLIENTS * TRANSACTIONS}`))
        expect(out).toMatch(/number of failed transactions: 0 /)
        expect(out).not.toMatch(/error/i)
        console.log(`pgbench ${script} -M ${mode}: ${/tps = ([\d.]+)/.exec(out)?.[1] ?? '?'} tps`)
        // pgbench vacuums and truncates pgbench_history before a run (no -n); then every
        // tpcb-like and simple-update transaction writes one history row.
        expect(await count('pgbench_history')).toBe(script === 'select-only' ? 0 : CLIENTS * TRANSACTIONS)
        expect(await count('pgbench_accounts')).toBe(100_000)
      }, 300_000)
    }
  }

  // With several clients the teller and branch rows are updated by concurrent blocks: row
  // locks make each wait for the other's COMMIT and add to its value, so nothing is lost.
  for (const clients of [1, CLIENTS]) {
    for (const mode of ['simple', 'prepared']) {
      it(`tpcb-like with ${clients} client(s), -M ${mode}, moves every balance by exactly the deltas its history records`, async () => {
        const before = await balances()
        const out = await pgbench(['-b', 'tpcb-like', '-M', mode, '-c', String(clients), '-t', String(BALANCE_TRANSACTIONS)])
        expect(out).toMatch(/number of failed transactions: 0 /)
        expect(await count('pgbench_history')).toBe(clients * BALANCE_TRANSACTIONS)
        const delta = Number((await node!.query('SELECT coalesce(sum(delta), 0) AS d FROM pgbench_history')).rows[0]!['d'])
        const after = await balances()
        console.log(`pgbench tpcb-like -c ${clients} -M ${mode}: balances moved ${after.map((v, i) => v - before[i]!).join('/')} against history ${delta}`)
        expect(after.map((v, i) => v - before[i]!)).toEqual([delta, delta, delta])
      }, 300_000)
    }
  }
})
