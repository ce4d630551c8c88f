/**
 * Quorum maths, as Apache ZooKeeper 3.8's flexible/QuorumVerifier.java, QuorumMaj.java
 * and SyncedLearnerTracker.java.
 *
 * Servers are participants (they vote and may lead) or observers (they learn the leader
 * and never vote). A quorum is a strict majority of the participants. During a
 * reconfiguration ZooKeeper requires a quorum in both the committed and the last-seen
 * configuration; SyncedLearnerTracker holds one ack set per verifier for that.
 *
 * The verifier also renders itself as the text ZooKeeper puts in every election
 * notification (QuorumMaj.toString): a Java peer parses it, and if its `version` is
 * higher than the peer's own it reconfigures. So the version we send must be the one a
 * Java node of the same ensemble would send.
 */
import { assert } from '../util/assert.js';
import { javaLongToHex } from './vote.js';

export type LearnerType = 'participant' | 'observer';

/** One of a server's quorum/election address pairs (host:quorumPort:electionPort). */
export interface QuorumAddress {
  readonly host: string;
  readonly quorumPort: number;
  readonly electionPort: number;
}

/** QuorumPeer.QuorumServer, reduced to what the election and the config text need. */
export interface QuorumServer {
  readonly id: number;
  readonly type: LearnerType;
  /** Empty when the addresses are unknown (tests); then the config text has only the type. */
  readonly addresses: readonly QuorumAddress[];
  /** The client address, when it comes from the dynamic config (`;host:port`). */
  readonly client?: { readonly host: string; readonly port: number };
}

/** QuorumVerifier: which servers vote, and which sets of them are a quorum. */
export interface QuorumVerifier {
  /** The config version (hex in the config text). 0 for a static config never established. */
  readonly version: number;
  /** Every member, participants and observers, by ascending id. */
  readonly allMembers: readonly QuorumServer[];
  /** Participant ids, ascending. */
  readonly votingMembers: readonly number[];
  /** Observer ids, ascending. */
  readonly observingMembers: readonly number[];
  isVoter(id: number): boolean;
  isObserver(id: number): boolean;
  /** The weight of a server in totalOrderPredicate. QuorumMaj: 1 for any id. */
  getWeight(id: number): number;
  /** Do these ids include a quorum? Ids that are not voters are ignored. */
  containsQuorum(ids: Iterable<number>): boolean;
  /** QuorumMaj.equals: the same version, or the same members. */
  equals(other: QuorumVerifier): boolean;
  /** The config text carried by election notifications. */
  toString(): string;
}

function delimitedHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** QuorumServer.toString: "host:qport:eport[|...]:type[;clienthost:clientport]". */
export function quorumServerToString(s: QuorumServer): string {
  let out = '';
  if (s.addresses.length > 0) {
    const sorted = [...s.addresses].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
    out = sorted.map((a) => `${delimitedHost(a.host)}:${a.quorumPort}:${a.electionPort}`).join('|');
  }
  out += s.type === 'observer' ? ':observer' : ':participant';
  if (s.client !== undefined) out += `;${delimitedHost(s.client.host)}:${s.client.port}`;
  return out;
}

/**
 * QuorumMaj: a quorum is more than half of the participants.
 *
 * Invariant: votingMembers and observingMembers partition allMembers, ids are unique.
 */
export class QuorumMaj implements QuorumVerifier {
  readonly version: number;
  readonly allMembers: readonly QuorumServer[];
  readonly votingMembers: readonly number[];
  readonly observingMembers: readonly number[];
  readonly #voters: ReadonlySet<number>;
  readonly #observers: ReadonlySet<number>;
  /** Java's `half`: a quorum has more than this many voters. */
  readonly half: number;

