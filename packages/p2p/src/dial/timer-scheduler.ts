/**
 * The `Scheduler` of a running transport: real timers. Tests and the simulator pass
 * their own. Timers are unref'd where the runtime can (Node), so a redial waiting out
 * its backoff never keeps a process alive; in a page `unref` does not exist.
 */
import type { Scheduler } from '@concord/core'

export const timerScheduler: Scheduler = {
  setTimeout(ms, fn) {
    const t: unknown = setTimeout(fn, ms)
    ;(t as { unref?: () => void }).unref?.()
    return () => clearTimeout(t as ReturnType<typeof setTimeout>)
  },
}
