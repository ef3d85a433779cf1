import { describe, expect, it } from 'vitest'
import type pg from 'pg'
import { splitOptions, startupSettings } from './startup-settings.js'
import { wireServer } from './wire-server.fixture.js'

describe('startup settings', () => {
  it('takes every -c and --name= setting of options, split as PostgreSQL splits them', () => {
    expect(startupSettings({ options: '-c work_mem=7MB  --search-path=a,\\ b -coffload_after=0\t-c DateStyle=German' })).toEqual({
      work_mem: '7MB', search_path: 'a, b', offload_after: '0', datestyle: 'German',
    })
    expect(splitOptions('  a\\ b \\\\c  d\\')).toEqual(['a b', '\\c', 'd\\'])
    expect(startupSettings({ statement_timeout: '250', lock_timeout: '1s', idle_in_transaction_session_timeout: '5s', application_name: 'x' })).toEqual({
      statement_timeout: '250', lock_timeout: '1s', idle_in_transaction_session_timeout: '5s', application_name: 'x',
    })
    expect(startupSettings({ client_encoding: 'UTF8', DateStyle: 'ISO' })).toEqual({})
  })

  it.each([
    ['a server switch other than -c', '-d 5', /invalid command-line argument for server process: -d/],
    ['-c with nothing after it', '-c', /-c \(no setting after it\)/],
    ['a setting without a value', '-c work_mem', /invalid command-line argument for server process: -c work_mem$/],
  ])('refuses %s (42601)', (_, options, message) => {
    expect(() => startupSettings({ options })).toThrow(expect.objectContaining({ code: '42601', message: expect.stringMatching(message) }))
  })
})

const wire = wireServer('startup-settings')

/** The error a connection with `config` is refused with (null when it is not). */
async function refusal(config: Partial<pg.ClientConfig>): Promise<unknown> {
  const c = wire.unconnected(config)
  c.on('error', () => {}) // the server closes the connection after the refusal
  return c.connect().then(() => c.query('SELECT 1')).then(() => null, (e: unknown) => e)
}

describe('startup settings over the wire', () => {
  it('-c default_transaction_read_only=on makes the session\'s transactions read-only', async () => {
    const c = await wire.client({ options: '-c default_transaction_read_only=on' })
    expect((await c.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only).toBe('on')
    expect(await c.query('CREATE TABLE ro_startup (a int)').then(() => null, (e: { code?: string }) => e.code)).toBe('25006')
    expect((await refusal({ options: '-c default_transaction_read_only=maybe' }) as { code?: string } | null)?.code).toBe('22023')
  })

  it('options sets any session parameter (it took statement_timeout alone before, and dropped the rest unsaid)', async () => {
    const c = await wire.client({ options: '-c work_mem=7MB -c offload_after=0 --search_path=a,\\ public -c extra_float_digits=3' })
    const shown = async (name: string) => (await c.query(`SHOW ${name}`)).rows[0][name]
    expect(await shown('work_mem')).toBe('7MB')
    expect(await shown('offload_after')).toBe('0')
    expect(await shown('search_path')).toBe('a, public')
    expect(await shown('extra_float_digits')).toBe('3')
    const byName = await wire.client({ lock_timeout: 1500, idle_in_transaction_session_timeout: 60_000 } as Partial<pg.ClientConfig>)
    expect((await byName.query('SHOW lock_timeout')).rows).toEqual([{ lock_timeout: '1500' }])
    expect((await byName.query('SHOW idle_in_transaction_session_timeout')).rows).toEqual([{ idle_in_transaction_session_timeout: '60000' }])
    // application_name from the packet is the session's (it read '' before); SET changes it.
    const named = await wire.client({ application_name: 'billing-worker' })
    expect((await named.query("SELECT current_setting('application_name') AS a")).rows).toEqual([{ a: 'billing-worker' }])
    await named.query("SET application_name = 'other'")
    expect((await named.query('SHOW application_name')).rows).toEqual([{ application_name: 'other' }])
  })

  it('refuses the connection for an unknown parameter (42704), a bad value (22023), a cluster setting (55P02) or another switch (42601)', async () => {
    expect(await refusal({ options: '-c no_such_parameter=1' })).toMatchObject({ code: '42704' })
    expect(await refusal({ options: '-c work_mem=lots' })).toMatchObject({ code: '22023' })
    expect(await refusal({ options: '-c conflict_resolution_policy=first_write_wins' })).toMatchObject({ code: '55P02' })
    expect(await refusal({ options: '-d 5' })).toMatchObject({ code: '42601' })
    // The cluster setting was not changed by the refused connection.
    const c = await wire.client()
    expect((await c.query('SHOW conflict_resolution_policy')).rows).toEqual([{ conflict_resolution_policy: 'last_write_wins' }])
  })
})
