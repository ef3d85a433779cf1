/**
 * Bounds the work of one regular expression match in this process. SQL regular
 * expressions run as JS RegExps, whose engine backtracks: `repeat('a', 30) || '!' ~
 * '(a+)+$'` took minutes on the event loop and froze every client (issue 15). V8 has a
 * second, linear-time engine, and with this flag a match that backtracks too much
 * (50,000 backtracks by default) is run again on it: the same answer, in time linear in
 * the input.
 *
 * Limits (V8 of Node 20): the linear engine takes no case-insensitive (`~*`, flag `i`) or
 * Unicode (`u`: LIKE patterns) expressions and no backreferences or lookarounds; those
 * still backtrack (docs/security.md). Set once per process, before the node compiles any
 * SQL regular expression; changes nothing for a match that does not backtrack.
 */
import { setFlagsFromString } from 'node:v8'

let set = false

export function boundRegExpBacktracking(): void {
  if (set) return
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks')
  set = true
}
