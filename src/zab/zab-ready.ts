/**
 * ReadyBuilder: where a core collects its outputs between two `ready()` calls, and the
 * runtime check of the Ready/advance contract (one Ready in flight at a time, log
 * entries in zxid order, durable state counted only once advanced).
 *
 * The apply barrier. A SNAP must be served from the tree exactly at the zxid the SNAP
 * packet names, and the server serializes the tree after applying this Ready's
 * `committed` list (step 4 comes before step 5). So once a SNAP is queued, txns committed
 * later in the same batch are held back for the next Ready; `treeZxid` is always the
 * zxid the tree will have once this batch's `committed` list is applied.
 */
import { assert } from '../util/assert.js';
import { zxidToHex } from '../util/zxid.js';
import type { QuorumPacket } from '../jute/records.gen.js';
import { type LogEntry, type Notice, type Outbound, type Ready, type StorageAction, invariant } from './zab-types.js';

export class ReadyBuilder {
  #storage: StorageAction[] = [];
  #entries: LogEntry[] = [];
  #acceptedEpoch: number | undefined;
  #currentEpoch: number | undefined;
  #committed: LogEntry[] = [];
  #held: LogEntry[] = [];
  #barrier = false;
  #messages: Outbound[] = [];
  #disconnect: number[] = [];
  #notices: Notice[] = [];

  /** The Ready taken and not yet advanced. */
  #inflight: Ready | undefined;
  /** The log's end once everything queued so far is written. */
  #queuedZxid: number;
  /** The log's end on disk: what the last advanced Ready left there. */
  #durableZxid: number;
  #inflightZxid: number;
  /** Counts of writes (storage actions, entries, epoch files) queued, and advanced. */
  #writesQueued = 0;
  #writesDurable = 0;
  #inflightWrites = 0;
  #treeZxid: number;

  constructor(durableZxid: number, treeZxid: number) {
    this.#queuedZxid = durableZxid;
    this.#durableZxid = durableZxid;
    this.#inflightZxid = durableZxid;
    this.#treeZxid = treeZxid;
  }

  /** The zxid of the last txn in the log once everything queued is written. */
  get queuedZxid(): number {
    return this.#queuedZxid;
  }

  /** The zxid of the last txn known to be on disk (advanced). */
  get durableZxid(): number {
    return this.#durableZxid;
  }

  /** A mark to compare against `writesDurable` later: everything queued so far. */
  get writesQueued(): number {
    return this.#writesQueued;
  }

  get writesDurable(): number {
    return this.#writesDurable;
  }

  /** The tree's zxid once this batch's committed txns are applied (see the module comment). */
  get treeZxid(): number {
    return this.#treeZxid;
  }

  get inflight(): boolean {
    return this.#inflight !== undefined;
  }

  storage(action: StorageAction): void {
    assert(this.#entries.length === 0, 'a storage action after log entries in the same batch');
    this.#storage.push(action);
    this.#queuedZxid = action.zxid;
    this.#writesQueued++;
  }

  append(entry: LogEntry): void {
    invariant(entry.zxid > this.#queuedZxid, () => `log append ${zxidToHex(entry.zxid)} does not follow ${zxidToHex(this.#queuedZxid)}`);
    this.#entries.push(entry);
    this.#queuedZxid = entry.zxid;
    this.#writesQueued++;
  }

  persistAcceptedEpoch(epoch: number): void {
    this.#acceptedEpoch = epoch;
    this.#writesQueued++;
  }

  persistCurrentEpoch(epoch: number): void {
    this.#currentEpoch = epoch;
    this.#writesQueued++;
  }

  apply(entry: LogEntry): void {
    if (this.#barrier) {
      this.#held.push(entry);
      return;
    }
    invariant(entry.zxid > this.#treeZxid, () => `apply ${zxidToHex(entry.zxid)} after ${zxidToHex(this.#treeZxid)}`);
    this.#committed.push(entry);
    this.#treeZxid = entry.zxid;
  }

  /** The tree was reset to `zxid` by a storage action (TRUNC reload, SNAP install). */
  resetTree(zxid: number): void {
    assert(this.#committed.length === 0 && this.#held.length === 0, 'tree reset with applies pending');
    this.#treeZxid = zxid;
  }

  send(to: number, packet: QuorumPacket): void {
    this.#messages.push({ to, packet });
  }

  /** A SNAP from the tree as it stands after this batch's applies (held still from now on). */
  sendSnapFromTree(to: number, packet: QuorumPacket): void {
    invariant(packet.zxid === this.#treeZxid, () => `SNAP ${zxidToHex(packet.zxid)} but the tree will be at ${zxidToHex(this.#treeZxid)}`);
    this.#messages.push({ to, packet, snapshotFrom: 'tree' });
    this.#barrier = true;
  }

  /** A SNAP from the newest snapshot file. */
  sendSnapFromFile(to: number, packet: QuorumPacket): void {
    this.#messages.push({ to, packet, snapshotFrom: 'file' });
  }

  disconnect(conn: number): void {
    if (!this.#disconnect.includes(conn)) this.#disconnect.push(conn);
  }

  notice(n: Notice): void {
    this.#notices.push(n);
  }

  has(): boolean {
    return (
      this.#storage.length > 0 ||
      this.#entries.length > 0 ||
      this.#acceptedEpoch !== undefined ||
      this.#currentEpoch !== undefined ||
      this.#committed.length > 0 ||
      this.#held.length > 0 ||
      this.#messages.length > 0 ||
      this.#disconnect.length > 0 ||
      this.#notices.length > 0
    );
  }

  take(): Ready {
    assert(this.#inflight === undefined, 'ready() called again before advance()');
    const ready: Ready = {
      storage: this.#storage,
      entries: this.#entries,
      ...(this.#acceptedEpoch !== undefined ? { acceptedEpoch: this.#acceptedEpoch } : {}),
      ...(this.#currentEpoch !== undefined ? { currentEpoch: this.#currentEpoch } : {}),
      committed: this.#committed,
      messages: this.#messages,
      disconnect: this.#disconnect,
      notices: this.#notices,
    };
    this.#inflight = ready;
    this.#inflightZxid = this.#queuedZxid;
    this.#inflightWrites = this.#writesQueued;
    this.#storage = [];
    this.#entries = [];
    this.#acceptedEpoch = undefined;
    this.#currentEpoch = undefined;
    this.#messages = [];
    this.#disconnect = [];
    this.#notices = [];
    this.#barrier = false;
    this.#committed = [];
    const held = this.#held;
    this.#held = [];
    for (const e of held) this.apply(e);
    return ready;
  }

  /** The in-flight Ready is done; returns it so the core can note what became durable. */
  advance(): Ready {
    const ready = this.#inflight;
    assert(ready !== undefined, 'advance() without a Ready in flight');
    this.#inflight = undefined;
    this.#durableZxid = this.#inflightZxid;
    this.#writesDurable = this.#inflightWrites;
    return ready;
  }
}
