/** For tests of lock waits between sessions: whether a statement still waits, and the SQLSTATE it ended with. */

/** Whether `p` is still pending after the event loop ran a few turns (bounded). */
export async function pending(p: Promise<unknown>): Promise<boolean> {
  let settled = false
  p.then(() => (settled = true), () => (settled = true))
  for (let i = 0; i < 20 && !settled; i++) await new Promise((r) => setTimeout(r, 5))
  return !settled
}

/** The SQLSTATE `p` fails with; undefined when it succeeds. */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
    return undefined
  } catch (e) {
    return (e as { code?: string }).code
  }
}
