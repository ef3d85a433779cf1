/**
 * Command-line runner of the SQL conformance corpus.
 *
 *   npx tsx test/conformance/run.ts [--target concord|postgres] [options] [files...]
 *
 * Files are corpus stems (`dml`), file names (`dml.slt`) or paths; default: all of
 * `corpus/*.slt`. Prints one line per case (details for failures) and a summary
 * `N passed, N failed`. Exit status 1 when a case fails that is not a known failure.
 *
 * Options:
 *   --target concord|postgres  what to run against (default concord)
 *   --pg-url URL               PostgreSQL to use (default $CONCORD_PG_URL)
 *   --failures                 print only failures and the summary
 *   --rewrite                  (postgres only) rewrite expectations from PostgreSQL's
 *                              answers, in place; review the diff before committing
 *   --ids                      print failing case ids, ready for known-failures.txt
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseCaseFile } from './case-file.js'
import { runCases, type FileResult } from './case-runner.js'
import { concordTarget, FacadeUnavailableError, loadFacade } from './concord-target.js'
import { corpusFiles, KNOWN_FAILURES_FILE, resolveCorpusFile } from './corpus-files.js'
import type { Target } from './executor.js'
import { rewriteExpectations } from './expectation-rewriter.js'
import { loadKnownFailures } from './known-failures.js'
import { postgresTarget } from './postgres-target.js'
import { caseLine, summaryLine, tally } from './report.js'

interface Options {
  target: 'concord' | 'postgres'
  pgUrl: string | undefined
  failuresOnly: boolean
  rewrite: boolean
  ids: boolean
  files: string[]
}

function usage(message?: string): never {
  if (message !== undefined) console.error(message)
  console.error('usage: npx tsx test/conformance/run.ts [--target concord|postgres] [--pg-url URL] [--failures] [--rewrite] [--ids] [files...]')
  process.exit(2)
}

function parseArgs(argv: string[]): Options {
  const o: Options = { target: 'concord', pgUrl: process.env.CONCORD_PG_URL, failuresOnly: false, rewrite: false, ids: false, files: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const value = (): string => argv[++i] ?? usage(`${a} needs a value`)
    if (a === '--target') {
      const t = value()
      if (t !== 'concord' && t !== 'postgres') usage(`unknown target ${t}`)
      o.target = t
    } else if (a.startsWith('--target=')) {
      const t = a.slice('--target='.length)
      if (t !== 'concord' && t !== 'postgres') usage(`unknown target ${t}`)
      o.target = t
    } else if (a === '--pg-url') o.pgUrl = value()
    else if (a === '--failures') o.failuresOnly = true
    else if (a === '--rewrite') o.rewrite = true
    else if (a === '--ids') o.ids = true
    else if (a === '--help' || a === '-h') usage()
    else if (a.startsWith('--')) usage(`unknown option ${a}`)
    else o.files.push(a)
  }
  if (o.rewrite && o.target !== 'postgres') usage('--rewrite takes its answers from PostgreSQL: use --target postgres')
  return o
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const files = opts.files.length > 0 ? opts.files.map(resolveCorpusFile) : corpusFiles()
  let target: Target
  if (opts.target === 'postgres') {
    if (opts.pgUrl === undefined) usage('set CONCORD_PG_URL (see .ci/postgres.sh) or pass --pg-url')
    target = postgresTarget(opts.pgUrl)
  } else {
    target = concordTarget(await loadFacade())
  }
  const known = opts.target === 'concord' ? loadKnownFailures(KNOWN_FAILURES_FILE) : new Set<string>()
  const all: FileResult[] = []
  try {
    for (const f of files) {
      const text = await readFile(f.path, 'utf8')
      const cases = parseCaseFile(f.name, text)
      const result = await runCases(target, f.name, cases)
      all.push(result)
      for (const r of result.results) {
        if (opts.failuresOnly && r.status !== 'fail') continue
        console.log(caseLine(r, known))
      }
      const t = tally([result], known)
      console.log(`== ${f.name}: ${summaryLine(t)}`)
      if (opts.rewrite) {
        const rw = rewriteExpectations(text, result.results)
        if (rw.changed.length > 0) {
          await writeFile(f.path, rw.text)
          console.log(`== ${f.name}: rewrote ${rw.changed.length} expectations from PostgreSQL`)
        }
        for (const u of rw.unresolved) console.log(`!! ${u.case.file}:${u.case.line} not rewritten: ${u.reason}`)
      }
    }
  } finally {
    await target.dispose()
  }
  const t = tally(all, known)
  if (opts.ids) {
    for (const f of all) for (const r of f.results) if (r.status === 'fail') console.log(`${r.case.id}  # ${r.case.file}:${r.case.line}`)
  }
  for (const id of t.nowPassing) console.log(`now passing, remove from known-failures.txt: ${id}`)
  console.log(`${opts.target}: ${summaryLine(t)}`)
  process.exitCode = t.failed - t.knownFailed > 0 ? 1 : 0
}

main().catch((err: unknown) => {
  if (err instanceof FacadeUnavailableError) {
    console.error(`${err.message}\n(use --target postgres to run the corpus against PostgreSQL)`)
    process.exit(2)
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exit(2)
})
