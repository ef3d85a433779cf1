import { afterEach, describe, expect, it } from 'vitest'
import pg from 'pg'
import { ConcordNode } from './concord-node.js'

const nodes: ConcordNode[] = []

afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop()
})

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('idle_session_timeout and idle_in_transaction_session_timeout, per session', () => {
  it('closes the session that set them, with 57P05 or 25P03, and no other', async () => {
    const node = await ConcordNode.start({ memory: true, nodeId: 'idle', pgPort: 0, pgPortSearch: false, p2p: false })
    nodes.push(node)
    const errors = new Map<string, { code?: string; message: string }>()
    const client = async (name: string): Promise<pg.Client> => {
      const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: 'concord', database: 'concord' })
      // The FATAL comes first; the end of the connection follows it.
      c.on('error', (e: Error & { code?: string }) => {
        if (!errors.has(name)) errors.set(name, { code: e.code, message: e.message })
      })
      await c.connect()
      return c
    }
    const inBlock = await client('inBlock')
    await inBlock.query(`SET idle_in_transaction_session_timeout = '300ms'`)
    await inBlock.query('BEGIN')
    const outside = await client('outside')
    await outside.query(`SET idle_session_timeout = '300ms'`)
    // Its limit is for blocks only: idle outside one, it stays.
    const notInBlock = await client('notInBlock')
    await notInBlock.query(`SET idle_in_transaction_session_timeout = '300ms'`)
    await until(() => errors.size >= 2, 10_000, 'the two idle sessions to be closed')
    expect(errors.get('inBlock')).toEqual({ code: '25P03', message: 'terminating connection due to idle-in-transaction timeout' })
    expect(errors.get('outside')).toEqual({ code: '57P05', message: 'terminating connection due to idle-session timeout' })
    await new Promise((r) => setTimeout(r, 500))
    expect((await notInBlock.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    await notInBlock.end()
  }, 30_000)
})
