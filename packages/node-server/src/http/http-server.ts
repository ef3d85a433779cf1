/**
 * The node's HTTP endpoint: GET /health (JSON), GET /metrics (Prometheus text), and the
 * operator console: GET / (console-page.ts) and GET /console/state (its JSON,
 * console-state.ts). Read-only; anything else is 404.
 */
import { createServer, type Server } from 'node:http'
import { CONSOLE_HTML } from './console-page.js'
import { prometheusText, type Metric } from './prometheus-text.js'

export interface HttpSources {
  health(): Record<string, unknown>
  metrics(): Metric[]
  /** The console's state (absent: no console, / is 404). */
  console?(): Promise<unknown>
}

export class HttpServer {
  private server?: Server

  private readonly sources: HttpSources

  constructor(sources: HttpSources) {
    this.sources = sources
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      try {
        if (req.method === 'GET' && path === '/health') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.sources.health()))
        } else if (req.method === 'GET' && path === '/metrics') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheusText(this.sources.metrics()))
        } else if (req.method === 'GET' && path === '/' && this.sources.console) {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" })
            .end(CONSOLE_HTML)
        } else if (req.method === 'GET' && path === '/console/state' && this.sources.console) {
          this.sources.console().then(
            (state) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(state)),
            (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`),
          )
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
        }
      } catch (err) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`)
      }
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const addr = server.address()
    return typeof addr === 'object' && addr ? addr.port : port
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
