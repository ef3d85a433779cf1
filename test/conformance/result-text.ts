/**
 * How a result set is written in the corpus: one line per row, cells joined by `|`.
 *
 * Cells hold PostgreSQL's text output of the value (what psql prints). NULL is written
 * `NULL` and the empty string `(empty)`; a value that is literally the text `NULL` or
 * `(empty)` gets a backslash in front (`\NULL`). Backslash, `|`, newline, carriage return
 * and tab inside a value are escaped as `\\`, `\|`, `\n`, `\r`, `\t`, so a line is
 * unambiguous and a row never spans lines.
 */

/** A result set as text, produced by every target adapter. */
export interface TextResult {
  /** Command tag word if known (`SELECT`, `INSERT`, ...). */
  command?: string
  /** Rows affected or returned, if the target reports it. */
  rowCount: number | null
  columns: string[]
  rows: Array<Array<string | null>>
}

export const NULL_CELL = 'NULL'
export const EMPTY_CELL = '(empty)'

export function encodeCell(value: string | null): string {
  if (value === null) return NULL_CELL
  if (value === '') return EMPTY_CELL
  if (value === NULL_CELL || value === EMPTY_CELL) return `\\${value}`
  return value.replace(/[\\|\n\r\t]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\'
      case '|':
        return '\\|'
      case '\n':
        return '\\n'
      case '\r':
        return '\\r'
      default:
        return '\\t'
    }
  })
}

export function encodeRow(row: Array<string | null>): string {
  return row.map(encodeCell).join('|')
}

/** Code-unit order, the same on every machine (unlike localeCompare). */
export function compareLines(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The lines a result is compared by, sorted if the query asks for `rowsort`. */
export function resultLines(result: TextResult, sort: 'nosort' | 'rowsort', colnames: boolean): string[] {
  const rows = result.rows.map(encodeRow)
  if (sort === 'rowsort') rows.sort(compareLines)
  return colnames ? [result.columns.map((c) => encodeCell(c)).join('|'), ...rows] : rows
}

/** Sorts expected lines the same way (the header line, if any, stays first). */
export function sortExpected(lines: string[], sort: 'nosort' | 'rowsort', colnames: boolean): string[] {
  if (sort === 'nosort' || lines.length === 0) return lines
  if (colnames) return [lines[0] ?? '', ...lines.slice(1).sort(compareLines)]
  return [...lines].sort(compareLines)
}
