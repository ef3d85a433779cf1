/**
 * Closed by default (docs/security.md): the bypass of issue 15 fails. A node started with
 * a password and default flags listens on loopback only and keys its peer port, so a
 * joiner without the key, dialing its libp2p address directly, gets no row and none of
 * its writes reach the node; a node told to listen for peers beyond loopback creates a
 * key and prints the join command that carries it. Real processes on 127.0.0.1.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConcordProcess, until } from './concord-process.js'
import { useNodeProcesses } from './node-processes.fixture.js'

const { dir, started } = useNodeProcesses('concord-closed-')

async function tables(p: ConcordProcess): Promise<string[]> {
  const r = await p.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
  return r.rows.map((x) => x.table_name)
}

/** The `--cluster-key <file>` of the join command a node printed. */
function printedKey(p: ConcordProcess): string {
  const m = /join it: +concord start .*--cluster-key (\S+)/.exec(p.out)
  if (!m) throw new Error(`no --cluster-key in the join command:\n${p.out}`)
  return m[1]!
}

describe('closed by default', () => {
  it('a password-protected node keys its peer port: a joiner without the key reads nothing and writes nothing', async () => {
    const passwordFile = join(dir, 'password')
    writeFileSync(passwordFile, 's3cret\n', { mode: 0o600 })
    const victim = await started(ConcordProcess.start({ dataDir: join(dir, 'victim'), nodeId: 'victim', password: 's3cret', passwordFile }))
    // --password-file: the password is not on the command line other users see in ps.
    const cmdline = readFileSync(`/proc/${victim.child.pid}/cmdline`, 'utf8')
    expect(cmdline).toContain('--password-file')
    expect(cmdline).not.toContain('s3cret')
    // Loopback only, every listener.
    const addrs = (await victim.query<{ address: string }>('SHOW concord.p2p_addresses')).rows.map((r) => r.address)
    expect(addrs.length).toBeGreaterThanOrEqual(2)
    for (const a of addrs) expect(a).toMatch(/^\/ip4\/127\.0\.0\.1\//)
    // It created a key in its data directory, owner-only, and prints the join command carrying it.
    const key = printedKey(victim)
    expect(key).toBe(join(dir, 'victim', 'cluster.key'))
    expect(statSync(key).mode & 0o777).toBe(0o600)

    await victim.query('CREATE TABLE secrets (id INT PRIMARY KEY, v TEXT)')
    await victim.query("INSERT INTO secrets VALUES (1, 'only for members')")

    // The attack of issue 15: dial the libp2p address directly, no key, no password.
    const intruder = await started(ConcordProcess.start({ dataDir: join(dir, 'intruder'), nodeId: 'intruder', join: [victim.p2pAddress] }))
    await intruder.query('CREATE TABLE planted (id INT PRIMARY KEY)')
    await intruder.query('INSERT INTO planted VALUES (1)')
    // A member with the printed key (and the password, to join by PostgreSQL address) is the control.
    const member = await started(ConcordProcess.start({ dataDir: join(dir, 'member'), nodeId: 'member', password: 's3cret', clusterKey: key, join: [victim.pgAddress] }))
    await until(async () => (await member.query('SELECT v FROM secrets')).rows.length === 1, 30_000, 'the row on the member')
    await member.query("INSERT INTO secrets VALUES (2, 'from the member')")
    await until(async () => (await victim.query('SELECT id FROM secrets')).rows.length === 2, 30_000, "the member's row on the victim")

    // The intruder has had the member's whole join (and its own retries) to get in.
    await expect(intruder.query('SELECT v FROM secrets')).rejects.toMatchObject({ code: '42P01' })
    expect(await tables(victim)).toEqual(['secrets'])
    expect(await tables(member)).toEqual(['secrets'])
    expect(await intruder.query('SELECT id FROM planted')).toMatchObject({ rowCount: 1 })
  }, 180_000)

  it('a node listening for peers beyond loopback creates a cluster key and prints the join command carrying it', async () => {
    const open = await started(ConcordProcess.start({ dataDir: join(dir, 'open'), nodeId: 'open', p2pHost: '0.0.0.0' }))
    expect(open.out).toMatch(/cluster key: .*cluster\.key \(created now\)/)
    const key = printedKey(open)
    expect(key).toBe(join(dir, 'open', 'cluster.key'))
    expect(statSync(key).mode & 0o777).toBe(0o600)
    await open.query('CREATE TABLE notes (id INT PRIMARY KEY, v TEXT)')
    await open.query("INSERT INTO notes VALUES (1, 'keyed')")

    const stranger = await started(ConcordProcess.start({ dataDir: join(dir, 'stranger'), nodeId: 'stranger', join: [open.p2pAddress] }))
    await stranger.query('CREATE TABLE planted (id INT PRIMARY KEY)')
    const joiner = await started(ConcordProcess.start({ dataDir: join(dir, 'joiner'), nodeId: 'joiner', clusterKey: key, join: [open.pgAddress] }))
    await until(async () => (await joiner.query('SELECT v FROM notes')).rows.length === 1, 30_000, 'the row on the joiner')

    await expect(stranger.query('SELECT v FROM notes')).rejects.toMatchObject({ code: '42P01' })
    expect(await tables(open)).toEqual(['notes'])

    // A restart keeps the key it created (no new key, the joiner stays a peer).
    await open.stop()
    const again = await started(ConcordProcess.start({ dataDir: join(dir, 'open'), nodeId: 'open', p2pHost: '0.0.0.0' }))
    expect(again.out).not.toMatch(/created now/)
    expect(printedKey(again)).toBe(key)
  }, 180_000)
})
