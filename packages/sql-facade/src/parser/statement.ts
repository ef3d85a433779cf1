/**
 * The parsed form of one statement: either a PostgreSQL parse tree from libpg-query, or
 * one of Concord's extension statements that PostgreSQL's grammar lacks.
 */
import type { Node } from 'libpg-query'
import type { SqlNotice } from '../errors/sql-notice.js'

export type Statement =
  /** `notices`: what parsing it raised (identifiers truncated to 63 bytes), sent each time it is run from text. */
  | { kind: 'pg'; node: Node; text: string; notices?: SqlNotice[] }
  | { kind: 'createRegion'; name: string; roles: string[]; ifNotExists: boolean; text: string }
  | { kind: 'backup'; target: string; text: string }
  | { kind: 'restore'; source: string; asOf: string | null; text: string }
  | { kind: 'rebalance'; table: string; text: string }
  | { kind: 'clusterNode'; action: 'add' | 'remove' | 'alter'; peerId: string; joinToken: string | null; right: string | null; text: string }
