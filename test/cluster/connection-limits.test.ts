/**
 * The connection limits of `concord start` on a real process: --max-connections (the
 * next session gets 53300) and --authentication-timeout (250 connections that never send
 * a startup packet neither lock a real client out nor stay open).
 */
import { connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type pg from 'pg'
import { ConcordProcess } from './concord-process.js'

let dir: string
let node: ConcordProcess | undefined
const sockets: Socket[] = []

afterAll(async () => {
  for (const s of sockets) s.destroy()
  await node?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('connection limits of a node', () => {
  it('--max-connections refuses the next session with 53300; silent connections are closed at --authentication-timeout', async () => {
    dir = mkdtempSync(join(tmpdir(), 'concord-limits-'))
    node = await ConcordProcess.start({ dataDir: join(dir, 'n'), nodeId: 'limits', extraArgs: ['--max-connections', '5', '--authentication-timeout', '2s'] })

    const closed: Array<Promise<void>> = []
    for (let i = 0; i < 250; i++) {
      const s = connect(node.pgPort, '127.0.0.1')
      sockets.push(s)
      s.on('error', () => {})
      closed.push(new Promise((resolve) => s.once('close', () => resolve())))
      await new Promise<void>((resolve) => {
        s.once('connect', () => resolve())
        s.once('close', () => resolve())
      })
    }
    const sessions: pg.Client[] = []
    try {
      for (let i = 0; i < 5; i++) sessions.push(await node.client())
      for (const c of sessions) expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      // SHOW answers what is enforced
      expect((await sessions[0]!.query('SHOW max_connections')).rows).toEqual([{ max_connections: '5' }])
      await expect(node.client()).rejects.toMatchObject({ code: '53300', message: 'sorry, too many clients already' })
      await Promise.race([Promise.all(closed), new Promise((_, reject) => setTimeout(() => reject(new Error('silent connections still open')), 30_000))])
    } finally {
      await Promise.all(sessions.map((c) => c.end().catch(() => {})))
    }
  }, 120_000)
})
