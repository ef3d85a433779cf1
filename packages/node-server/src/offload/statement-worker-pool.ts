/**
 * The node server's `StatementOffloader`: a small pool of worker threads, each answering
 * one offloaded statement at a time on an engine it keeps between statements
 * (statement-worker.ts runs `OffloadEngineHost`). Workers start on first use and stay for
 * the next statement; a worker that dies or is stopped is replaced on the next use.
 *
 * Engines: the pool records, per worker, what its engine will hold once the requests
 * given to it have run (`engine()`: the session takes only what that lacks, diffs against
 * it, and names the engine in the request). A request naming an engine runs only on that
 * worker, in the order given; it is recorded when `run` takes it. Whatever breaks that
 * record (a request taken and then not sent, a worker that ended, an engine that could
 * not take a request's states) starts the worker's engine afresh: the requests queued for
 * the old one are answered null (run on the event loop) and the next request carries its
 * shards whole.
 *
 * Bounds and how a statement ends here:
 * - heap: each worker runs under `resourceLimits` (`heapMb` of old generation); a
 *   statement that outgrows it ends that worker, not the process: the client gets 53200
 *   and the next statement a fresh worker.
 * - cancel: the client's cancel request sets a flag in shared memory that the statement's
 *   budget reads at its checks (57014 from the worker); a worker that has not answered
 *   `graceMs` after the cancel, or after the statement's deadline (statement_timeout), is
 *   terminated and the client gets 57014 from here.
 * - queue: at most `maxQueued` requests wait for a busy pool; past it, and when a worker
 *   cannot be started, `run` answers null and the statement runs on the event loop.
 * - idle: a worker given no request and whose engine was not asked for during `idleMs`
 *   ends, and with it its engine's copies of the tables it read (up to a sixteenth of its
 *   heap in state, some 8 bytes of heap a byte): a node that ran one long query does not
 *   hold its tables twice from then on. The next long statement starts a fresh worker.
 *
 * Invariants: a worker holds at most one job; every job is settled exactly once (reply,
 * kill, worker death, cancel while queued); the jobs naming one engine reach its worker in
 * the order `run` took them; an engine's record is, per shard, at most the state its
 * worker holds when the next request for it arrives; a request's shard states are moved to the
 * worker, not copied (the caller must not use the request again); settling a job frees or replaces its worker
 * before the next queued job is dispatched. Decision: docs/decisions/0031-statement-offload.md.
 */
import { Worker } from 'node:worker_threads'
import type { HeldShard } from '@concord/core'
import { ENGINE_GONE, SqlState, type OffloadEngine, type OffloadReply, type OffloadRequest, type StatementOffloader } from '@concord/sql-facade'
import { errorMessage, silentLogger, type Logger } from '../log/logger.js'

export interface StatementWorkerPoolOptions {
  /** Worker threads at most (default 1). */
  size?: number
  /** Old-generation heap of one worker in MB (default 1024). */
  heapMb?: number
  /** How long a worker may take to stop after a cancel or its deadline before it is terminated (ms, default 1000). */
  graceMs?: number
  /** Requests waiting for a worker at most (default 64). */
  maxQueued?: number
  /** A worker unused this long (ms) ends, its engine's tables released; 0 (the default): never. */
  idleMs?: number
  /** The worker's entry module (default: bin/statement-worker.js of this package). */
  script?: URL
  logger?: Logger
}

/** Counters for /metrics and tests. */
export interface StatementWorkerPoolStats {
  /** Statements a worker answered with a result (not the slices of tables sent ahead of one). */
  offloaded: number
  /** Workers started. */
  started: number
  /** Workers terminated for a statement past its cancel or deadline grace. */
  terminated: number
  /** Workers that ran out of heap. */
  outOfMemory: number
  /** Statements sent onto the engine their worker kept from earlier ones (only what it lacked). */
  keptEngine: number
  /** Bytes of shard state sent to workers (whole shards for fresh engines, diffs for kept ones). */
  stateBytes: number
  /** Workers ended after `idleMs` unused, their engines' tables released. */
  idleEnded: number
}

/** One message from a worker. */
type WorkerMessage = { kind: 'ready' } | { kind: 'reply'; id: number; reply: OffloadReply }

interface Job {
  id: number
  request: OffloadRequest
  /** Set to 1 when the client cancels: the worker's budget reads it. */
  flag: Int32Array
  settle: (reply: OffloadReply | null) => void
  settled: boolean
  timers: Array<ReturnType<typeof setTimeout>>
  slot: Slot | null
  /** The worker whose engine the request names; null: any. */
  target: Slot | null
}

