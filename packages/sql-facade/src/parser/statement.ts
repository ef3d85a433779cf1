/**
 * The parsed form of one statement: either a PostgreSQL parse tree from libpg-query, or
 * one of Concord's extension statements that PostgreSQL's grammar lacks.
 */
import type { Node } from 'libpg-query'

export type Statement =
  | { kind: 'pg'; node: Node; text: string }
  | { kind: 'createRegion'; name: string; roles: string[]; ifNotExists: boolean; text: string }
  | { kind: 'backup'; target: string; text: string }
  | { kind: 'restore'; source: string; asOf: string | null; text: string }
  | { kind: 'rebalance'; table: string; text: string }
  | { kind: 'clusterNode'; action: 'add' | 'remove' | 'alter'; peerId: string; joinToken: string | null; right: string | null; text: string }
