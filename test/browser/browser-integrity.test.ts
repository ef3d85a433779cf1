/**
 * Storage integrity in a real browser: Chromium's own IndexedDB, not fake-indexeddb. A
 * page's replica holding 'milk' is changed on disk to 'milc' (through a second
 * connection, as a broken disk or an extension would leave it); the next open refuses
 * with CorruptIdbRecordError naming the record, and the page recovers as the package
 * README says: deleteIdbStorage (not blocked: the failed open closed its connection),
 * then a fresh open. Likewise a shard deleted whole (its records and its marker; the
 * shard directory still lists it) is refused by name, not opened as an empty table. No
 * node: the replica is opened offline.
 *
 * The packages are built first (`tsc -b`; skipped when up to date), since the bundle
 * resolves `@concord/browser` to its `dist/`, as plain-bundle.test.ts does.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { build } from 'esbuild'
import type { BrowserContext, Page } from 'playwright-core'
import { buildBrowserParser } from '../../packages/sql-facade/build/browser-parser.js'
import { serveStatic, type StaticServer } from '../../packages/browser/demo/static-server.js'
import { hasChromium, launchChromium } from './chromium.fixture.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))

// editRecords: a second connection to a replica's database, as a broken disk or an
// extension would write: `edit` gets the records store with all its keys and values, in
// one read-write transaction, and its answer is returned once that commits.
const APP = `import * as browser from '@concord/browser'
async function editRecords(name, edit) {
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('concord:' + name)
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction('records', 'readwrite')
      const store = tx.objectStore('records')
      const keys = store.getAllKeys()
      const values = store.getAll()
      let out
      values.onsuccess = () => { out = edit(store, keys.result, values.result) }
      tx.oncomplete = () => resolve(out)
      tx.onerror = () => reject(tx.error)
    })
  } finally {
    db.close()
  }
}
Object.assign(window, { concordTest: browser, editRecords })
`

interface PageApi {
  concordTest?: {
    openReplica(options: { name: string; join: string[]; offline: boolean }): Promise<{ query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>; close(): Promise<void> }>
    deleteIdbStorage(name: string): Promise<void>
    CorruptIdbRecordError: new (message: string) => Error
  }
  editRecords?: <T>(name: string, edit: (store: IDBObjectStore, keys: IDBValidKey[], values: unknown[]) => T) => Promise<T>
}

describe.skipIf(!hasChromium)('IndexedDB storage integrity (headless Chromium)', () => {
  let dir: string
  let server: StaticServer
  let context: BrowserContext
  let page: Page

  beforeAll(async () => {
    await run('npx', ['tsc', '-b'], { cwd: root, timeout: 600_000 })
    await buildBrowserParser()
    mkdirSync(join(root, 'test', 'artifacts'), { recursive: true })
    dir = mkdtempSync(join(root, 'test', 'artifacts', 'browser-integrity-'))
    const www = join(dir, 'www')
    mkdirSync(www)
    writeFileSync(join(dir, 'app.ts'), APP)
    await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, format: 'esm', outfile: join(www, 'app.js'), logLevel: 'silent' })
    writeFileSync(join(www, 'index.html'), '<!doctype html><title>integrity</title><script type="module" src="./app.js"></script>')
    server = await serveStatic(www, () => ({}))
    ;({ context, page } = await launchChromium(dir))
    await page.goto(server.url)
    await page.waitForFunction(() => (window as unknown as PageApi).concordTest !== undefined, null, { timeout: 60_000 })
  }, 660_000)

  afterAll(async () => {
    await context?.close().catch(() => {})
    await server?.close().catch(() => {})
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 30_000)

  it("a record changed on disk is refused at the next open, naming it; deleting the replica recovers the page", async () => {
    const outcome = await page.evaluate(async () => {
      const t = (window as unknown as PageApi).concordTest!
      const name = 'damaged'
      const first = await t.openReplica({ name, join: [], offline: true })
      await first.query('CREATE TABLE todo (id INT PRIMARY KEY, title TEXT NOT NULL)')
      await first.query("INSERT INTO todo VALUES (1, 'milk'), (2, 'bread')")
      await first.close()

      // Another connection changes 'milk' to 'milc' in the record that holds it.
      const damagedKey = await (window as unknown as PageApi).editRecords!(name, (store, keys, values) => {
        let found: unknown
        values.forEach((value, i) => {
          const key = keys[i]!
          if (found !== undefined || !Array.isArray(key) || key[0] !== 'r') return
          // The Yjs data: the whole value since checksums, its `d` before (format 1).
          const bytes = value instanceof Uint8Array ? value : (value as { d: Uint8Array }).d
          const at = new TextDecoder('latin1').decode(bytes).indexOf('milk')
          if (at < 0) return
          bytes[at + 3] = 'c'.charCodeAt(0)
          store.put(value, key)
          found = key
        })
        return found
      })

      let refused: { corrupt: boolean; message: string } | undefined
      let served: unknown
      try {
        const again = await t.openReplica({ name, join: [], offline: true })
        served = (await again.query('SELECT title FROM todo ORDER BY id')).rows
        await again.close()
      } catch (err) {
        refused = { corrupt: err instanceof t.CorruptIdbRecordError, message: String((err as Error).message) }
      }

      await t.deleteIdbStorage(name)
      const fresh = await t.openReplica({ name, join: [], offline: true })
      // An empty replica (no node to copy from here): the damaged rows are gone, not served.
      const todoGone = await fresh.query('SELECT title FROM todo').then(
        () => false,
        () => true,
      )
      await fresh.close()
      return { damagedKey, refused, served, todoGone }
    })
    expect(outcome.damagedKey).toBeDefined()
    expect(outcome.served).toBeUndefined()
    expect(outcome.refused?.corrupt).toBe(true)
    expect(outcome.refused?.message).toContain(`concord:damaged is damaged: shard ${JSON.stringify((outcome.damagedKey as unknown[])[1])} record ${JSON.stringify(outcome.damagedKey)}: checksum mismatch`)
    expect(outcome.todoGone).toBe(true)
  }, 60_000)

  it('a shard deleted whole on disk (its records and its marker) is refused at the next open, naming it, not opened as an empty table', async () => {
    const outcome = await page.evaluate(async () => {
      const t = (window as unknown as PageApi).concordTest!
      const name = 'shard-gone'
      const first = await t.openReplica({ name, join: [], offline: true })
      await first.query('CREATE TABLE todo (id INT PRIMARY KEY, title TEXT NOT NULL)')
      await first.query("INSERT INTO todo VALUES (1, 'milk'), (2, 'bread')")
      await first.close()

      // Another connection deletes every record of the shard holding the rows, and its marker.
      const deleted = await (window as unknown as PageApi).editRecords!(name, (store, keys, values) => {
        const out = { shard: undefined as unknown, records: 0, marker: false }
        values.forEach((value, i) => {
          const key = keys[i]!
          if (out.shard !== undefined || !Array.isArray(key) || key[0] !== 'r' || !(value instanceof Uint8Array)) return
          if (new TextDecoder('latin1').decode(value).includes('milk')) out.shard = key[1]
        })
        for (const key of keys) {
          if (!Array.isArray(key) || key[1] !== out.shard) continue
          if (key[0] === 'r') out.records++
          else if (key[0] === 'k') out.marker = true
          else continue
          store.delete(key)
        }
        return out
      })

      let refused: { corrupt: boolean; message: string } | undefined
      let served: unknown
      try {
        const again = await t.openReplica({ name, join: [], offline: true })
        served = (await again.query('SELECT count(*) AS n FROM todo')).rows
        await again.close()
      } catch (err) {
        refused = { corrupt: err instanceof t.CorruptIdbRecordError, message: String((err as Error).message) }
      }
      await t.deleteIdbStorage(name)
      return { deleted, refused, served }
    })
    expect(outcome.deleted.shard).toBeDefined()
    expect(outcome.deleted.records).toBeGreaterThan(0)
    expect(outcome.deleted.marker).toBe(true)
    expect(outcome.served).toBeUndefined()
    expect(outcome.refused?.corrupt).toBe(true)
    expect(outcome.refused?.message).toContain(`concord:shard-gone is damaged: shard ${JSON.stringify(outcome.deleted.shard)}: the shard directory lists it but its records and marker are gone`)
  }, 60_000)
})
