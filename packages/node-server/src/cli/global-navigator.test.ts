import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { installGlobalNavigator } from './global-navigator.js'

/** Whether a fresh Node process loads Node's bundled undici while it imports node-postgres (with the navigator installed first, or not). */
function undiciLoadedByPg(install: boolean): boolean {
  const module = fileURLToPath(new URL('./global-navigator.ts', import.meta.url))
  const script = [
    install ? `const { installGlobalNavigator } = await import(${JSON.stringify(module)}); installGlobalNavigator()` : '',
    "await import('pg')",
    "process.stdout.write(String(process.moduleLoadList.some((m) => m.includes('undici'))))",
  ].join('\n')
  const args = ['--import', 'tsx', '--input-type=module', '-e', script]
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
  expect(r.stderr).toBe('')
  return r.stdout === 'true'
}

describe('global navigator (Node 20)', () => {
  it('puts a navigator shaped as Node 21+ has it where there is none, and never replaces one', () => {
    const bare: { navigator?: Record<string, unknown> } = {}
    expect(installGlobalNavigator(bare)).toBe('installed')
    const n = bare.navigator!
    expect(n['userAgent']).toBe(`Node.js/${process.versions.node.split('.')[0]}`)
    expect(typeof n['platform']).toBe('string')
    expect(n['platform']).not.toBe('')
    expect(n['languages']).toEqual([n['language']])
    expect(n['hardwareConcurrency']).toBeGreaterThanOrEqual(1)
    const own = { navigator: { userAgent: 'mine' } }
    expect(installGlobalNavigator(own)).toBe('native')
    expect(own.navigator.userAgent).toBe('mine')
    // A navigator of the runtime (Node 21+) stays as it is.
    if (typeof (globalThis as { navigator?: unknown }).navigator !== 'undefined') expect(installGlobalNavigator()).toBe('native')
  })

  it('asks for the default locale only when language is first read (the first DateTimeFormat of ICU costs a start ~30 ms)', () => {
    const Real = Intl.DateTimeFormat
    let made = 0
    const Counting = function (this: unknown, ...args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
      made++
      return new Real(...args)
    } as unknown as typeof Intl.DateTimeFormat
    Intl.DateTimeFormat = Counting
    try {
      const bare: { navigator?: { language: string; languages: readonly string[] } } = {}
      installGlobalNavigator(bare)
      expect(made).toBe(0)
      const language = bare.navigator!.language
      expect(made).toBe(1)
      expect(language).toBe(new Real().resolvedOptions().locale || 'en-US')
      expect(bare.navigator!.languages).toEqual([language])
      expect(bare.navigator!.languages).toBe(bare.navigator!.languages)
      expect(made).toBe(1)
    } finally {
      Intl.DateTimeFormat = Real
    }
  })

  it('loading node-postgres after it does not load undici (it did on Node 20 without it)', () => {
    expect(undiciLoadedByPg(true)).toBe(false)
    if (Number(process.versions.node.split('.')[0]) < 21) expect(undiciLoadedByPg(false)).toBe(true)
  })
})
