/**
 * The demo page: a shared inventory on a browser replica. Reads `/config.json` (the node
 * peers to join), opens the replica, renders its rows, peers, pending changes and
 * connection state, and offers offline/online. The user's offline choice survives a
 * reload (localStorage), so the page can be reloaded while still offline.
 *
 * `window.concord` exposes the database for the console and the browser test suite.
 */
import { openReplica, type BrowserDatabase, type ConnectionState } from '../src/index.js'

interface DemoConfig {
  join: string[]
  name?: string
}

const OFFLINE_KEY = 'concord-demo-offline'
// qty is a counter: the +/- buttons' `qty = qty + n` from several replicas at once all add
// up (a plain column would keep only the last write). Setting a quantity sets the total.
const TABLE_SQL = "CREATE TABLE IF NOT EXISTS inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL DEFAULT 0) WITH (counter_columns = 'qty')"

declare global {
  interface Window {
    concord?: { db: BrowserDatabase; ready: boolean; render: () => Promise<void>; setOffline: (offline: boolean) => Promise<void> }
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T

async function main(): Promise<void> {
  const config = (await (await fetch('./config.json')).json()) as DemoConfig
  const params = new URLSearchParams(location.search)
  const name = params.get('name') ?? config.name ?? 'demo'
  const offline = localStorage.getItem(OFFLINE_KEY) === '1'
  const db = await openReplica({ name, join: config.join, offline, log: (level, m) => (level === 'warn' ? console.warn(m) : console.info(m)) })
  $('node').textContent = db.nodeId

  const render = async (): Promise<void> => {
    const exists = db.replica.table('inventory') !== undefined
    const rows = exists ? (await db.query('SELECT sku, name, qty FROM inventory ORDER BY sku')).rows : []
    const body = $('rows')
    body.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr')
        tr.dataset['sku'] = String(r['sku'])
        for (const [k, cls] of [['sku', ''], ['name', ''], ['qty', 'num']] as const) {
          const td = document.createElement('td')
          td.textContent = String(r[k])
          if (cls) td.className = cls
          tr.append(td)
        }
        const td = document.createElement('td')
        for (const [label, delta] of [['−', -1], ['+', 1]] as const) {
          const b = document.createElement('button')
          b.className = 'small'
          b.textContent = label
          b.onclick = () => void run('UPDATE inventory SET qty = qty + $1 WHERE sku = $2', [delta, r['sku']])
          td.append(b, ' ')
        }
        tr.append(td)
        return tr
      }),
    )
  }

  const show = (s: ConnectionState): void => {
    const badge = $('status')
    badge.className = `badge ${s.status}`
    badge.textContent = s.status === 'syncing' ? `syncing ${Math.round(s.progress * 100)}%` : s.status
    $('pending').textContent = String(s.pendingChanges)
    $('peers').replaceChildren(
      ...s.peers.map((p) => {
        const li = document.createElement('li')
        li.textContent = `${p.nodeId} · ${p.addr}`
        return li
      }),
    )
    const waiting = s.targets.filter((t) => !t.connected)
    $('targets').textContent = s.manualOffline ? 'offline by choice: not dialing' : waiting.length ? `reconnecting to ${waiting.length} peer(s)` : ''
    const toggle = $('toggle')
    toggle.textContent = s.manualOffline ? 'Go online' : 'Go offline'
    toggle.className = s.manualOffline ? 'offline' : ''
  }

  const run = async (sql: string, params: unknown[]): Promise<void> => {
    try {
      $('error').textContent = ''
      await db.query(sql, params)
    } catch (err) {
      $('error').textContent = (err as Error).message
    }
  }

  const setOffline = async (off: boolean): Promise<void> => {
    localStorage.setItem(OFFLINE_KEY, off ? '1' : '0')
    await (off ? db.goOffline() : db.goOnline())
  }

  let scheduled = false
  db.replica.on('change', () => {
    if (scheduled) return
    scheduled = true
    setTimeout(() => {
      scheduled = false
      void render()
    }, 30)
  })
  db.connection.subscribe(show)
  $('toggle').onclick = () => void setOffline(!db.status().manualOffline)
  $<HTMLFormElement>('add').onsubmit = (e) => {
    e.preventDefault()
    const qty = Number($<HTMLInputElement>('qty').value || '0')
    void run('INSERT INTO inventory (sku, name, qty) VALUES ($1, $2, $3) ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, qty = EXCLUDED.qty', [
      $<HTMLInputElement>('sku').value,
      $<HTMLInputElement>('name').value,
      qty,
    ]).then(() => $<HTMLFormElement>('add').reset())
  }

  window.concord = { db, ready: false, render, setOffline }
  // Learn the cluster's schema first when a peer is reachable, so the table is not
  // created twice; offline, create it locally (concurrent CREATEs merge into one table).
  if (!offline && config.join.length > 0) await db.connection.waitFor((s) => s.status === 'online', 5000).catch(() => undefined)
  if (db.replica.table('inventory') === undefined) await db.query(TABLE_SQL)
  await render()
  window.concord.ready = true
}

main().catch((err: unknown) => {
  $('error').textContent = `failed to start: ${(err as Error).message}`
  console.error(err)
})
