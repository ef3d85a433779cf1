/**
 * A dial failure as a sentence a person can act on. What a failed WebSocket dial throws
 * in a page is often a DOM `Event` (its `String()` is `[object Event]`), an
 * `AggregateError` of per-address failures, or an error whose useful part is its
 * `cause`; this walks those shapes (bounded in depth and breadth) and names the
 * WebSocket URL when the event carries one.
 */

const MAX_DEPTH = 4
const MAX_PARTS = 4

export function describeDialError(err: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) return 'error'
  if (typeof err === 'string') return err || 'error'
  if (err === null || typeof err !== 'object') return String(err)
  if (isEvent(err)) return describeEvent(err)
  if (err instanceof AggregateError && err.errors.length > 0) {
    const parts = err.errors.slice(0, MAX_PARTS).map((e) => describeDialError(e, depth + 1))
    const more = err.errors.length > MAX_PARTS ? ` (+${err.errors.length - MAX_PARTS} more)` : ''
    return `${unique(parts).join('; ')}${more}`
  }
  const e = err as { name?: unknown; message?: unknown; cause?: unknown; code?: unknown }
  let text = typeof e.message === 'string' && e.message !== '' ? e.message : typeof e.name === 'string' ? e.name : 'error'
  if (typeof e.code === 'string' && !text.includes(e.code)) text = `${text} (${e.code})`
  if (e.cause !== undefined && e.cause !== null) {
    const cause = describeDialError(e.cause, depth + 1)
    if (!text.includes(cause)) text = `${text}: ${cause}`
  }
  return text
}

interface EventLike {
  type: string
  target?: unknown
}

function isEvent(value: object): value is EventLike {
  return (typeof Event !== 'undefined' && value instanceof Event) || Object.prototype.toString.call(value) === '[object Event]'
}

function describeEvent(ev: EventLike): string {
  const target = ev.target as { url?: unknown } | null | undefined
  const url = target && typeof target.url === 'string' ? ` ${target.url}` : ''
  if (ev.type === 'error') return `WebSocket${url} could not connect (refused, unreachable, or not a Concord WebSocket listener)`
  if (ev.type === 'close') return `WebSocket${url} closed during the handshake`
  return `WebSocket${url} ${ev.type} event`
}

function unique(parts: string[]): string[] {
  return [...new Set(parts)]
}
