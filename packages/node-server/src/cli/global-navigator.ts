/**
 * A global `navigator` for Node 20, shaped as the one Node 21 and later define
 * (`userAgent` "Node.js/<major>", `platform`, `language`, `languages`,
 * `hardwareConcurrency`; docs/decisions/0015-node-20-runtime.md).
 *
 * Why: node-postgres, which a node loads for federated reads from peers and for `--join`
 * (and `concord admit` and `concord backup` load), asks whether it runs on Cloudflare
 * Workers as its modules load. With no `navigator` it reads the global `Response`, and
 * on Node 20 that first read loads Node's bundled undici: loading node-postgres took
 * 159 ms with it and 81 ms without, and a joining node paid it inside its catch-up.
 * With a navigator its check ends there, as on Node 21+.
 *
 * Invariants: never replaces a navigator the runtime (or anyone) already put there; the
 * fields are read-only, computed once; nothing is loaded for them. `language` and
 * `languages` are computed when first read, as Node 21+ does: the default locale costs
 * ICU's first DateTimeFormat, ~30 ms of every start (of an empty node's ~0.37 s to its
 * first query, and of a joining node's catch-up), and nothing a node runs reads them.
 * The libraries in the bundle that look at `navigator` (node-postgres, is-electron, lib0's
 * platform test, wherearewe's React Native test) see what they see on Node 21+.
 */
import { availableParallelism } from 'node:os'

/** What Node 21+ answers for `navigator.platform` here (browsers' names for the common ones). */
function platformName(platform: string, arch: string): string {
  if (platform === 'darwin') return 'MacIntel'
  if (platform === 'win32') return 'Win32'
  if (platform === 'linux') return arch === 'x64' ? 'Linux x86_64' : arch === 'ia32' ? 'Linux i686' : `Linux ${arch}`
  return `${platform.charAt(0).toUpperCase()}${platform.slice(1)} ${arch}`
}

/** The default locale's tag; 'en-US' when the runtime has none. */
function defaultLanguage(): string {
  try {
    return new Intl.DateTimeFormat().resolvedOptions().locale || 'en-US'
  } catch {
    return 'en-US'
  }
}

/** Installs the navigator on `target` (globalThis unless a test gives another object) unless it has one. */
export function installGlobalNavigator(target: object = globalThis): 'native' | 'installed' {
  const present = Object.getOwnPropertyDescriptor(target, 'navigator') !== undefined
  if (present || (target as { navigator?: unknown }).navigator !== undefined) return 'native'
  let languages: readonly string[] | undefined
  const known = (): readonly string[] => (languages ??= Object.freeze([defaultLanguage()]))
  const navigator = Object.freeze({
    userAgent: `Node.js/${process.versions.node.split('.')[0]}`,
    platform: platformName(process.platform, process.arch),
    get language(): string {
      return known()[0]!
    },
    get languages(): readonly string[] {
      return known()
    },
    hardwareConcurrency: availableParallelism(),
  })
  Object.defineProperty(target, 'navigator', { value: navigator, writable: true, configurable: true, enumerable: false })
  return 'installed'
}
