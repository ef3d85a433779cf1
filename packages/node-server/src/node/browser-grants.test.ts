/**
 * Scoped browser grants survive a restart of the node that issued them (issue 15): they
 * lived in the process's memory only, so every token stopped working when the node
 * restarted. Now they are kept in the data directory; a damaged file loses grants, never
 * widens them.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeBrowserToken } from '@concord/p2p'
import { BrowserGrants } from './browser-grants.js'
import { ConcordNode } from './concord-node.js'
import { queryNode } from './node-query.fixture.js'

const dir = mkdtempSync(join(tmpdir(), 'concord-grants-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function recordingLogger(): { lines: string[]; info(): void; warn(m: string): void; error(m: string): void } {
  const lines: string[] = []
  return { lines, info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }
}

describe('BrowserGrants kept in the data directory', () => {
  it('a token issued before a restart still admits its browser, with the same scope and expiry', () => {
    let now = 1_000_000
    const file = join(dir, 'browser-grants.json')
    const before = new BrowserGrants(() => now, file)
    const token = before.issue(['notes'], 60)
    const peerId = decodeBrowserToken(token).peerId
    expect(statSync(file).mode & 0o777).toBe(0o600)
    // The file holds no private key.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, grants: [{ peerId, tables: ['notes'], expires: now + 60_000 }] })

    const after = new BrowserGrants(() => now, file)
    expect(after.restricted(peerId)).toBe(true)
    expect(after.admits(peerId)).toBe(true)
    const scope = after.scopeOf(peerId)!
    expect(scope.writes('t:1:0:notes')).toBe(true)
    expect(scope.writes('t:1:0:secrets')).toBe(false)
    now += 61_000
    expect(after.admits(peerId)).toBe(false)
    expect(after.restricted(peerId)).toBe(true)
    // In memory only (no file): gone with the process, as before.
    expect(new BrowserGrants(() => now).restricted(peerId)).toBe(false)
  })

  it('a damaged file is logged and admits nobody', () => {
    const file = join(dir, 'damaged.json')
    writeFileSync(file, '{"grants": [{"peerId": "x", "tables": "all", "expires": 9e15}, {"peerId": 7}]}')
    const log = recordingLogger()
    const g = new BrowserGrants(Date.now, file, log)
    expect(g.admits('x')).toBe(false)
    expect(log.lines).toEqual([`${file}: 2 malformed browser grant(s) ignored`])
    writeFileSync(file, 'not json')
    const log2 = recordingLogger()
    new BrowserGrants(Date.now, file, log2)
    expect(log2.lines[0]).toMatch(/is damaged: its browser grants are lost/)
  })

  it('a node on disk keeps the grants of the tokens it issues in its data directory, across a restart', async () => {
    const dataDir = join(dir, 'node')
    let node = await ConcordNode.start({ dataDir, pgPort: 0, pgPortSearch: false })
    let peerId: string
    try {
      await queryNode(node, `ALTER SYSTEM ADD NODE '${node.transport!.peerId}'`)
      await queryNode(node, 'CREATE TABLE notes (id INT PRIMARY KEY)')
      const token = (await queryNode(node, "SELECT concord_browser_token(ARRAY['notes'], 3600) AS t")).rows[0].t as string
      peerId = decodeBrowserToken(token).peerId
    } finally {
      await node.stop()
    }
    node = await ConcordNode.start({ dataDir, pgPort: 0, pgPortSearch: false })
    try {
      expect(new BrowserGrants(Date.now, join(dataDir, 'browser-grants.json')).admits(peerId)).toBe(true)
    } finally {
      await node.stop()
    }
  }, 60_000)
})
