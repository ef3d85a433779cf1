/**
 * The demo page: a shared inventory on a browser replica. Reads `/config.json` (the node
 * peers to join), opens the replica, renders one page of its rows through a live query
 * (pending and conflict markers, +/- on a counter column, delete), its peers, pending
 * changes, last sync and connection state, and offers offline/online. The user's offline choice survives a
 * reload (localStorage), so the page can be reloaded while still offline.
 *
 * `window.concord` exposes the database for the console and the browser test suite.
 */
import { openReplica, type BrowserDatabase, type ConnectionState } from '../src/index.js'

interface DemoConfig {
  join: string[]
  name?: string
  /** A scoped browser token from the node (concord_browser_token): the page then reads and writes only what it allows. */
  token?: string
}

const OFFLINE_KEY = 'concord-demo-offline'
const PAGE_SIZE = 50
const CONFLICT_POLL_MS = 2000
// qty is a counter: the +/- buttons' `qty = qty + n` from several replicas at once all add
// up (a plain column would keep only the last write). Setting a quantity sets the total.
const TABLE_SQL = "CREATE TABLE IF NOT EXISTS inventory (sku TEXT PRIMARY KEY, name TEXT NOT NULL, qty INT NOT NULL DEFAULT 0) WITH (counter_columns = 'qty')"

