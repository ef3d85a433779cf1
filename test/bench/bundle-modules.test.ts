import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'
import { mappedModule } from './bundle-modules.js'

const dir = mkdtempSync(join(tmpdir(), 'concord-bundle-modules-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The 0-based line and column where `text` first appears in `code`. */
function position(code: string, text: string): { line: number; column: number } {
  const at = code.indexOf(text)
  expect(at).toBeGreaterThanOrEqual(0)
  const before = code.slice(0, at).split('\n')
  return { line: before.length - 1, column: before[before.length - 1]!.length }
}

describe('mappedModule', () => {
  it('names the module of a position in a bundle without whitespace, by its source map', async () => {
    // Two modules laid out as in the repository: a package's dist file and a dependency.
    mkdirSync(join(dir, 'packages', 'core', 'dist'), { recursive: true })
    mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true })
    writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'export function depWork(n) { let s = 0; for (let i = 0; i < n; i++) s += i * 3; return s }\n')
    writeFileSync(join(dir, 'packages', 'core', 'dist', 'main.js'), "import { depWork } from '../../../node_modules/dep/index.js'\nexport function coreWork(n) { return depWork(n) + 7 }\nconsole.log(coreWork(3))\n")
    const out = join(dir, 'packages', 'app', 'dist', 'bundle')
    await build({
      entryPoints: [join(dir, 'packages', 'core', 'dist', 'main.js')], outdir: out, bundle: true, format: 'esm',
      platform: 'node', minifyWhitespace: true, sourcemap: 'external', sourcesContent: false, logLevel: 'silent',
    })
    const file = join(out, 'main.js')
    const code = readFileSync(file, 'utf8')
    // Everything on one line: the whitespace is gone, so only columns tell modules apart.
    const dep = position(code, 'function depWork')
    const core = position(code, 'function coreWork')
    expect(dep.line).toBe(core.line)
    expect(mappedModule(file, dep.line, dep.column)).toBe('node_modules/dep/index.js')
    expect(mappedModule(file, core.line, core.column)).toBe('packages/core/dist/main.js')
    // A file with no map beside it is not answered here.
    expect(mappedModule(join(dir, 'packages', 'core', 'dist', 'main.js'), 0, 0)).toBeNull()
  })
})
