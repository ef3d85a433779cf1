/**
 * What the browser tests share: the system Chromium (Debian's /usr/bin/chromium, or
 * CONCORD_CHROMIUM; the tests skip where it is absent), launched headless with a profile
 * of its own, and a bounded wait for a condition.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env['CONCORD_CHROMIUM'] ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)

/** Flags every test's Chromium runs with (no sandbox: the CI container has none to give). */
const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run']

/** Headless Chromium with its profile under `dir`, and its first page. */
export async function launchChromium(dir: string, options: { args?: string[]; viewport?: { width: number; height: number } } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_ARGS, ...(options.args ?? [])],
    ...(options.viewport ? { viewport: options.viewport } : {}),
  })
  return { context, page: context.pages()[0] ?? (await context.newPage()) }
}

/** Polls `cond` every `stepMs` until it holds, for at most `ms`; the error names `what` and the last failure. */
export async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string, stepMs = 150): Promise<void> {
  const deadline = Date.now() + ms
  let last: unknown
  for (let i = 0; i <= Math.ceil(ms / stepMs); i++) {
    try {
      if (await cond()) return
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, stepMs))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
}
