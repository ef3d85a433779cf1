/**
 * What a node says about itself. Components take a `Logger` instead of writing to the
 * console, so tests stay quiet and the CLI decides the format.
 */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} }

/** Lines of `time level [component] message` on stderr, so stdout stays for data. */
export function consoleLogger(component: string, options: { quiet?: boolean } = {}): Logger {
  const line = (level: string, message: string): void => {
    if (options.quiet && level === 'info') return
    process.stderr.write(`${new Date().toISOString()} ${level} [${component}] ${message}\n`)
  }
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m) => line('error', m),
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
