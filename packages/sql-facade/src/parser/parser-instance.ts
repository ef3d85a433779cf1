/**
 * The one WASM parser instance (libpg-query) statements are parsed with, and its
 * replacement when it fails. The module is a C program in WASM memory: a failure inside
 * it (a FATAL exit when its memory runs out, a JS stack overflow in the middle of a
 * parse, a trap such as "table index is out of bounds") can leave that memory damaged
 * or leaked for good, and every later statement the parse cache does not hold failed
 * while /health said ok (issue 15).
 *
 * So such a failure retires the instance: where a loader of fresh instances was given
 * (the Node server gives one: node-server's parser-reload.ts), a new instance is loaded
 * and statements wait for it (`parserReady()`, awaited by `Database.ready()`); the
 * statement that failed answers its own error. Without a loader (a browser) the instance
 * is kept and reported as failed. `parserHealth()` says which, for /health.
 *
 * Invariants: at most one load runs at a time; a failed load leaves the old instance in
 * place, reported, and the next damaging failure tries again.
 */
import { loadModule, parsePlPgSQLSync, parseSync } from 'libpg-query'

/** One instance's entry points (libpg-query's own signatures). */
export interface ParserInstance {
  parseSync: typeof parseSync
  parsePlPgSQLSync: typeof parsePlPgSQLSync
}

export interface ParserHealth {
  /** False while a failed instance is in use (no loader, or its load failed). */
  ok: boolean
  /** Instances loaded to replace a failed one since the process started. */
  restarts: number
  /** What retired the last instance, if anything did. */
  lastFailure: string | null
}

let current: ParserInstance = { parseSync, parsePlPgSQLSync }
let loaded: Promise<void> | null = null
let loader: (() => Promise<ParserInstance>) | null = null
let replacing: Promise<void> | null = null
const health: ParserHealth = { ok: true, restarts: 0, lastFailure: null }

/** Set once the package's instance has loaded. */
let loadedNow = false

/** Loads the package's instance once; every statement parse needs it to have resolved. */
export function loadParser(): Promise<void> {
  loaded ??= loadModule().then(() => {
    loadedNow = true
  })
  return loaded
}

/** Whether `parserReady()` would resolve at once (what may skip waiting on it asks). */
export function parserReadyNow(): boolean {
  return loadedNow && replacing === null
}

/** Resolves once the parser is loaded and no replacement is being loaded. */
export async function parserReady(): Promise<void> {
  await loadParser()
  if (replacing) await replacing
}

export function parser(): ParserInstance {
  return current
}

/** How fresh instances are made (Node only: the package keeps one instance per module load). */
export function setParserLoader(load: (() => Promise<ParserInstance>) | null): void {
  loader = load
}

export function parserHealth(): ParserHealth {
  return { ...health }
}

/** Whether `e`, thrown by the instance, may have damaged it (not a syntax error). */
export function damagesParser(e: unknown): boolean {
  if (e instanceof WebAssembly.RuntimeError) return true
  if (e instanceof RangeError && /call stack/i.test(e.message)) return true
  return (e as { name?: unknown } | null)?.name === 'ExitStatus'
}

function describe(e: unknown): string {
  const name = (e as { name?: unknown } | null)?.name
  const message = (e as { message?: unknown } | null)?.message
  return `${typeof name === 'string' ? name : 'Error'}: ${typeof message === 'string' ? message : String(e)}`
}

/** The instance threw `e`, which may have damaged it: replaces it (once at a time) or reports it. */
export function retireParser(e: unknown): void {
  health.lastFailure = describe(e)
  if (replacing) return
  if (!loader) {
    health.ok = false
    return
  }
  const load = loader
  replacing = (async () => {
    try {
      current = await load()
      health.restarts++
      health.ok = true
    } catch (failed) {
      health.ok = false
      health.lastFailure = `${health.lastFailure}; loading a fresh parser failed: ${describe(failed)}`
    } finally {
      replacing = null
    }
  })()
}