  constructor(members: readonly QuorumServer[], version = 0) {
    assert(Number.isSafeInteger(version) && version >= 0, `QuorumMaj: bad version ${version}`);
    const sorted = [...members].sort((a, b) => a.id - b.id);
    for (let i = 1; i < sorted.length; i++) {
      assert(sorted[i - 1]!.id !== sorted[i]!.id, `QuorumMaj: duplicate server id ${sorted[i]!.id}`);
    }
    this.version = version;
    this.allMembers = sorted;
    this.votingMembers = sorted.filter((m) => m.type === 'participant').map((m) => m.id);
    this.observingMembers = sorted.filter((m) => m.type === 'observer').map((m) => m.id);
    this.#voters = new Set(this.votingMembers);
    this.#observers = new Set(this.observingMembers);
    this.half = Math.floor(this.votingMembers.length / 2);
  }

  /** A verifier for tests and the simulator: participants and observers by id, no addresses. */
  static of(voters: readonly number[], observers: readonly number[] = [], version = 0): QuorumMaj {
    return new QuorumMaj(
      [
        ...voters.map((id): QuorumServer => ({ id, type: 'participant', addresses: [] })),
        ...observers.map((id): QuorumServer => ({ id, type: 'observer', addresses: [] })),
      ],
      version,
    );
  }

  isVoter(id: number): boolean {
    return this.#voters.has(id);
  }

  isObserver(id: number): boolean {
    return this.#observers.has(id);
  }

  getWeight(_id: number): number {
    return 1;
  }

  /**
   * Java's QuorumMaj.containsQuorum counts the set blindly and relies on its callers
   * (SyncedLearnerTracker) to pass voters only; here non-voters are ignored outright.
   */
  containsQuorum(ids: Iterable<number>): boolean {
    const seen = new Set<number>();
    for (const id of ids) if (this.#voters.has(id)) seen.add(id);
    return seen.size > this.half;
  }

  equals(other: QuorumVerifier): boolean {
    if (other.version === this.version) return true;
    if (other.allMembers.length !== this.allMembers.length) return false;
    for (let i = 0; i < this.allMembers.length; i++) {
      const a = this.allMembers[i]!;
      const b = other.allMembers[i]!;
      if (a.id !== b.id || quorumServerToString(a) !== quorumServerToString(b)) return false;
    }
    return true;
  }

  /**
   * QuorumMaj.toString: one "server.N=..." line per member, then "version=<hex>", no
   * final newline. Java iterates a HashMap<Long, ...>; for the small ids of real
   * ensembles that is ascending id order, which is what we use. A Java peer only
   * compares the parsed version and members, never the text.
   */
  toString(): string {
    let out = '';
    for (const m of this.allMembers) out += `server.${m.id}=${quorumServerToString(m)}\n`;
    return `${out}version=${javaLongToHex(this.version)}`;
  }

  /** A copy with another version (Leader sets the NEWLEADER zxid on the initial config, ZOOKEEPER-1783). */
  withVersion(version: number): QuorumMaj {
    return new QuorumMaj(this.allMembers, version);
  }
}

/** Thrown by parseQuorumConfig on text that is not a QuorumMaj config. */
export class QuorumConfigError extends Error {
  override name = 'QuorumConfigError';
}

function parseHostPorts(text: string, id: number): { host: string; ports: string[] } {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new QuorumConfigError(`server.${id}: '${text}' has '[' but no ']'`);
    const rest = text.slice(close + 1);
    if (!rest.startsWith(':')) throw new QuorumConfigError(`server.${id}: no port after '${text.slice(0, close + 1)}'`);
    return { host: text.slice(1, close), ports: rest.slice(1).split(':') };
  }
  const parts = text.split(':');
  return { host: parts[0]!, ports: parts.slice(1) };
}

function parsePort(s: string | undefined, id: number): number {
  if (s === undefined || !/^\d{1,5}$/.test(s) || Number(s) > 65535) {
    throw new QuorumConfigError(`server.${id}: bad port '${String(s)}'`);
  }
  return Number(s);
}

