/**
 * The list of case ids Concord is known to fail (known-failures.txt): one id per line,
 * `#` starts a comment, blank lines are ignored. The Concord suite fails only on
 * failures not listed, and reports listed cases that now pass so the list shrinks.
 */
import { existsSync, readFileSync } from 'node:fs'

export function parseKnownFailures(text: string): Set<string> {
  const ids = new Set<string>()
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim()
    if (line !== '') ids.add(line.split(/\s+/)[0]!)
  }
  return ids
}

export function loadKnownFailures(path: string): Set<string> {
  return existsSync(path) ? parseKnownFailures(readFileSync(path, 'utf8')) : new Set()
}
