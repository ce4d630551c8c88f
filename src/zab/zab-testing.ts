/**
 * Helpers for the ZAB unit tests (leader.test.ts, learner.test.ts): txns with a real
 * TxnHeader, and a small driver that takes Readies one at a time so that a test can
 * decide when the "disk" is done.
 */
import { OpCode } from '../jute/constants.js';
import { encodeTxnEntry } from '../jute/txn.js';
import { describePacket } from './packet.js';
import type { LogEntry, Outbound, Ready } from './zab-types.js';

/** A setData txn for `zxid`, as the leader's prep would stamp it. */
export function txnFor(zxid: number, payload = 0): Buffer {
  return encodeTxnEntry(
    { clientId: 1n, cxid: payload, zxid, time: 1700000000000, type: OpCode.setData },
    { type: OpCode.setData, txn: { path: `/n${payload}`, data: Buffer.from([payload & 0xff]), version: 0 } },
  );
}

export function entry(zxid: number, payload = 0): LogEntry {
  return { zxid, txn: txnFor(zxid, payload) };
}

export interface Core {
  hasReady(): boolean;
  ready(): Ready;
  advance(): void;
}

/** Take and advance every Ready the core has (the disk is instant); return them in order. */
export function drain(core: Core): Ready[] {
  const out: Ready[] = [];
  while (core.hasReady()) {
    out.push(core.ready());
    core.advance();
  }
  return out;
}

/** The packets of these Readies (optionally only those for `to`), as `TYPE zxid` strings. */
export function packets(readies: readonly Ready[], to?: number): string[] {
  return readies
    .flatMap((r) => r.messages)
    .filter((m: Outbound) => to === undefined || m.to === to)
    .map((m) => describePacket(m.packet).replace(/ \(\d+ bytes\)$/, ''));
}
