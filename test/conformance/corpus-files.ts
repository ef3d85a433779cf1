/**
 * Where the corpus lives and how command-line names map to its files: a bare stem
 * (`dml`), a file name (`dml.slt`) or a path.
 */
import { existsSync, readdirSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CONFORMANCE_DIR = dirname(fileURLToPath(import.meta.url))
export const CORPUS_DIR = join(CONFORMANCE_DIR, 'corpus')
export const KNOWN_FAILURES_FILE = join(CONFORMANCE_DIR, 'known-failures.txt')

export interface CorpusFile {
  /** Absolute path. */
  path: string
  /** Name used in reports and case ids: path relative to the corpus directory. */
  name: string
}

export function corpusFiles(): CorpusFile[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.slt'))
    .sort()
    .map((f) => ({ path: join(CORPUS_DIR, f), name: f }))
}

export function resolveCorpusFile(arg: string): CorpusFile {
  const candidates = [resolve(arg), join(CORPUS_DIR, arg), join(CORPUS_DIR, `${arg}.slt`)]
  for (const path of candidates) {
    if (existsSync(path) && path.endsWith('.slt')) {
      const rel = relative(CORPUS_DIR, path)
      return { path, name: rel.startsWith('..') ? basename(path) : rel }
    }
  }
  throw new Error(`no corpus file matches '${arg}' (looked in ${CORPUS_DIR})`)
}
