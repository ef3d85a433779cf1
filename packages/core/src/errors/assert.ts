/**
 * Assertions: invariants checked where data crosses a boundary inside a replica (decode,
 * apply, persist, load). A failed assertion is a bug in Concord, never bad input: what
 * comes from the network or a disk is validated by the decoders and rejected there. It
 * throws `InternalError` (condition internalError: SQLSTATE XX000 over SQL) at once, so
 * state that breaks an invariant stops before it reaches storage or a peer.
 *
 * Keep messages constant strings on hot paths (pass a function to build a costly one).
 */
import { ConcordError } from './concord-error.js'

/** A broken invariant: a bug, reported as internalError (SQLSTATE XX000). */
export class InternalError extends ConcordError {
  constructor(message: string) {
    super('internalError', `internal error: ${message}`)
    this.name = 'InternalError'
  }
}

export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InternalError(typeof message === 'string' ? message : message())
}
