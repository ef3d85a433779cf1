/**
 * Text columns: one Y.Text per row, column and life of the row. A SQL UPDATE of the text
 * is applied as the minimal edit (common prefix and suffix kept), so concurrent edits to
 * different parts of a text all survive (`Hello world` + `hello world!` -> `Hello world!`).
 */
import type * as Y from 'yjs'

/** Replaces a Y.Text's content by editing only the part that differs, so concurrent edits elsewhere survive. */
export function setText(text: Y.Text, next: string): void {
  const prev = text.toString()
  if (prev === next) return
  let start = 0
  const max = Math.min(prev.length, next.length)
  while (start < max && prev.charCodeAt(start) === next.charCodeAt(start)) start++
  let endPrev = prev.length
  let endNext = next.length
  while (endPrev > start && endNext > start && prev.charCodeAt(endPrev - 1) === next.charCodeAt(endNext - 1)) {
    endPrev--
    endNext--
  }
  if (endPrev > start) text.delete(start, endPrev - start)
  if (endNext > start) text.insert(start, next.slice(start, endNext))
}
