/**
 * One-time join tokens: how a node admits a joiner to the cluster's member list without
 * an administrator typing its peer id. The node issues a token (printed at start, and a
 * fresh one after each use); the joiner presents it with `concord start --join <pg
 * address> --join-token <token>`, which runs `ALTER SYSTEM ADD NODE '<its peer id>' WITH
 * JOIN TOKEN '<token>'` on this node's PostgreSQL port before dialing its peer port.
 *
 * Invariants: tokens are 256 random bits, never beginning with '-' (a command line would
 * read `--join-token -x..` as a missing argument: 1 token in 64 did); only their SHA-256 is kept, in memory (a token
 * is valid while the process that printed it runs); each is consumed by its first
 * redemption; at most MAX_OUTSTANDING wait unused (issuing more forgets the oldest).
 */
import { createHash, randomBytes } from 'node:crypto'

const MAX_OUTSTANDING = 16
const TOKEN = /^[A-Za-z0-9_-]{43}$/

export class JoinTokens {
  private readonly outstanding = new Set<string>()

  /** A new token (base64url, 43 characters, the first not '-'). */
  issue(): string {
    let token = randomBytes(32).toString('base64url')
    while (token.startsWith('-')) token = randomBytes(32).toString('base64url')
    this.outstanding.add(digest(token))
    if (this.outstanding.size > MAX_OUTSTANDING) this.outstanding.delete(this.outstanding.values().next().value!)
    return token
  }

  /** Consumes `token`; false when it is malformed, unknown, or was used already. */
  redeem(token: string): boolean {
    if (!TOKEN.test(token)) return false
    return this.outstanding.delete(digest(token))
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
