/**
 * The operator console: one self-contained HTML page (no build step, no external
 * resource) served at `GET /`. It polls `GET /console/state` (console-state.ts) every
 * REFRESH_MS and redraws: topology (nodes, regions, who is up), replication lag per node
 * (pg_nodes.lag, in ms) plotted over the samples it has taken (the last MAX_SAMPLES), the
 * shard map, conflicts, catch-up, the failover role and history, backups (and one under
 * way) and the /metrics values. Everything it shows comes from that JSON, so it shows no
 * more than /health, /metrics and the system views do.
 *
 * Values from the server are inserted as text (textContent), never as HTML.
 */
/** Between two reads of the state. */
const REFRESH_MS = 1000
/** Lag samples plotted (two minutes at one a second). */
const MAX_SAMPLES = 120

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Concord console</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 18px; display: flex; gap: 24px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 14px; padding: 14px; }
  section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px 14px; }
  h2 { font-size: 15px; margin: 4px 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eef0f4; font-variant-numeric: tabular-nums; }
  th { color: #5a6272; font-weight: 600; }
  .up { color: #11793b; font-weight: 600; } .down { color: #b3261e; font-weight: 600; }
  .muted { color: #7a8190; } #notice { padding: 0 18px; color: #8a5a00; }
  svg { width: 100%; height: 180px; background: #fbfcfd; border: 1px solid #eef0f4; }
</style>
</head>
<body>
<header><h1>Concord</h1><span id="node"></span><span id="region"></span><span id="status"></span>
<span id="uptime"></span><span id="peers"></span><span class="muted" id="updated"></span></header>
<p id="notice"></p>
<main>
  <section><h2>Nodes</h2><table id="nodes"><thead><tr><th>node</th><th>region</th><th>status</th><th>last heartbeat</th>
    <th>lag bytes</th><th>lag</th></tr></thead><tbody></tbody></table>
    <h2>Regions</h2><table id="regions"><thead><tr><th>region</th><th>status</th><th>nodes</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Replication lag (ms) over time</h2><svg id="lag" viewBox="0 0 600 180" preserveAspectRatio="none"></svg>
    <div class="muted"><span id="samples">0</span> samples, every ${REFRESH_MS} ms; <span id="lag-legend"></span></div>
    <h2>Peers (pg_stat_replication)</h2><table id="replication"><thead><tr><th>peer</th><th>state</th><th>sent</th><th>replayed</th>
    <th>replay lag</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Shards (<span id="shard-count">0</span>)</h2><table id="shards"><thead><tr><th>table</th><th>partition</th>
    <th>generation</th><th>live rows</th><th>entries</th><th>overlays</th></tr></thead><tbody></tbody></table>
    <h2>Placement</h2><table id="tables"><thead><tr><th>table</th><th>partition of</th><th>location</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Conflicts (<span id="conflict-total">0</span>)</h2><table id="conflicts"><thead><tr><th>resolved</th><th>table</th>
    <th>key</th><th>column</th><th>kind</th><th>winner</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Catch-up</h2><p id="sync"></p>
    <h2>Failover: <span id="role"></span></h2><table id="failover"><thead><tr><th>epoch</th><th>node</th><th>reason</th><th>recorded</th>
    <th>current</th></tr></thead><tbody></tbody></table>
    <h2>Backups</h2><table id="backups"><thead><tr><th>id</th><th>kind</th><th>status</th><th>started</th><th>bytes</th></tr></thead>
    <tbody></tbody></table>
    <h2>Backups in progress</h2><table id="backup-progress"><thead><tr><th>id</th><th>phase</th><th>shards done</th>
    <th>of</th><th>bytes</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Metrics</h2><table id="metrics"><thead><tr><th>metric</th><th>value</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
const REFRESH_MS = ${REFRESH_MS}
const MAX_SAMPLES = ${MAX_SAMPLES}
const COLORS = ['#2563eb', '#d97706', '#059669', '#b91c1c', '#7c3aed', '#0891b2']
const history = []
const $ = (id) => document.getElementById(id)
const text = (v) => (v === null || v === undefined ? '' : String(v))

function fill(id, rows, cols, mark) {
  const body = $(id).tBodies[0]
  body.replaceChildren(...(rows || []).map((r) => {
    const tr = document.createElement('tr')
    if (mark) mark(tr, r)
    for (const c of cols) {
      const td = document.createElement('td')
      td.textContent = text(r[c])
      if (c === 'status') td.className = r[c] === 'up' || r[c] === 'online' || r[c] === 'streaming' ? 'up' : 'down'
      tr.append(td)
    }
    return tr
  }))
}

function plot() {
  const svg = $('lag')
  const names = [...new Set(history.flatMap((s) => Object.keys(s.lag)))].sort()
  const max = Math.max(1, ...history.flatMap((s) => Object.values(s.lag)))
  const x = (i) => (history.length < 2 ? 0 : (i / (history.length - 1)) * 600)
  svg.replaceChildren(...names.map((n, k) => {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')
    const pts = history.map((s, i) => (n in s.lag ? x(i) + ',' + (175 - (s.lag[n] / max) * 165) : null)).filter((p) => p !== null)
    line.setAttribute('points', pts.join(' '))
    line.setAttribute('fill', 'none')
    line.setAttribute('stroke', COLORS[k % COLORS.length])
    line.setAttribute('stroke-width', '2')
    line.dataset.node = n
    return line
  }))
  $('samples').textContent = String(history.length)
  $('lag-legend').textContent = names.map((n, k) => n + ' (' + ['blue', 'orange', 'green', 'red', 'violet', 'cyan'][k % 6] + ')').join(', ') + '; max ' + max
}

function render(s) {
  const h = s.health
  $('node').textContent = h.nodeId ? 'node ' + h.nodeId : ''
  $('region').textContent = 'region ' + text(h.region)
  $('status').textContent = text(h.status)
  $('uptime').textContent = 'up ' + text(h.uptimeSeconds) + ' s'
  $('peers').textContent = text(h.peerCount) + ' peers'
  $('updated').textContent = 'updated ' + new Date(s.at).toLocaleTimeString()
  $('notice').textContent = s.detail ? '' : 'This listener is not on loopback: the console shows /health and /metrics only (docs/security.md).'
  fill('nodes', s.nodes, ['node_id', 'region', 'status', 'last_heartbeat', 'lag_bytes', 'lag'], (tr, r) => { tr.dataset.node = r.node_id })
  fill('regions', s.regions, ['region_name', 'status', 'node_count'])
  fill('replication', s.replication, ['peer', 'state', 'sent_lsn', 'replay_lsn', 'replay_lag'])
  fill('shards', s.shards, ['table_name', 'partition', 'generation', 'live_rows', 'entries', 'overlays'], (tr, r) => { tr.dataset.table = r.table_name })
  $('shard-count').textContent = String((s.shards || []).length)
  fill('tables', s.tables, ['table_name', 'partition_of', 'shard_location'])
  $('conflict-total').textContent = String(s.conflicts ? s.conflicts.total : 0)
  fill('conflicts', s.conflicts ? s.conflicts.recent : [], ['resolved_at', 'table_name', 'key', 'column_name', 'kind', 'winning_node'])
  fill('failover', s.failover, ['epoch', 'node_id', 'reason', 'recorded_at', 'current'])
  fill('backups', s.backups, ['id', 'kind', 'status', 'started', 'bytes'])
  fill('backup-progress', s.backupProgress, ['id', 'phase', 'shards_done', 'shards_total', 'bytes_done'])
  $('role').textContent = text(s.role)
  $('sync').textContent = s.sync ? s.sync.confirmed + ' of ' + s.sync.shards + ' shards confirmed by a connected peer (' + s.sync.peers + ' peers)' : ''
  fill('metrics', Object.entries(s.metrics).map(([k, v]) => ({ k, v })), ['k', 'v'], (tr, r) => { tr.dataset.metric = r.k })
  const lag = {}
  for (const n of s.nodes || []) if (n.lag_ms !== null && n.lag_ms !== undefined) lag[n.node_id] = Number(n.lag_ms)
  history.push({ at: s.at, lag })
  if (history.length > MAX_SAMPLES) history.shift()
  plot()
}

async function refresh() {
  try {
    const r = await fetch('/console/state', { cache: 'no-store' })
    if (r.ok) render(await r.json())
    else $('notice').textContent = 'state: HTTP ' + r.status
  } catch (e) {
    $('notice').textContent = 'node unreachable: ' + e.message
  } finally {
    setTimeout(refresh, REFRESH_MS)
  }
}
refresh()
</script>
</body>
</html>
`