/** What a worker's engine holds once the jobs given to it have run (`OffloadEngine`). */
interface EngineRecord {
  id: number
  held: Map<string, HeldShard>
  bytes: number
  maxBytes: number
}

interface Slot {
  worker: Worker
  ready: boolean
  job: Job | null
  engine: EngineRecord
  /** When a request last named or reached this worker, or its engine was handed out (performance.now()). */
  used: number
  /** The check of whether it has been idle `idleMs`; null while none is due. */
  idleCheck: ReturnType<typeof setTimeout> | null
}

const STATEMENT_TIMEOUT = 'canceling statement due to statement timeout'
const USER_CANCEL = 'canceling statement due to user request'

/** Failures to start a worker in a row after which the pool stops trying (every statement then runs on the event loop). */
const MAX_START_FAILURES = 3

export class StatementWorkerPool implements StatementOffloader {
  private readonly size: number
  private readonly heapMb: number
  private readonly graceMs: number
  private readonly maxQueued: number
  private readonly idleMs: number
  private readonly script: URL
  private readonly log: Logger
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private nextId = 1
  private nextEngine = 1
  private startFailures = 0
  private closed = false
  readonly stats: StatementWorkerPoolStats = { offloaded: 0, started: 0, terminated: 0, outOfMemory: 0, keptEngine: 0, stateBytes: 0, idleEnded: 0 }

