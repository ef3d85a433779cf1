/**
 * What `search_path` means for a statement. Concord keeps every relation, type and
 * function in `public` (catalog/schema-def.ts) and the statement code resolves names by
 * their last part, so a path matters in two ways only, and both are checked here
 * (exec/user-schema-names.ts) instead of ignored:
 * - where an unqualified CREATE puts its object: the first schema of the path that exists
 *   (PostgreSQL's creation namespace). Only `public` can take it;
 * - whether unqualified names reach `public` at all. User schemas are empty, so a path
 *   that lists `public` anywhere finds what the public-only lookup finds; one without it
 *   finds only built-in and temporary objects.
 *
 * Before this, `SET search_path = app` was kept as a label: `CREATE TABLE t` then made
 * `public.t` and reads found public's tables, where PostgreSQL refuses (3F000, 42P01).
 */
import { schemaExists, type SchemaSource } from './schema-def.js'

export interface SearchPath {
  /** The path's schemas that exist, in order, "$user" resolved; pg_temp left out. */
  schemas: readonly string[]
  /** The schema an unqualified CREATE of a permanent object goes to; null when none exists. */
  creation: string | null
  /** Whether unqualified names are looked up in public. */
  searchesPublic: boolean
  /** Exactly the lookup and creation of the public-only code: nothing to check. */
  plain: boolean
}

/** The names of a search_path value: a comma list of identifiers, double-quoted or folded to lower case. */
export function searchPathNames(value: string): string[] {
  const names: string[] = []
  let i = 0
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value[i]!)) i++
  }
  while (i < value.length) {
    skipSpace()
    if (i >= value.length) break
    let name = ''
    if (value[i] === '"') {
      i++
      while (i < value.length) {
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            name += '"'
            i += 2
            continue
          }
          i++
          break
        }
        name += value[i++]
      }
    } else {
      while (i < value.length && value[i] !== ',' && !/\s/.test(value[i]!)) name += value[i++]
      name = name.toLowerCase()
    }
    skipSpace()
    if (value[i] === ',') i++
    if (name !== '') names.push(name)
  }
  return names
}

const namesByValue = new Map<string, string[]>()

/** The path `value` as the statement sees it, for the role `user` ("$user"), over the catalog `source`. */
export function searchPathOf(value: string, user: string, source: SchemaSource): SearchPath {
  let names = namesByValue.get(value)
  if (names === undefined) {
    names = searchPathNames(value)
    if (namesByValue.size >= 64) namesByValue.clear()
    namesByValue.set(value, names)
  }
  return resolve(names, user, source)
}

function resolve(names: string[], user: string, source: SchemaSource): SearchPath {
  const schemas: string[] = []
  for (const raw of names) {
    const name = raw === '$user' ? user : raw
    if (name === 'pg_temp' || name.startsWith('pg_temp_') || schemas.includes(name)) continue
    if (schemaExists(source, name)) schemas.push(name)
  }
  const creation = schemas[0] ?? null
  const searchesPublic = schemas.includes('public')
  return { schemas, creation, searchesPublic, plain: creation === 'public' }
}

/**
 * What the session's path is read from: its settings, the role it runs as, its catalog (an
 * ExecCtx has them), and the paths resolved over the committed catalog, for a
 * transaction that wrote no catalog object (`catalogWrites` 0: it sees that catalog).
 */
export interface SearchPathSource {
  settings: { show(name: string): string | null }
  role: { name: string }
  tx: SchemaSource & { readonly catalogWrites?: number }
  committedSearchPath?: (value: string, user: string) => SearchPath
}

/** The session's path, for the statement running as `exec.role` (current_schema(), current_schemas()). */
export function sessionSearchPath(exec: SearchPathSource): SearchPath {
  const value = exec.settings.show('search_path') ?? ''
  const committed = exec.committedSearchPath
  if (committed !== undefined && exec.tx.catalogWrites === 0) return committed(value, exec.role.name)
  return searchPathOf(value, exec.role.name, exec.tx)
}

/** Paths kept, at most; past it the memo starts again. */
const MAX_COMMITTED_PATHS = 64

/**
 * Paths resolved over a committed catalog, by role and value, while the catalog's version
 * holds (it moves on every catalog change, local or replicated). Every statement resolves
 * its session's path (exec/statement.ts), which looked up each schema it names in the
 * catalog (2.7% of a point SELECT's time on the event loop by a CPU profile, 1.5% with
 * this memo). The paths handed out are frozen: shared.
 */
export class CommittedSearchPaths {
  private readonly source: SchemaSource
  private readonly catalogVersion: () => number
  private version = -1
  /** By role, then by value: no key built per statement (a concatenated key, hashed anew each time, was most of this lookup). */
  private readonly byUser = new Map<string, Map<string, SearchPath>>()
  private held = 0

  constructor(source: SchemaSource, catalogVersion: () => number) {
    this.source = source
    this.catalogVersion = catalogVersion
  }

  get(value: string, user: string): SearchPath {
    const version = this.catalogVersion()
    if (version !== this.version || this.held >= MAX_COMMITTED_PATHS) {
      this.byUser.clear()
      this.held = 0
      this.version = version
    }
    let byValue = this.byUser.get(user)
    if (byValue === undefined) {
      byValue = new Map()
      this.byUser.set(user, byValue)
    }
    let path = byValue.get(value)
    if (path === undefined) {
      const resolved = searchPathOf(value, user, this.source)
      path = Object.freeze({ ...resolved, schemas: Object.freeze(resolved.schemas) })
      byValue.set(value, path)
      this.held++
    }
    return path
  }
}
