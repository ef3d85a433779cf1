/**
 * What a COPY FROM STDIN / TO STDOUT statement hands its caller (a wire server) to run
 * PostgreSQL's COPY sub-protocol: for COPY FROM, a sink the data flows into as it
 * arrives; for COPY TO, the lines to send. The SQL layer parses, converts and inserts;
 * the wire only frames CopyData.
 */

export interface CopyIn {
  readonly direction: 'in'
  /** Columns per row (CopyInResponse). */
  readonly columns: number
  readonly format: 'text' | 'csv'
  /**
   * Takes the next piece of data (any chunking). Rows are inserted in batches as they
   * complete: a promise when the piece completed a batch (waiting for it is the caller's
   * backpressure), else nothing (libpq sends each line as its own piece: a promise each
   * was most of what a COPY allocated per row on the way in). Throws or rejects on bad
   * data or a failed insert: the COPY is then over (its transaction rolled back, or the
   * block aborted).
   */
  write(chunk: Uint8Array): void | Promise<void>
  /** CopyDone: inserts what is left, commits (outside a block) and reports the row count. */
  end(): Promise<{ commandTag: string; rowCount: number }>
  /** CopyFail: rolls back (outside a block, else aborts it) and rejects with 57014. */
  fail(reason: string): Promise<never>
}

export interface CopyOut {
  readonly direction: 'out'
  readonly columns: number
  readonly format: 'text' | 'csv'
  /** The data, one line per element (header first when asked for). */
  readonly lines: string[]
}

export type CopyTransfer = CopyIn | CopyOut
