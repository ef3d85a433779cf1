/**
 * Write forwarding: a statement outside a transaction block that writes a table this
 * node's region does not hold is sent to a node that holds it (core peer calls, topic
 * `sql/forward`), which runs it as the same role and answers once it is durable there;
 * the client then gets that node's command tag and row count. So an `INSERT` into a
 * `us-west` table works from any node and is acknowledged only when a holder has it on
 * disk.
 *
 * Rows homed in another region (home_region_column) are forwarded to a node of that region
 * the same way (home-write-forwarding.ts decides when), and rows routed to partitions placed
 * on other nodes (shard_location) to a node holding them all (placed-write-forwarding.ts).
 *
 * A statement with RETURNING gets the holder's returned rows back (forwarded-reply.ts: as
 * text, at most FORWARD_RETURNING_MAX_CHARS of it, else 54000 before anything commits
 * there), and its client sees them as a local statement's.
 *
 * What is not forwarded stays refused (0A000, unheld-write.ts): a statement inside a
 * transaction block (its other statements run here), one with binary parameters, COPY
 * FROM, and rows routed to partitions placed on different nodes in one statement
 * (`shard_location`, refused at commit).
 *
 * At most once: a holder that cannot be reached before the call is sent is passed over
 * for the next (nearest first); a holder that goes silent or down after it was sent ends
 * the statement with 08007 (it may have run there), never a second try elsewhere. A
 * holder answers a forwarded statement only if it holds every table it writes (no
 * forwarding onwards).
 */
import { holdsTable, type Replica, type TableInfo } from '@concord/core'
import type { Node } from 'libpg-query'
import { SqlError, SqlState } from '../errors/sql-error.js'
import { decodeForwardReply, type ForwardedResult, type ForwardReply } from './forwarded-reply.js'
import { writeTargets, type NameSource } from './statement-federation.js'

export const FORWARD_TOPIC = 'sql/forward'
/** Wait for a holder's answer to a forwarded write (ms of the replica's clock). */
export const FORWARD_TIMEOUT_MS = 30_000

