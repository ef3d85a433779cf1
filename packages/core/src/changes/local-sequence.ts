/**
 * This replica's change sequence (LSN): bytes of local updates committed so far. Peers
 * acknowledge positions in it, and lag is measured against it.
 *
 * Invariant: it only grows, also across restarts. It is persisted (storage meta `lsn`)
 * each time it passes a multiple of `LSN_PERSIST_STEP`, and a restart resumes twice that
 * step above the persisted value, so no value is ever handed out twice.
 */
import { assert } from '../errors/assert.js'

export const LSN_META_KEY = 'lsn'
/** The LSN is persisted each time it passes a multiple of this; a restart skips twice as far. */
const LSN_PERSIST_STEP = 1 << 20

export class LocalSequence {
  /** The end of the last local update committed. */
  value = 0
  private persisted = 0

  /** At load: resumes above what storage holds (`saved`, the meta value; absent on a new replica). */
  restore(saved: Uint8Array | undefined): void {
    if (saved !== undefined && saved.length === 8) {
      const persisted = Number(new DataView(saved.buffer, saved.byteOffset, 8).getBigUint64(0))
      if (Number.isSafeInteger(persisted)) this.value = persisted + 2 * LSN_PERSIST_STEP
    }
    this.persisted = this.value
  }

  /** Takes the next `bytes` of the sequence: the range [start, end) of one local update. */
  advance(bytes: number): { start: number; end: number } {
    const start = this.value
    this.value += bytes
    return { start, end: this.value }
  }

  /** The value to persist now (encoded for storage meta), if it passed a step since the last time; else null. */
  due(): Uint8Array | null {
    if (this.value - this.persisted < LSN_PERSIST_STEP) return null
    assert(Number.isSafeInteger(this.value) && this.value > this.persisted, 'the persisted LSN only grows')
    this.persisted = this.value
    const bytes = new Uint8Array(8)
    new DataView(bytes.buffer).setBigUint64(0, BigInt(this.value))
    return bytes
  }
}
