/**
 * PostgreSQL wire-protocol server (DESIGN.md decision 13). pg-gateway 0.3 handles the
 * startup, SSLRequest refusal and SCRAM-SHA-256; after authentication every message goes
 * to a `WireSession` over the SQL session the factory opens for the connection.
 *
 * Invariants: a failing client, statement or session never affects other connections;
 * the number of connections is bounded, and so is the time one may take to authenticate
 * (connection-limits.ts); every reply batch is one socket write. Each session gets its
 * own random BackendKeyData (process id and 31-bit secret from the crypto RNG); a
 * CancelRequest reaches that session only with both, and is never answered.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { constants, randomInt } from 'node:crypto'
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls'
import { fromDuplexStream } from 'pg-gateway/node'
import type { PostgresConnectionOptions, ScramSha256Data } from 'pg-gateway'
import { BackendWriter } from './backend-writer.js'
import { socketDuplex } from './socket-duplex.js'
import { MessagePump, type PumpReply } from './message-pump.js'
import { startupSettings } from './startup-settings.js'
import { startupLayoutFault, startupParameters } from './startup-packet.js'
import { passwordMessageFault } from './password-message.js'
import { ClientAuthentication, type AuthDecision, type LoginDirectory, type TlsRequirement } from './client-authentication.js'
import { negotiateTls, type CertificateRefusal } from './tls-negotiation.js'
import { ConnectionLimits, DEFAULT_AUTHENTICATION_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS } from './connection-limits.js'
import { errorFields, WireSession } from './wire-session.js'
import type { SessionFactory, SqlSession } from './sql-session.js'
import { errorMessage, silentLogger, type Logger } from '../log/logger.js'
import { SqlState } from '@concord/sql-facade'

export interface PgServerOptions {
  session: SessionFactory
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** The bootstrap superuser's password: clients authenticate as it with SCRAM-SHA-256 (client-authentication.ts). */
  password?: string
  /** The catalog's roles: each authenticates against its own verifier; absent, any user name is the bootstrap superuser. */
  logins?: LoginDirectory
  /** Reported as server_version; psql picks its catalog queries by it. */
  serverVersion?: string
  /** Sessions at once (PostgreSQL's max_connections); the next is refused with 53300. Default 100. */
  maxConnections?: number
  /** A connection must authenticate within this; default 60 s (PostgreSQL's authentication_timeout). */
  authenticationTimeoutMs?: number
  /** Close a session idle this long (57P05; 25P03 in a transaction block); 0 or absent: never. */
  idleSessionTimeoutMs?: number
  /** Certificate and key (PEM): clients' SSLRequest is then answered 'S' and the session runs over TLS (tls-negotiation.ts). */
  tls?: PgTls
  /** Connections that must run over TLS (client-authentication.ts, rule 0); needs `tls` unless 'off'. Default 'off'. */
  requireTls?: TlsRequirement
  /** Largest message a client may send; default 256 MiB (frame-guard.ts). */
  maxMessageBytes?: number
  /** Rows one connection's suspended portals may keep; default 256 MiB (portal-rows.ts). */
  maxPortalRowBytes?: number
  logger?: Logger
}

/**
 * The TLS material of the PostgreSQL port, PEM: the certificate (a chain: leaf first, then
 * the intermediates it is served with) and key; the CA bundle client certificates are
 * checked against (their chain is completed from it); the CRLs checked with it, one per
 * string (needs `clientCa`).
 */
export interface PgTls {
  cert: string | Buffer
  key: string | Buffer
  clientCa?: string | Buffer
  crl?: string[]
}

export interface PgServerStats {
  connections: number
  /** Connections not yet authenticated. */
  starting: number
  /** Connections admitted as sessions (startup packet accepted), at most max_connections. */
  admitted: number
  connectionsTotal: number
  messages: number
}

/** What outlives a connection's protocol handler: its session (closed with the socket) and its cancel key. */
interface Connection {
  wire?: WireSession
  pid: number
}

/** OpenSSL's verify errors that are the CRLs' fault (file or directory), not the client's. */
const CRL_FAULTS = new Set(['UNABLE_TO_GET_CRL', 'CRL_HAS_EXPIRED', 'CRL_NOT_YET_VALID', 'CRL_SIGNATURE_FAILURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE', 'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD'])

