/**
 * Which module of a bundle a position comes from, by the source map the build writes
 * beside each bundle file (`<file>.map`, packages/node-server/build/cli-bundle.ts): what
 * profile-shares.ts needs to name the module of each profiled function in a bundle without
 * whitespace. Reads the map's `sources` and `mappings` (source map version 3, Base64 VLQ)
 * and nothing else; a file without a map gives null.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/**
 * A bundle file's source map read for what this script needs: per generated line, the
 * columns where a mapped segment starts (ascending) and the source each names, as a path
 * from the repository root (`packages/..`, `node_modules/..`).
 */
interface SourceLines {
  columns: number[][]
  sources: number[][]
  paths: string[]
}

const sourceMaps = new Map<string, SourceLines | null>()

function sourceLines(file: string): SourceLines | null {
  let lines = sourceMaps.get(file)
  if (lines !== undefined) return lines
  lines = null
  if (existsSync(`${file}.map`)) {
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[]; mappings: string }
    const paths = map.sources.map((src) => {
      const abs = resolve(dirname(file), src)
      const nm = abs.lastIndexOf('/node_modules/')
      if (nm >= 0) return abs.slice(nm + 1)
      const pk = abs.lastIndexOf('/packages/')
      return pk >= 0 ? abs.slice(pk + 1) : abs
    })
    const columns: number[][] = []
    const sources: number[][] = []
    // Base64 VLQ (the source map format, version 3): per segment the generated column
    // (relative within its line), then the source index, line and column (relative across lines).
    let source = 0
    for (const line of map.mappings.split(';')) {
      const cols: number[] = []
      const srcs: number[] = []
      let column = 0
      for (const segment of line.split(',')) {
        if (segment === '') continue
        const fields: number[] = []
        let value = 0
        let shift = 0
        for (let i = 0; i < segment.length; i++) {
          const digit = BASE64.indexOf(segment[i]!)
          value += (digit & 31) << shift
          if (digit & 32) shift += 5
          else {
            fields.push(value & 1 ? -(value >>> 1) : value >>> 1)
            value = 0
            shift = 0
          }
        }
        column += fields[0] ?? 0
        if (fields.length < 4) continue
        source += fields[1]!
        cols.push(column)
        srcs.push(source)
      }
      columns.push(cols)
      sources.push(srcs)
    }
    lines = { columns, sources, paths }
  }
  sourceMaps.set(file, lines)
  return lines
}

/** The module a bundle position comes from by the file's source map; null without one. */
export function mappedModule(file: string, line: number, column: number): string | null {
  const map = sourceLines(file)
  if (map === null) return null
  const cols = map.columns[line]
  if (cols === undefined || cols.length === 0) return `${file} (esbuild's module glue)`
  let lo = 0
  let hi = cols.length - 1
  let found = -1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    if (cols[mid]! <= column) {
      found = mid
      lo = mid + 1
    } else hi = mid - 1
  }
  return found < 0 ? `${file} (esbuild's module glue)` : map.paths[map.sources[line]![found]!]!
}