/** Parse one "server.N" value: "host:qport:eport[|host:qport:eport...][:type][;[clienthost:]clientport]". */
export function parseQuorumServer(id: number, value: string): QuorumServer {
  const semi = value.indexOf(';');
  const serverPart = semi < 0 ? value : value.slice(0, semi);
  const clientPart = semi < 0 ? null : value.slice(semi + 1);
  let type: LearnerType = 'participant';
  let body = serverPart;
  const lower = serverPart.toLowerCase();
  if (lower.endsWith(':observer')) {
    type = 'observer';
    body = serverPart.slice(0, -':observer'.length);
  } else if (lower.endsWith(':participant')) {
    body = serverPart.slice(0, -':participant'.length);
  }
  const addresses: QuorumAddress[] = [];
  if (body.length > 0) {
    for (const one of body.split('|')) {
      const { host, ports } = parseHostPorts(one, id);
      if (ports.length !== 2) throw new QuorumConfigError(`server.${id}: expected host:port:port, got '${one}'`);
      addresses.push({ host, quorumPort: parsePort(ports[0], id), electionPort: parsePort(ports[1], id) });
    }
  }
  if (clientPart === null || clientPart.length === 0) return { id, type, addresses };
  const lastColon = clientPart.lastIndexOf(':');
  let host = '0.0.0.0';
  let portText = clientPart;
  if (lastColon >= 0) {
    host = clientPart.slice(0, lastColon);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    portText = clientPart.slice(lastColon + 1);
  }
  return { id, type, addresses, client: { host, port: parsePort(portText, id) } };
}

/**
 * Parse the config text of a notification (QuorumPeer.configFromString for a QuorumMaj):
 * "server.N=..." and "version=<hex>" lines; other keys are ignored.
 */
export function parseQuorumConfig(text: string): QuorumMaj {
  const members: QuorumServer[] = [];
  let version = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line.length === 0 || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new QuorumConfigError(`config line without '=': '${line}'`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key.startsWith('server.')) {
      const idText = key.slice('server.'.length);
      if (!/^\d{1,15}$/.test(idText)) throw new QuorumConfigError(`bad server id in '${key}'`);
      members.push(parseQuorumServer(Number(idText), value));
    } else if (key === 'version') {
      const parsed = /^[0-9a-fA-F]{1,14}$/.test(value) ? Number.parseInt(value, 16) : Number.NaN;
      if (!Number.isSafeInteger(parsed)) throw new QuorumConfigError(`bad config version '${value}'`);
      version = parsed;
    }
  }
  const ids = new Set<number>();
  for (const m of members) {
    if (ids.has(m.id)) throw new QuorumConfigError(`server.${m.id} appears twice`);
    ids.add(m.id);
  }
  return new QuorumMaj(members, version);
}

/**
 * The "version=<hex>" of a config text without parsing the rest, or null when absent or
 * malformed (for logging "n.config version").
 */
export function configVersionOf(text: string): number | null {
  const m = /(?:^|\n)\s*version\s*=\s*([0-9a-fA-F]{1,14})\s*(?:\n|$)/.exec(text);
  if (m === null) return null;
  const v = Number.parseInt(m[1]!, 16);
  return Number.isSafeInteger(v) ? v : null;
}

/**
 * SyncedLearnerTracker: one ack set per verifier; an ack from a server counts in every
 * verifier where it is a voter, and a quorum needs a quorum in all of them.
 */
export class SyncedLearnerTracker {
  readonly #pairs: { verifier: QuorumVerifier; acks: Set<number> }[] = [];

  addQuorumVerifier(verifier: QuorumVerifier): void {
    this.#pairs.push({ verifier, acks: new Set() });
  }

  /** Returns whether the ack counted anywhere. */
  addAck(sid: number): boolean {
    let counted = false;
    for (const p of this.#pairs) {
      if (p.verifier.isVoter(sid)) {
        p.acks.add(sid);
        counted = true;
      }
    }
    return counted;
  }

  hasAllQuorums(): boolean {
    for (const p of this.#pairs) if (!p.verifier.containsQuorum(p.acks)) return false;
    return true;
  }

  /** "[1, 2, 3],[...]" as Java's ackSetsToString (ascending here). */
  ackSetsToString(): string {
    return this.#pairs.map((p) => `[${[...p.acks].sort((a, b) => a - b).join(', ')}]`).join(',');
  }
}
