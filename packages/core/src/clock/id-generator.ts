/**
 * Node-unique, time-ordered 64-bit ids for SERIAL and DEFAULT keys (docs/decisions/0007-serial-ids.md).
 *
 * Layout (63 bits, always positive as BIGINT): 41 bits of milliseconds since 2025-01-01,
 * 12 bits of node number, 10 bits of sequence. Two masters never produce the same id as
 * long as their node numbers differ; a node number is given explicitly or derived from a
 * hash of the node id (then two of 4096 possible numbers may collide; configure explicit
 * numbers for guarantees). Within one node ids strictly increase, also across restarts
 * as long as the wall clock does not run backwards by more than the ids issued ahead.
 */
export const ID_EPOCH_MS = 1_735_689_600_000
const NODE_BITS = 12n
const SEQ_BITS = 10n
const SEQ_RANGE = 1 << Number(SEQ_BITS)

export class IdGenerator {
  private lastMs = -1
  private seq = 0
  private readonly node: bigint
  private readonly wall: () => number

  constructor(wall: () => number, nodeNumber: number) {
    if (!Number.isInteger(nodeNumber) || nodeNumber < 0 || nodeNumber >= 1 << Number(NODE_BITS)) {
      throw new RangeError(`node number must be an integer in [0, 4096), got ${nodeNumber}`)
    }
    this.wall = wall
    this.node = BigInt(nodeNumber)
  }

  next(): bigint {
    let ms = Math.max(0, Math.floor(this.wall()) - ID_EPOCH_MS)
    if (ms <= this.lastMs) {
      ms = this.lastMs
      this.seq++
      if (this.seq >= SEQ_RANGE) {
        ms = this.lastMs + 1
        this.seq = 0
      }
    } else {
      this.seq = 0
    }
    this.lastMs = ms
    return (BigInt(ms) << (NODE_BITS + SEQ_BITS)) | (this.node << SEQ_BITS) | BigInt(this.seq)
  }
}

/** A stable node number in [0, 4096) from a node id (FNV-1a). */
export function nodeNumberOf(nodeId: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < nodeId.length; i++) {
    h ^= nodeId.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) % (1 << Number(NODE_BITS))
}
