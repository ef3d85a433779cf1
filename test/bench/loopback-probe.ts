/**
 * The machine's cost of one TCP round trip on 127.0.0.1 between two processes that sleep
 * between messages, as the benchmarks' clients and servers do: what every statement of a
 * client that waits for each reply pays on top of the work (issue 13, benchmarks.md
 * "What a round trip costs on this machine").
 *
 * Why it is printed: on the project's VMs this figure moved from ~40 to ~300 µs between
 * runs on the same day (waking a sleeping virtual CPU is slow, and not always needed), and
 * it falls on a server with one event loop (Concord) at every statement, where PostgreSQL's
 * process per client overlaps it. A ratio against PostgreSQL read without it can mislead.
 *
 * A child process echoes 64-byte messages; this process sends the next as soon as the
 * echo arrives. Bounded: ROUND_TRIPS messages or DEADLINE_MS, whichever comes first.
 */
import { spawn } from 'node:child_process'
import { connect } from 'node:net'

const ROUND_TRIPS = 4000
const DEADLINE_MS = 20_000

const ECHO = `
const net = require('node:net')
const srv = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); s.on('end', () => process.exit(0)) })
srv.listen(0, '127.0.0.1', () => process.stdout.write(String(srv.address().port) + '\\n'))
setTimeout(() => process.exit(0), ${DEADLINE_MS + 5000}).unref()
`

/** Median µs of one round trip (null if the probe could not run: it never fails a benchmark). */
export async function loopbackRoundTrip(): Promise<number | null> {
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'pipe', 'ignore'] })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())))
      child.once('exit', () => reject(new Error('echo process exited')))
      setTimeout(() => reject(new Error('echo process did not start')), 10_000).unref()
    })
    const socket = connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    const message = Buffer.alloc(64, 1)
    const times: number[] = []
    const deadline = Date.now() + DEADLINE_MS
    await new Promise<void>((resolve) => {
      let got = 0
      let sent = performance.now()
      socket.on('data', (d: Buffer) => {
        got += d.length
        if (got < message.length) return
        got -= message.length
        const now = performance.now()
        times.push((now - sent) * 1000)
        if (times.length >= ROUND_TRIPS || Date.now() > deadline) return resolve()
        sent = performance.now()
        socket.write(message)
      })
      socket.on('error', () => resolve())
      socket.write(message)
    })
    socket.end()
    if (times.length < 100) return null
    // The first hundred warm both processes up.
    const kept = times.slice(100).sort((a, b) => a - b)
    return kept[kept.length >> 1]!
  } catch {
    return null
  } finally {
    child.kill()
  }
}

/** The line the benchmarks print: the round trip and the load beside it. */
export async function loopbackLine(load: number): Promise<string> {
  const rtt = await loopbackRoundTrip()
  return `loopback round trip between two sleeping processes: ${rtt === null ? 'not measured' : `${rtt.toFixed(0)} µs`} (median of ${ROUND_TRIPS - 100}; load ${load.toFixed(2)})`
}
