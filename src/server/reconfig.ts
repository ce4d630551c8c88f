/**
 * Dynamic reconfiguration, the parts outside the ZAB cores, as Apache ZooKeeper 3.8:
 *  - the new config a reconfig request asks for (PrepRequestProcessor's OpCode.reconfig:
 *    incremental joining/leaving servers, or a non-incremental member list);
 *  - recognising a reconfig txn and the config it carries (a SetDataTxn of
 *    /zookeeper/config whose data is the new config text, `version=` its zxid);
 *  - the files a committed config is written to (QuorumPeer.setQuorumVerifier with
 *    writeToDisk): zoo.cfg.dynamic.<version hex> holding the server lines, and zoo.cfg
 *    rewritten to point at it (QuorumPeerConfig.editStaticConfig).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Err, KeeperError, OpCode } from '../jute/constants.js';
import { decodeTxnEntry } from '../jute/txn.js';
import type { ReconfigRequest } from '../jute/records.gen.js';
import { QuorumConfigError, QuorumMaj, parseQuorumConfig, parseQuorumServer, type QuorumServer } from '../zab/quorum-verifier.js';
import { javaLongToHex } from '../zab/vote.js';
import type { ServerSpec } from './config.js';

/** A KeeperError with ZooKeeper's message for the log (the client sees only the code). */
export class ReconfigError extends KeeperError {
  constructor(code: number, readonly detail: string) {
    super(code);
    this.message = `${this.message}: ${detail}`;
  }
}

/** The TxnHeader's type field: clientId (8), cxid (4), zxid (8), time (8), then type. */
const TXN_TYPE_OFFSET = 28;

/** The new config a logged txn (TxnHeader + record) carries if it is a reconfig, else null. */
export function reconfigTxnConfig(txn: Buffer): QuorumMaj | null {
  if (txn.length < TXN_TYPE_OFFSET + 4 || txn.readInt32BE(TXN_TYPE_OFFSET) !== OpCode.reconfig) return null;
  const entry = decodeTxnEntry(txn);
  if (entry.body.type !== OpCode.reconfig) return null;
  const data = entry.body.txn.data;
  return parseQuorumConfig(data === null ? '' : data.toString('utf8'));
}

/**
 * The config a reconfig request asks for, before its version is set (PrepRequestProcessor).
 * Throws BADARGUMENTS for a malformed request or a config without enough voters.
 */
export function requestedConfig(lastSeen: QuorumMaj, r: ReconfigRequest, zxid: number, standaloneEnabled: boolean): QuorumMaj {
  let next: QuorumMaj;
  if (r.newMembers !== '') {
    // Non-incremental: the members, separated by commas or newlines.
    try {
      next = parseQuorumConfig(r.newMembers.replaceAll(',', '\n'));
    } catch (e) {
      throw new ReconfigError(Err.BADARGUMENTS, (e as Error).message);
    }
    for (const m of next.allMembers) {
      if (m.addresses.length === 0 || m.client === undefined) {
        throw new ReconfigError(Err.BADARGUMENTS, `server.${m.id}: each server needs host:quorumPort:electionPort[:role];[clientHost:]clientPort`);
      }
    }
    next = next.withVersion(zxid);
  } else {
    const members = new Map<number, QuorumServer>(lastSeen.allMembers.map((m) => [m.id, m]));
    for (const leaving of split(r.leavingServers)) {
      if (!/^-?\d{1,18}$/.test(leaving)) throw new ReconfigError(Err.BADARGUMENTS, `'${leaving}' is not a server id`);
      members.delete(Number(leaving));
    }
    for (const joiner of split(r.joiningServers)) {
      const parts = joiner.split('=').filter((p) => p.length > 0);
      if (parts.length !== 2) throw new ReconfigError(Err.BADARGUMENTS, 'Wrong format of server string');
      const idText = parts[0]!.slice(parts[0]!.lastIndexOf('.') + 1).trim();
      if (!/^\d{1,15}$/.test(idText)) throw new ReconfigError(Err.BADARGUMENTS, `'${parts[0]}' does not name a server id`);
      let qs: QuorumServer;
      try {
        qs = parseQuorumServer(Number(idText), parts[1]!.trim());
      } catch (e) {
        if (e instanceof QuorumConfigError) throw new ReconfigError(Err.BADARGUMENTS, 'Reconfiguration failed');
        throw e;
      }
      if (qs.addresses.length === 0 || qs.client === undefined) {
        throw new ReconfigError(Err.BADARGUMENTS, 'Wrong format of server string - each server should have 3 ports specified');
      }
      for (const other of members.values()) {
        if (other.id === qs.id) continue;
        for (const a of qs.addresses) {
          for (const b of other.addresses) {
            if (a.host === b.host && (a.quorumPort === b.quorumPort || a.electionPort === b.electionPort || a.quorumPort === b.electionPort || a.electionPort === b.quorumPort)) {
              throw new ReconfigError(Err.BADARGUMENTS, 'Reconfiguration failed');
            }
          }
        }
      }
      members.set(qs.id, qs);
    }
    next = new QuorumMaj([...members.values()], zxid);
  }
  if (standaloneEnabled && next.votingMembers.length < 2) {
    throw new ReconfigError(Err.BADARGUMENTS, 'Reconfig failed - new configuration must include at least 2 followers');
  }
  if (next.votingMembers.length < 1) {
    throw new ReconfigError(Err.BADARGUMENTS, 'Reconfig failed - new configuration must include at least 1 follower');
  }
  return next;
}

