/**
 * The demo's service worker: lets a page opened once start with no network. It caches
 * the app shell (index.html), the bundle (app.js, with the parser's WASM inside) and
 * `config.json` when installed, and answers each same-origin GET from the network first,
 * refreshing the cache, and from the cache when the network fails. Network-first keeps a
 * redeployed bundle from being shadowed by a stale one; offline costs one failed fetch.
 *
 * Invariants: only GETs of this origin are cached; a response is cached only when it is
 * `ok`; a new version (CACHE name) deletes the caches of older ones when it activates.
 */
/// <reference lib="webworker" />

const CACHE = 'concord-demo-v1'
const SHELL = ['./', './index.html', './app.js', './config.json']

const sw = self as unknown as ServiceWorkerGlobalScope

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => sw.skipWaiting()),
  )
})

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith('concord-demo-') && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => sw.clients.claim()),
  )
})

sw.addEventListener('fetch', (event) => {
  const req = event.request
  if (req.method !== 'GET' || new URL(req.url).origin !== sw.location.origin) return
  event.respondWith(networkFirst(req))
})

async function networkFirst(req: Request): Promise<Response> {
  const cache = await caches.open(CACHE)
  try {
    const res = await fetch(req)
    if (res.ok) await cache.put(req, res.clone())
    return res
  } catch (err) {
    const hit = await cache.match(req, { ignoreSearch: true })
    if (hit) return hit
    throw err
  }
}