/** Characters of an unverified certificate's name a log line shows. */
const MAX_LOGGED_NAME = 64

function tlsContextOf(tls: PgTls): SecureContext {
  const { cert, key, clientCa, crl } = tls
  if (crl !== undefined && clientCa === undefined) throw new Error('CRLs are checked with the client CA: give tls.clientCa')
  return createSecureContext({
    cert, key, ...(clientCa !== undefined ? { ca: clientCa } : {}), ...(crl !== undefined && crl.length > 0 ? { crl } : {}),
    // No session tickets where certificates are checked, as PostgreSQL: a resumed session
    // skips the check (a certificate revoked since would count), and OpenSSL refuses to
    // resume one here anyway, failing the handshake of a client that offers its last session.
    ...(clientCa !== undefined ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
  })
}

const CANCEL_REQUEST = 80877102
const GSSENC_REQUEST = 80877104
const PROTOCOL_3_0 = 3 << 16

export class PgServer {
  private server?: Server
  private readonly sockets = new Set<Socket>()
  private readonly authentication: ClientAuthentication
  private tlsContext?: SecureContext
  /** The material tlsContext was made of. */
  private tls: PgTls | undefined
  /** Set once a client certificate failed for want of a usable CRL: warned once per context, not per connection. */
  private crlWarned = false
  private readonly log: Logger
  private readonly counters = { connectionsTotal: 0, messages: 0 }
  private readonly limits: ConnectionLimits
  /** Sessions a CancelRequest can reach, by the process id their BackendKeyData gave. */
  private readonly cancelKeys = new Map<number, { secret: number; cancel(): void }>()

  private readonly options: PgServerOptions

  constructor(options: PgServerOptions) {
    this.options = options
    this.log = options.logger ?? silentLogger
    if ((options.requireTls ?? 'off') !== 'off' && !options.tls) throw new Error('requiring TLS needs a certificate: give tls')
    if (options.requireTls === 'cert' && options.tls?.clientCa === undefined) throw new Error('requiring client certificates needs their CA: give tls.clientCa')
    this.authentication = new ClientAuthentication(options.password, options.logins, options.requireTls)
    // A bad certificate or key fails here, at start, not at the first client.
    this.tls = options.tls
    if (options.tls) this.tlsContext = tlsContextOf(options.tls)
    this.limits = new ConnectionLimits(
      {
        maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
        authenticationTimeoutMs: options.authenticationTimeoutMs ?? DEFAULT_AUTHENTICATION_TIMEOUT_MS,
        idleSessionTimeoutMs: options.idleSessionTimeoutMs ?? 0,
      },
      {
        // Info, not warn: a flood of such connections must not flood the log at its default level.
        drop: (socket, reason) => {
          this.log.info(`closing client ${socket.remoteAddress}:${socket.remotePort}: ${reason}`)
          socket.destroy()
        },
        idleTimeout: (socket, inTransaction) => {
          const w = new BackendWriter()
          w.error(inTransaction
            ? { severity: 'FATAL', code: SqlState.idleInTransactionSessionTimeout, message: 'terminating connection due to idle-in-transaction timeout' }
            : { severity: 'FATAL', code: SqlState.idleSessionTimeout, message: 'terminating connection due to idle-session timeout' })
          this.log.info(`closing client ${socket.remoteAddress}:${socket.remotePort}: idle-session timeout`)
          socket.end(w.take())
        },
      },
    )
  }

  /**
   * Serves new connections with this TLS material from now on (a SIGHUP re-reading the
   * files); open sessions keep theirs. What is given replaces the start's wholly, with the
   * same parts: a client CA, and CRLs, only if the server started with them. Throws, keeping
   * the material in use, if it does not load.
   */
  reloadTls(tls: PgTls): void {
    const before = this.tls
    if (before === undefined) throw new Error('this server has no TLS to reload')
    if ((before.clientCa === undefined) !== (tls.clientCa === undefined) || (before.crl === undefined) !== (tls.crl === undefined)) {
      throw new Error('reloading TLS keeps its parts: the client CA and the CRLs, as at start')
    }
    this.tlsContext = tlsContextOf(tls)
    this.tls = tls
    this.crlWarned = false
  }

  /** Starts listening; resolves to the bound port. Rejects with EADDRINUSE if taken. */
  async listen(port = this.options.port ?? 5432): Promise<number> {
    const server = createServer((socket) => this.accept(socket))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    server.on('error', (err) => this.log.error(`PostgreSQL listener: ${errorMessage(err)}`))
    return this.port()
  }

  port(): number {
    const addr = this.server?.address()
    if (!addr || typeof addr === 'string') throw new Error('PgServer is not listening')
    return addr.port
  }

  stats(): PgServerStats {
    return { connections: this.sockets.size, ...this.counters, ...this.limits.counts }
  }

  async close(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of this.sockets) s.destroy()
    await closed
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true)
    socket.on('error', (err) => this.log.info(`client ${socket.remoteAddress}:${socket.remotePort}: ${errorMessage(err)}`))
    this.sockets.add(socket)
    this.limits.opened(socket)
    this.counters.connectionsTotal++
    const conn: Connection = { pid: 0 }
    socket.on('close', () => {
      if (conn.pid !== 0) this.cancelKeys.delete(conn.pid)
      this.sockets.delete(socket)
      this.limits.closed(socket)
      conn.wire?.close().catch((err: unknown) => this.log.warn(`closing a SQL session: ${errorMessage(err)}`))
    })
    const context = this.tlsContext
    if (context === undefined) return this.serve(socket, socket, conn)
    negotiateTls(socket, context, this.tls?.clientCa !== undefined).then(
      (n) => {
        if (n === null) return void socket.destroy()
        if (n.tls) n.io.on('error', (err) => this.log.info(`client ${socket.remoteAddress}:${socket.remotePort} (TLS): ${errorMessage(err)}`))
        if (n.certificateRefused !== undefined) this.certificateRefused(socket, n.certificateRefused)
        this.serve(socket, n.io, conn)
      },
      (err: unknown) => {
        this.log.info(`client ${socket.remoteAddress}:${socket.remotePort}: ${errorMessage(err)}`)
        socket.destroy()
      },
    )
  }

  /**
   * Says why a client's certificate proves nothing (it goes on to the password rules). A
   * missing or unusable CRL refuses every certificate of its CA: warned once, where the
   * operator looks, until the next reload.
   */
  private certificateRefused(socket: Socket, reason: CertificateRefusal): void {
    // The name is the client's word until verified: quoted and cut, so it cannot forge log lines.
    const name = JSON.stringify(reason.subject.slice(0, MAX_LOGGED_NAME))
    const line = `client ${socket.remoteAddress}:${socket.remotePort}: client certificate ${name} not verified: ${reason.message} (${reason.code})`
    if (CRL_FAULTS.has(reason.code) && !this.crlWarned) {
      this.crlWarned = true
      this.log.warn(`${line}; every client certificate under that CA is refused until its CRL is fixed (SIGHUP re-reads the CRL file and directory)`)
    } else {
      this.log.info(line)
    }
  }

  /** Runs the connection's protocol over `io` (the socket, or TLS over it); limits and the close follow `socket`. */
  private serve(socket: Socket, io: Socket, conn: Connection): void {
    let wire: WireSession | undefined
    let session: SqlSession | undefined
    let sessionError: unknown
    /** Carries the messages once pg-gateway has sent the startup's ReadyForQuery (message-pump.ts). */
    let pump: MessagePump | undefined
    const duplex = socketDuplex(
      io,
      (err) => this.log.warn(`dropping client ${socket.remoteAddress}:${socket.remotePort}: ${err.message}`),
      this.options.maxMessageBytes,
    )
    const remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    // pg-gateway keeps a reference to this object and reads `method` only once the startup
    // packet is in: initialMessage fills it in then, for the user that packet names.
    const auth: { method: 'trust' | 'scram-sha-256'; getScramSha256Data: () => Promise<ScramSha256Data> } = { method: 'trust', getScramSha256Data: () => Promise.reject(new Error('no SCRAM secret')) }
    let superuser = true
    let authMessages = 0
    const options: PostgresConnectionOptions = {
      auth: auth as NonNullable<PostgresConnectionOptions['auth']>,
      onAuthenticated: async (state) => {
        this.limits.authenticated(socket)
        const params = state.clientParams ?? { user: 'concord' }
        const secret = randomInt(1, 2 ** 31 - 1)
        let pid: number
        do pid = randomInt(1, 2 ** 31 - 1)
        while (this.cancelKeys.has(pid))
        conn.pid = pid
        // Reserved now: the session is created (awaited) before the key is registered.
        this.cancelKeys.set(pid, { secret, cancel: () => {} })
        try {
          session = await this.options.session({
            user: params.user,
            database: params['database'] ?? params.user,
            applicationName: params['application_name'] ?? '',
            remoteAddress,
            settings: startupSettings(params),
            processId: pid,
          })
          wire = new WireSession(session, this.options.maxPortalRowBytes !== undefined ? { maxPortalRowBytes: this.options.maxPortalRowBytes } : {})
          conn.wire = wire
          // Notifications while idle: written straight to the connection (whole messages, in order).
          wire.setPush((bytes) => {
            if (!io.destroyed) io.write(bytes)
          })
        } catch (err) {
          sessionError = err
        }
        const s = session
        this.cancelKeys.set(pid, { secret, cancel: () => s?.cancel?.() })
        duplex.beforeNextWrite = this.startupParameters(pid, secret, params.user, superuser, s?.reportedParameters?.() ?? [])
        const w = wire
        if (w !== undefined) {
          const p = new MessagePump(io, (data) => this.message(w, data, socket, s), (err) => {
            this.log.warn(`dropping client ${remoteAddress}: ${errorMessage(err)}`)
          })
          pump = p
          duplex.afterStartupWrite = () => {
            duplex.direct = (chunk) => p.feed(chunk)
          }
        }
        this.limits.idle(socket, false)
      },
      onMessage: async (data, state) => {
        if (state.step === 'AwaitingInitialMessage') {
          return this.initialMessage(data, socket, io, (decision) => {
            superuser = decision.method !== 'refuse' && decision.superuser
            if (decision.method === 'scram') {
              auth.method = 'scram-sha-256'
              auth.getScramSha256Data = decision.data
            }
          })
        }
        if (state.step === 'PerformingAuthentication') {
          const fault = passwordMessageFault(data, authMessages++ === 0)
          return fault === null ? undefined : this.drop(socket, fault)
        }
        if (state.step !== 'ReadyForQuery') return undefined
        if (pump !== undefined) {
          // A message that came in the same read as the startup's last one: in order, behind it.
          pump.enqueue(data)
          return nothing()
        }
        this.counters.messages++
        const w = new BackendWriter()
        w.error(errorFields(sessionError ?? new Error('no SQL session'), 'FATAL'))
        return closing(w.take(), io)
      },
    }
    fromDuplexStream(duplex, options).catch((err: unknown) => {
      this.log.warn(`client ${remoteAddress}: ${errorMessage(err)}`)
      socket.destroy()
    })
  }

  /** One message of an authenticated connection: its reply, and whether to hang up. */
  private message(wire: WireSession, data: Uint8Array, socket: Socket, session: SqlSession | undefined): PumpReply | Promise<PumpReply> {
    this.counters.messages++
    this.limits.busy(socket)
    const reply = wire.handle(data)
    if (reply instanceof Promise) return reply.then((r) => this.replied(r, socket, session))
    return this.replied(reply, socket, session)
  }

  /** After a message's reply: the connection's idle clock starts unless it is closing. */
  private replied(reply: PumpReply, socket: Socket, session: SqlSession | undefined): PumpReply {
    if (!reply.close) this.limits.idle(socket, session?.transactionState() !== 'idle', session?.idleTimeoutMs?.() ?? 0)
    return reply
  }

  /**
   * Screens the first message: anything but a startup or SSL request drops the connection.
   * A startup packet is then admitted (connection limits) and authenticated
   * (client-authentication.ts): refused at once, or `authenticate` learns how.
   */
  private initialMessage(data: Uint8Array, socket: Socket, io: Socket, authenticate: (d: AuthDecision) => void): undefined | Iterable<Uint8Array> | AsyncIterable<Uint8Array> {
    if (data.length < 8) return this.drop(socket, 'initial message too short')
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
    const length = view.getInt32(0)
    const code = view.getInt32(4)
    if (length !== data.length || length > 10_000) return this.drop(socket, `bad initial message length ${length}`)
    if (code === GSSENC_REQUEST) return [Uint8Array.of(0x4e)] // 'N': no GSS encryption
    if (code === CANCEL_REQUEST) {
      // As PostgreSQL: no reply either way, so a wrong key teaches the sender nothing.
      if (length === 16) {
        const target = this.cancelKeys.get(view.getInt32(8))
        if (target !== undefined && target.secret === view.getInt32(12)) target.cancel()
      }
      io.end()
      return nothing()
    }
    const major = code >>> 16
    if (code === 80877103 /* SSLRequest */) return length === 8 ? undefined : this.drop(socket, `SSLRequest of ${length} bytes`)
    // pg-gateway speaks 3.0 only (and throws on anything else).
    if (code !== PROTOCOL_3_0) return this.drop(socket, `unsupported protocol ${major}.${code & 0xffff}`)
    const fault = startupLayoutFault(data)
    if (fault !== null) return this.drop(socket, `invalid startup packet layout: ${fault}`)
    if (!this.limits.admit(socket)) {
      // As PostgreSQL: the startup packet is read, then the refusal sent before authentication.
      const w = new BackendWriter()
      w.error({ severity: 'FATAL', code: SqlState.tooManyConnections, message: 'sorry, too many clients already' })
      return closing(w.take(), io)
    }
    const params = startupParameters(data)
    const user = params['user'] ?? ''
    const decision = this.authentication.decide({
      user, database: params['database'] ?? user, remoteAddress: socket.remoteAddress ?? '', tls: io !== socket, certificateUser: verifiedCertificateUser(io),
    })
    if (decision.method === 'refuse') {
      this.log.info(`refusing client ${socket.remoteAddress}:${socket.remotePort}: ${decision.message}`)
      const w = new BackendWriter()
      w.error({ severity: 'FATAL', code: decision.code, message: decision.message })
      return closing(w.take(), io)
    }
    authenticate(decision)
    return undefined
  }

  private drop(socket: Socket, reason: string): Iterable<Uint8Array> {
    this.log.warn(`dropping client ${socket.remoteAddress}:${socket.remotePort}: ${reason}`)
    socket.destroy()
    return nothing()
  }

  private startupParameters(pid: number, secret: number, user: string, superuser: boolean, reported: ReadonlyArray<readonly [string, string]>): Uint8Array {
    const w = new BackendWriter()
    const params: Array<readonly [string, string]> = [
      ['server_version', this.options.serverVersion ?? '16.0 (Concord)'],
      ['server_encoding', 'UTF8'],
      ['client_encoding', 'UTF8'],
      ['DateStyle', 'ISO, MDY'],
      ['IntervalStyle', 'postgres'],
      ['TimeZone', 'UTC'],
      ['integer_datetimes', 'on'],
      ['standard_conforming_strings', 'on'],
      ['is_superuser', superuser ? 'on' : 'off'],
      ['session_authorization', user],
      ['application_name', ''],
      ...reported,
    ]
    for (const [k, v] of params) w.parameterStatus(k, v)
    w.backendKeyData(pid, secret)
    return w.take()
  }
}

/** Tells pg-gateway "handled, nothing to send" (an empty result would fall through to its default). */
function nothing(): Iterable<Uint8Array> {
  return (function* (): Generator<Uint8Array, null> {
    return null
  })()
}

/** Sends `bytes` (if any), then ends the connection once they are written. */
function closing(bytes: Uint8Array | undefined, socket: Socket): AsyncIterable<Uint8Array> {
  return (async function* (): AsyncGenerator<Uint8Array, null> {
    if (bytes) yield bytes
    socket.end()
    return null
  })()
}

/** The common name of the client certificate a TLS connection presented, when it verified against the client CA. */
function verifiedCertificateUser(io: Socket): string | undefined {
  if (!(io instanceof TLSSocket) || !io.authorized) return undefined
  const cn = io.getPeerCertificate().subject?.CN
  return typeof cn === 'string' ? cn : undefined
}