  constructor(options: StatementWorkerPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? 1)
    this.heapMb = Math.max(16, options.heapMb ?? 1024)
    this.graceMs = Math.max(0, options.graceMs ?? 1000)
    this.maxQueued = Math.max(0, options.maxQueued ?? 64)
    this.idleMs = Math.max(0, options.idleMs ?? 0)
    this.script = options.script ?? new URL('../../bin/statement-worker.js', import.meta.url)
    this.log = options.logger ?? silentLogger
  }

  run(request: OffloadRequest, signal: AbortSignal): Promise<OffloadReply | null> {
    if (this.closed || this.startFailures >= MAX_START_FAILURES) return Promise.resolve(null)
    // Every worker busy (and no room for another): the request would wait, within the bound.
    const busy = this.slots.length >= this.size && this.slots.every((s) => s.job !== null)
    if (busy && this.queue.length >= this.maxQueued) return Promise.resolve(null)
    const e = request.engine
    // Its engine's worker ended since the states were taken: they are of no use elsewhere.
    const target = e === undefined ? null : this.slots.find((s) => s.engine.id === e.id) ?? null
    if (e !== undefined && target === null) return Promise.resolve(null)
    if (e !== undefined && target !== null) {
      if (e.fresh) {
        target.engine = this.newEngine(new Map(e.states), e.bytes)
        request.engine = { ...e, id: target.engine.id }
      } else {
        for (const [id, state] of e.states) target.engine.held.set(id, state)
        target.engine.bytes += e.bytes
      }
    }
    return new Promise((resolve) => {
      const job: Job = {
        id: this.nextId++,
        request,
        flag: new Int32Array(new SharedArrayBuffer(4)),
        settled: false,
        timers: [],
        slot: null,
        target,
        settle: (reply) => {
          if (job.settled) return
          job.settled = true
          for (const t of job.timers) clearTimeout(t)
          signal.removeEventListener('abort', onAbort)
          if (reply !== null && reply.ok && request.applyOnly !== true) this.stats.offloaded++
          resolve(reply)
        },
      }
      const onAbort = () => this.cancel(job)
      if (signal.aborted) {
        // Recorded as its engine's and never sent: the record no longer holds.
        if (target !== null) this.restartEngine(target)
        job.settle(canceled(USER_CANCEL))
        return
      }
      signal.addEventListener('abort', onAbort)
      // The worker stops itself at the deadline; past it and the grace, it is stopped from here.
      if (request.timeoutMs > 0) job.timers.push(setTimeout(() => this.kill(job, STATEMENT_TIMEOUT), request.timeoutMs + this.graceMs))
      this.queue.push(job)
      this.dispatch()
    })
  }

  /** Terminates every worker; later requests answer null. */
  async close(): Promise<void> {
    this.closed = true
    for (const job of this.queue.splice(0)) job.settle(null)
    await Promise.all(this.slots.splice(0).map((s) => {
      if (s.idleCheck !== null) clearTimeout(s.idleCheck)
      s.job?.settle(null)
      return s.worker.terminate()
    }))
  }

  /**
   * The engine the next request may be based on: the least busy worker's (one started for
   * it when every worker is busy and the pool has room). Null when no worker can run one.
   */
  engine(): OffloadEngine | null {
    if (this.closed || this.startFailures >= MAX_START_FAILURES) return null
    const load = (s: Slot) => (s.job === null ? 0 : 1) + this.queue.filter((j) => j.target === s).length
    let best: Slot | null = null
    // The least busy; of those, the one holding most (a table sent to one in slices is found there again).
    for (const s of this.slots) if (best === null || load(s) < load(best) || (load(s) === load(best) && s.engine.held.size > best.engine.held.size)) best = s
    if (best === null || (load(best) > 0 && this.slots.length < this.size)) best = this.start() ?? best
    // A session takes states against this record now: the worker stays for the request it builds.
    if (best !== null) this.used(best)
    return best?.engine ?? null
  }

  /** Notes a use of `slot`'s worker, and makes sure its idleness is checked `idleMs` later. */
  private used(slot: Slot): void {
    slot.used = performance.now()
    if (this.idleMs > 0 && slot.idleCheck === null) this.checkIdleIn(slot, this.idleMs)
  }

  private checkIdleIn(slot: Slot, ms: number): void {
    const t = setTimeout(() => {
      slot.idleCheck = null
      if (this.closed || !this.slots.includes(slot)) return
      const busy = slot.job !== null || this.queue.some((j) => j.target === slot)
      const idle = performance.now() - slot.used
      if (busy || idle < this.idleMs) {
        this.checkIdleIn(slot, busy ? this.idleMs : this.idleMs - idle)
        return
      }
      // No job, none queued for it, and no engine handed out since: ending it loses nothing.
      this.drop(slot)
      this.stats.idleEnded++
      void slot.worker.terminate()
      this.log.info(`statement worker unused for ${Math.round(idle / 1000)} s: ended, releasing its copies of ${slot.engine.held.size} shard(s)`)
    }, Math.max(1, Math.ceil(ms)))
    // The node's own lifetime decides when the process ends.
    t.unref()
    slot.idleCheck = t
  }

  /**
   * A record of an engine holding `held`. Its bytes are bounded by a sixteenth of the
   * worker's heap (measured: an engine holds about 8 bytes of heap per byte of state, 110
   * MB for a 200,000-row table of 13.6 MB), the rest left to the statements it runs.
   */
  private newEngine(held = new Map<string, HeldShard>(), bytes = 0): EngineRecord {
    return { id: this.nextEngine++, held, bytes, maxBytes: Math.floor((this.heapMb * 1024 * 1024) / 16) }
  }

  /**
   * A worker's engine no longer matches its record: the next request starts it afresh, and
   * the requests queued for it (based on the record) run on the event loop.
   */
  private restartEngine(slot: Slot): void {
    slot.engine = this.newEngine()
    for (const job of this.queue.filter((j) => j.target === slot)) {
      this.queue.splice(this.queue.indexOf(job), 1)
      job.settle(null)
    }
  }

  /** Workers running now (started, not ended). */
  get workers(): number {
    return this.slots.length
  }

  private cancel(job: Job): void {
    if (job.settled) return
    if (job.slot === null || !job.slot.ready) {
      this.unstarted(job)
      job.settle(canceled(USER_CANCEL))
      this.dispatch()
      return
    }
    Atomics.store(job.flag, 0, 1)
    job.timers.push(setTimeout(() => this.kill(job, USER_CANCEL), this.graceMs))
  }

  /** Ends a job that its worker did not answer in time: the worker is terminated. */
  private kill(job: Job, message: string): void {
    if (job.settled) return
    const slot = job.slot
    if (slot === null || !slot.ready) {
      this.unstarted(job)
    } else {
      this.stats.terminated++
      this.drop(slot)
      void slot.worker.terminate()
      this.log.warn(`offloaded statement did not stop within ${this.graceMs} ms of its ${message === USER_CANCEL ? 'cancel request' : 'deadline'}: worker terminated`)
    }
    job.settle(canceled(message))
    this.dispatch()
  }

  /** Takes a job that has not reached a worker off the queue, or off its still-starting worker (which stays, for the next job). */
  private unstarted(job: Job): void {
    if (job.slot === null) this.queue.splice(this.queue.indexOf(job), 1)
    else job.slot.job = null
    job.slot = null
    // Recorded as its engine's and never sent: the record no longer holds.
    if (job.target !== null && this.slots.includes(job.target)) this.restartEngine(job.target)
  }

  private dispatch(): void {
    for (let i = 0; i < this.queue.length && !this.closed; ) {
      const job = this.queue[i]!
      let slot: Slot | null = job.target
      if (slot !== null && !this.slots.includes(slot)) {
        // Its engine's worker ended: its states are of no use elsewhere.
        this.queue.splice(i, 1)
        job.settle(null)
        continue
      }
      if (slot === null) {
        slot = this.slots.find((s) => s.job === null && !this.queue.some((j) => j.target === s)) ?? null
        if (slot === null && this.slots.length < this.size) {
          slot = this.start()
          if (slot === null) {
            this.queue.splice(i, 1)
            job.settle(null)
            continue
          }
        }
      }
      if (slot === null || slot.job !== null) {
        i++
        continue
      }
      this.queue.splice(i, 1)
      slot.job = job
      job.slot = slot
      this.used(slot)
      if (slot.ready) this.post(slot, job)
    }
  }

  private post(slot: Slot, job: Job): void {
    const buffers = new Set<ArrayBuffer>()
    // The shard states were encoded for this request alone: moved to the worker, not copied.
    for (const s of job.request.shards) for (const d of [s.data, ...s.overlays.map((o) => o.data)]) {
      if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer) buffers.add(d.buffer)
    }
    const e = job.request.engine
    // A request naming no engine replaces the worker's, unrecorded: the next one starts it afresh.
    if (e === undefined) slot.engine = this.newEngine()
    // The states recorded stay here; the worker needs only the engine's id.
    const request: OffloadRequest = e === undefined ? job.request : { ...job.request, engine: { ...e, states: [] } }
    let bytes = 0
    for (const c of request.shards) bytes += c.data.byteLength + c.overlays.reduce((n, o) => n + o.data.byteLength, 0)
    try {
      slot.worker.postMessage({ kind: 'run', id: job.id, request, flag: job.flag.buffer }, [...buffers])
      this.stats.stateBytes += bytes
      if (e !== undefined && !e.fresh && request.applyOnly !== true) this.stats.keptEngine++
    } catch (err) {
      // A request that cannot cross (a detached buffer: a request is posted once): it runs on the event loop.
      this.log.warn(`cannot send a statement to its worker: ${errorMessage(err)}`)
      slot.job = null
      job.slot = null
      if (e !== undefined) this.restartEngine(slot)
      job.settle(null)
    }
  }

  private start(): Slot | null {
    let worker: Worker
    try {
      worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: this.heapMb } })
    } catch (err) {
      this.startFailures++
      this.log.warn(`cannot start a statement worker: ${errorMessage(err)}`)
      return null
    }
    this.stats.started++
    // The node's own lifetime decides when the process ends, not an idle worker.
    worker.unref()
    const slot: Slot = { worker, ready: false, job: null, engine: this.newEngine(), used: performance.now(), idleCheck: null }
    this.slots.push(slot)
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'ready') {
        slot.ready = true
        this.startFailures = 0
        if (slot.job !== null) this.post(slot, slot.job)
        return
      }
      const job = slot.job
      if (job === null || job.id !== m.id) return
      slot.job = null
      this.used(slot)
      if (!m.reply.ok && m.reply.error.message.startsWith(ENGINE_GONE)) {
        // The engine did not hold what its record says (it failed to take a request's states): afresh.
        this.restartEngine(slot)
        job.settle(null)
      } else {
        job.settle(m.reply)
      }
      this.dispatch()
    })
    worker.on('error', (err: Error & { code?: string }) => {
      const job = slot.job
      this.drop(slot)
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.stats.outOfMemory++
        this.log.warn(`offloaded statement ran out of its worker's heap (${this.heapMb} MB): worker replaced`)
        job?.settle(outOfMemory(this.heapMb))
      } else if (!slot.ready) {
        this.startFailures++
        this.log.warn(`statement worker failed to start: ${errorMessage(err)}`)
        // Not the statement's fault: it runs on the event loop instead.
        job?.settle(null)
      } else {
        this.log.warn(`statement worker failed: ${errorMessage(err)}`)
        job?.settle({ ok: false, error: { code: SqlState.internalError, message: `internal error: statement worker failed: ${err.message}` } })
      }
      this.dispatch()
    })
    worker.on('exit', () => {
      const job = slot.job
      this.drop(slot)
      job?.settle(slot.ready ? { ok: false, error: { code: SqlState.internalError, message: 'internal error: statement worker exited' } } : null)
      this.dispatch()
    })
    return slot
  }

  private drop(slot: Slot): void {
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    slot.job = null
    if (slot.idleCheck !== null) clearTimeout(slot.idleCheck)
    slot.idleCheck = null
  }
}

function canceled(message: string): OffloadReply {
  return { ok: false, error: { code: SqlState.queryCanceled, message } }
}

function outOfMemory(heapMb: number): OffloadReply {
  return {
    ok: false,
    error: {
      code: SqlState.outOfMemory,
      message: 'out of memory',
      detail: `The statement outgrew the ${heapMb} MB heap of the worker thread it ran on.`,
      hint: 'Narrow the statement (a WHERE clause, a LIMIT, an aggregate), or lower statement_mem so it fails earlier.',
    },
  }
}
