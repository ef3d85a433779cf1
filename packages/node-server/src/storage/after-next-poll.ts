/**
 * One turn of Node's event loop later than an immediate: what the storage's writes and a
 * peer's row hand-off wait for, so reads that reached the sockets first are answered first.
 */

/**
 * Runs `fn` after the current task and after the loop's next poll of its sockets (an
 * immediate that schedules another: the second runs in the next turn's check phase, after
 * that turn's I/O callbacks); returns what cancels it.
 */
export function afterNextPoll(fn: () => void): () => void {
  let handle = setImmediate(() => {
    handle = setImmediate(fn)
  })
  return () => clearImmediate(handle)
}