function split(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** The server.N specs of a config (ServerConfig.servers' shape). */
export function specsOf(q: QuorumMaj): Map<number, ServerSpec> {
  const out = new Map<number, ServerSpec>();
  for (const m of q.allMembers) {
    const a = m.addresses[0];
    out.set(m.id, {
      id: m.id,
      host: a?.host ?? '',
      quorumPort: a?.quorumPort ?? 0,
      electionPort: a?.electionPort ?? 0,
      role: m.type,
      ...(m.client !== undefined ? { clientHost: m.client.host, clientPort: m.client.port } : {}),
    });
  }
  return out;
}

/** The config in force as the static config's server lines describe it. */
export function configOfSpecs(servers: Iterable<ServerSpec>, version: number): QuorumMaj {
  return new QuorumMaj(
    [...servers].map((s): QuorumServer => ({
      id: s.id,
      type: s.role,
      addresses: [{ host: s.host, quorumPort: s.quorumPort, electionPort: s.electionPort }],
      ...(s.clientPort !== undefined ? { client: { host: s.clientHost ?? '0.0.0.0', port: s.clientPort } } : {}),
    })),
    version,
  );
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dfd = openSync(path.dirname(file), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Directories cannot be fsynced everywhere; the rename is what matters.
  }
}

/**
 * QuorumPeer.setQuorumVerifier(qv, true): write `<zoo.cfg>.dynamic.<version hex>` (the
 * server lines, sorted as text, no version line: it is in the name) and point zoo.cfg at
 * it, dropping its server/group/weight/peerType lines (and clientPort/clientPortAddress
 * when our own server line carries the client address). Returns the dynamic file's path.
 */
export function writeDynamicConfig(zooCfg: string, q: QuorumMaj, myId: number): string {
  const dynamicFile = `${path.resolve(zooCfg)}.dynamic.${javaLongToHex(q.version)}`;
  const lines = q.toString().split('\n').filter((l) => !l.startsWith('version=')).sort();
  writeAtomically(dynamicFile, lines.join('\n'));
  const eraseClient = q.allMembers.find((m) => m.id === myId)?.client !== undefined;
  const kept: string[] = [];
  for (const raw of readFileSync(zooCfg, 'utf8').split('\n')) {
    const key = raw.split('=')[0]!.trim();
    if (key.startsWith('server.') || key.startsWith('group') || key.startsWith('weight') || key.startsWith('dynamicConfigFile') || key.startsWith('peerType')) continue;
    if (eraseClient && key.startsWith('clientPort')) continue;
    kept.push(raw);
  }
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  kept.push(`dynamicConfigFile=${dynamicFile}`);
  writeAtomically(zooCfg, `${kept.join('\n')}\n`);
  return dynamicFile;
}