declare global {
  interface Window {
    concord?: {
      db: BrowserDatabase
      ready: boolean
      render: () => Promise<void>
      setOffline: (offline: boolean) => Promise<void>
      goTo: (offset: number) => void
      timings?: { start: number; opened: number; firstPage: number }
    }
  }
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T

async function main(): Promise<void> {
  // Cache the shell, bundle and config for the next start without a network (sw.ts).
  if ('serviceWorker' in navigator) void navigator.serviceWorker.register('./sw.js', { type: 'module' }).catch((err: unknown) => console.warn('service worker:', err))
  const config = (await (await fetch('./config.json')).json()) as DemoConfig
  const params = new URLSearchParams(location.search)
  const name = params.get('name') ?? config.name ?? 'demo'
  const offline = localStorage.getItem(OFFLINE_KEY) === '1'
  const startedAt = performance.now()
  const db = await openReplica({
    name, join: config.join, offline, ...(config.token !== undefined ? { token: config.token } : {}),
    log: (level, m) => (level === 'warn' ? console.warn(m) : console.info(m)),
  })
  $('node').textContent = db.nodeId
  const openedAt = performance.now()

  // One page of rows at a time, as a live query: a change re-renders that page only,
  // so 10,000 rows cost what 50 do. The total is a second live query.
  let offset = 0
  let pageRows: Array<Record<string, unknown>> = []
  let total = 0
  let stopPage: (() => void) | undefined
  let stopCount: (() => void) | undefined
  const conflicted = new Set<string>()

  const paint = (): void => {
    $('rows').replaceChildren(...pageRows.map((r) => rowElement(r)))
    const last = Math.min(offset + PAGE_SIZE, total)
    $('page').textContent = total === 0 ? 'no rows' : `${offset + 1}-${last} of ${total}`
    $<HTMLButtonElement>('prev').disabled = offset === 0
    $<HTMLButtonElement>('next').disabled = offset + PAGE_SIZE >= total
  }

  const rowElement = (r: Record<string, unknown>): HTMLTableRowElement => {
    const sku = String(r['sku'])
    const tr = document.createElement('tr')
    tr.dataset['sku'] = sku
    const pending = db.isPending('inventory', [sku])
    if (pending) tr.classList.add('pending')
    if (conflicted.has(sku)) tr.classList.add('conflict')
    for (const [k, cls] of [['sku', ''], ['name', ''], ['qty', 'num']] as const) {
      const td = document.createElement('td')
      td.textContent = String(r[k])
      if (cls) td.className = cls
      tr.append(td)
    }
    const marks = document.createElement('td')
    marks.className = 'marks'
    marks.textContent = `${pending ? '● pending' : ''}${conflicted.has(sku) ? ' ⚠ conflict' : ''}`
    tr.append(marks)
    const td = document.createElement('td')
    for (const [label, delta] of [['−', -1], ['+', 1]] as const) {
      const b = document.createElement('button')
      b.className = 'small'
      b.textContent = label
      b.dataset['delta'] = String(delta)
      b.onclick = () => void run('UPDATE inventory SET qty = qty + $1 WHERE sku = $2', [delta, sku])
      td.append(b, ' ')
    }
    const del = document.createElement('button')
    del.className = 'small danger'
    del.textContent = 'delete'
    del.dataset['action'] = 'delete'
    del.onclick = () => void run('DELETE FROM inventory WHERE sku = $1', [sku])
    td.append(del)
    tr.append(td)
    return tr
  }

  const follow = async (): Promise<void> => {
    if (db.replica.table('inventory') === undefined) return
    stopPage?.()
    stopPage = await db.live('SELECT sku, name, qty FROM inventory ORDER BY sku LIMIT $1 OFFSET $2', [PAGE_SIZE, offset], (rows) => {
      pageRows = rows
      paint()
    })
    stopCount ??= await db.live('SELECT count(*)::int AS n FROM inventory', [], (rows) => {
      total = Number(rows[0]?.['n'] ?? 0)
      paint()
    })
  }

  const render = async (): Promise<void> => {
    if (!stopPage) await follow()
    paint()
  }

  const goTo = (next: number): void => {
    offset = Math.max(0, Math.min(next, Math.max(0, total - 1) - (Math.max(0, total - 1) % PAGE_SIZE)))
    void follow()
  }

  // Conflicts are a system view (not rows a live query follows): polled.
  const pollConflicts = async (): Promise<void> => {
    try {
      const r = await db.query(
        "SELECT key, column_name, kind, policy, winning_node FROM concord_conflicts WHERE table_name = 'inventory' ORDER BY resolved_at DESC LIMIT 20",
      )
      conflicted.clear()
      for (const c of r.rows) conflicted.add(String(c['key']))
      $('conflicts').replaceChildren(
        ...r.rows.map((c) => {
          const li = document.createElement('li')
          li.textContent = `${String(c['key'])}.${String(c['column_name'] ?? '')}: ${String(c['kind'])} (${String(c['policy'])}, won by ${String(c['winning_node'])})`
          return li
        }),
      )
      paint()
    } catch {
      // The view is read again on the next tick.
    }
  }

  const show = (s: ConnectionState): void => {
    const badge = $('status')
    badge.className = `badge ${s.status}`
    badge.textContent = s.status === 'syncing' ? `syncing ${Math.round(s.progress * 100)}%` : s.status
    $('pending').textContent = String(s.pendingChanges)
    $('pending-rows').textContent = `${s.pendingRows} row(s)`
    $('synced').textContent = s.lastSyncedAt === null ? 'never' : s.status === 'online' ? 'now' : new Date(s.lastSyncedAt).toLocaleTimeString()
    $('network').textContent = s.networkAvailable ? '' : 'the browser reports no network'
    $('peers').replaceChildren(
      ...s.peers.map((p) => {
        const li = document.createElement('li')
        li.textContent = `${p.nodeId} · ${p.addr}`
        return li
      }),
    )
    const waiting = s.targets.filter((t) => !t.connected)
    const why = waiting.find((t) => t.lastError !== undefined)
    $('targets').textContent = s.manualOffline
      ? 'offline by choice: not dialing'
      : waiting.length
        ? `reconnecting to ${waiting.length} peer(s)${why ? ` (${why.addr}: ${why.lastError})` : ''}`
        : ''
    if (pageRows.length > 0) paint()
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

  db.connection.subscribe(show)
  $('prev').onclick = () => goTo(offset - PAGE_SIZE)
  $('next').onclick = () => goTo(offset + PAGE_SIZE)
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

  window.concord = { db, ready: false, render, setOffline, goTo }
  // Learn the cluster's schema first when a peer is reachable, so the table is not
  // created twice; offline, create it locally (concurrent CREATEs merge into one table).
  if (!offline && config.join.length > 0) await db.connection.waitFor((s) => s.status === 'online', 5000).catch(() => undefined)
  if (db.replica.table('inventory') === undefined) await db.query(TABLE_SQL)
  await render()
  // Page-relative milliseconds: when the script started opening, the replica was open, the first page was shown.
  window.concord.timings = { start: startedAt, opened: openedAt, firstPage: performance.now() }
  void pollConflicts()
  setInterval(() => void pollConflicts(), CONFLICT_POLL_MS)
  window.concord.ready = true
}

main().catch((err: unknown) => {
  $('error').textContent = `failed to start: ${(err as Error).message}`
  console.error(err)
})
