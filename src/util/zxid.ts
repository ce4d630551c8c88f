import { assert } from './assert.js';
import { EPOCH_MAX_EXCLUSIVE } from './limits.js';

/**
 * zxid = epoch << 32 | counter, held as a JavaScript number. Exact while the epoch
 * stays below 2^21 (asserted), which at one election a second lasts 24 days of
 * continuous elections; in practice forever.
 */
export function makeZxid(epoch: number, counter: number): number {
  assert(Number.isInteger(epoch) && epoch >= 0 && epoch < EPOCH_MAX_EXCLUSIVE, `zxid epoch ${epoch} out of range`);
  assert(Number.isInteger(counter) && counter >= 0 && counter <= 0xffffffff, `zxid counter ${counter} out of range`);
  return epoch * 0x100000000 + counter;
}

export function zxidEpoch(zxid: number): number {
  return Math.floor(zxid / 0x100000000);
}

export function zxidCounter(zxid: number): number {
  return zxid % 0x100000000;
}

/** As ZooKeeper prints zxids: 0x followed by lower-case hex, no padding. */
export function zxidToHex(zxid: number | bigint): string {
  if (typeof zxid === 'number' && zxid < 0) return '-0x' + (-zxid).toString(16);
  return '0x' + zxid.toString(16);
}

/** Session ids print as 0x + hex of the unsigned 64-bit value. */
export function sessionIdToHex(id: bigint): string {
  return '0x' + BigInt.asUintN(64, id).toString(16);
}