interface ForwardRequest {
  sql: string
  params: Array<string | null>
  user: string
  /**
   * An UPDATE or DELETE of a homed table whose rows the sender found all homed in this
   * region (home-write-forwarding.ts): the holder reads only its rows homed there.
   */
  home?: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The tables `node` writes that this node's region does not hold. */
export function unheldWriteTargets(node: Node, names: NameSource, region: string): TableInfo[] {
  const out: TableInfo[] = []
  for (const name of writeTargets(node)) {
    const info = names.table(name)
    if (info !== undefined && !holdsTable(region, info)) out.push(info)
  }
  return out
}

/** Whether a write returns rows (RETURNING). */
export function returnsRows(node: Node): boolean {
  const stmt = ('InsertStmt' in node ? node.InsertStmt : 'UpdateStmt' in node ? node.UpdateStmt : 'DeleteStmt' in node ? node.DeleteStmt : 'MergeStmt' in node ? node.MergeStmt : null) as
    | { returningClause?: { exprs?: unknown[] }; returningList?: unknown[] }
    | null
  return (stmt?.returningClause?.exprs ?? stmt?.returningList ?? []).length > 0
}

/** Why a statement writing a table held elsewhere cannot be forwarded; null when it can. */
export function notForwardable(node: Node, params: readonly unknown[]): string | null {
  if ('CopyStmt' in node) return 'COPY FROM is not forwarded'
  if (params.some((p) => p !== null && typeof p !== 'string')) return 'a forwarded write takes text parameters only'
  return null
}

/**
 * Where a write goes besides a holder of its tables: `home`, a node of that region (the
 * statement writes only rows of `targets[0]` homed there: home-write-forwarding.ts);
 * `nodes`, one of those nodes (its rows route to shards they all hold, `where` in words:
 * placed-write-forwarding.ts).
 */
export type ForwardDestination = { home: string } | { nodes: readonly string[]; where: string }

/**
 * Sends a write to the nearest holder of every table in `targets` that can be reached (of
 * `to`, when given); see the module header.
 */
export async function forwardWrite(
  replica: Pick<Replica, 'holdersOf' | 'call' | 'nodeId' | 'region'>,
  targets: readonly TableInfo[],
  request: ForwardRequest,
  to?: ForwardDestination,
): Promise<{ peer: string; result: ForwardedResult }> {
  const [first, ...rest] = targets
  const holders = (): string[] => replica.holdersOf(first!).filter((peer) => rest.every((t) => replica.holdersOf(t).includes(peer)))
  const candidates =
    to === undefined
      ? holders()
      : 'home' in to
        ? // The peers that would hold the table were it held in `home` alone: the nodes of that region.
          replica.holdersOf({ ...first!, regions: [to.home] })
        : holders().filter((peer) => to.nodes.includes(peer))
  const body = encoder.encode(JSON.stringify(request))
  const tried: string[] = []
  for (const peer of candidates) {
    let answer: Uint8Array
    try {
      answer = await replica.call(peer, FORWARD_TOPIC, body, FORWARD_TIMEOUT_MS)
    } catch (e) {
      const condition = (e as { condition?: string }).condition
      // Not sent: the next holder may run it. Anything else may have run: no second try.
      if (condition === 'sqlclientUnableToEstablishSqlconnection') {
        tried.push(`${peer} (${(e as Error).message})`)
        continue
      }
      throw e
    }
    const reply = decodeForwardReply(answer, peer)
    if ('error' in reply) throw new SqlError(reply.error.code, `${reply.error.message} (on node ${peer}, the write forwarded there)`)
    return { peer, result: reply.ok }
  }
  const names = targets.map((t) => `"${t.name}"`).join(', ')
  const triedText = tried.length > 0 ? `; tried ${tried.join(', ')}` : ''
  if (to !== undefined && 'home' in to) {
    throw new SqlError(
      SqlState.sqlclientUnableToEstablishSqlconnection,
      `cannot forward the write to ${names}: no node of region ${to.home}, where its rows are homed, is reachable from this node (region ${replica.region}); nothing was written` +
        triedText,
    )
  }
  if (to !== undefined) {
    throw new SqlError(
      SqlState.sqlclientUnableToEstablishSqlconnection,
      `cannot forward the write to ${names}: no node holding ${to.where} (node(s) ${to.nodes.join(', ')}), where its rows route, is reachable from this node (${replica.nodeId}); nothing was written` +
        triedText,
    )
  }
  const regions = [...new Set(targets.flatMap((t) => t.regions ?? []))].join(', ')
  throw new SqlError(
    SqlState.sqlclientUnableToEstablishSqlconnection,
    `cannot forward the write to ${names}: no node of region(s) ${regions} is reachable from this node (region ${replica.region})` + triedText,
  )
}

/**
 * Runs one forwarded statement here, in a session that forwards nothing onwards, as `user`
 * (an UPDATE or DELETE reading only its target's rows homed in `home`, when given);
 * resolves once it is durable.
 */
export type ForwardedRun = (user: string, sql: string, params: Array<string | null>, home: string | undefined) => Promise<ForwardedResult>

/** The handler of forwarded writes on a holder (registered with `Replica.handleCalls(FORWARD_TOPIC, ..)`). */
export function answerForwardedWrites(run: ForwardedRun): (from: string, body: Uint8Array) => Promise<Uint8Array> {
  return async (_from, body) => {
    let reply: ForwardReply
    try {
      const req = JSON.parse(decoder.decode(body)) as Partial<ForwardRequest>
      const params = req.params
      if (typeof req.sql !== 'string' || typeof req.user !== 'string' || !Array.isArray(params) || !params.every((p) => p === null || typeof p === 'string') ||
        (req.home !== undefined && typeof req.home !== 'string')) {
        throw new SqlError(SqlState.protocolViolation, 'malformed forwarded write')
      }
      reply = { ok: await run(req.user, req.sql, params, req.home) }
    } catch (e) {
      reply = { error: { code: (e as { code?: string }).code ?? SqlState.internalError, message: (e as Error).message } }
    }
    return encoder.encode(JSON.stringify(reply))
  }
}
