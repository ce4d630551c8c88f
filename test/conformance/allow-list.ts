/**
 * Differences from Apache ZooKeeper 3.8.0 (the reference: Debian's package
 * 3.8.0-11+deb12u2) that are accepted: each is an Apache bug fixed in a later 3.8.x
 * release, which our server (following 3.8.6) deliberately does not copy, and names
 * the upstream JIRA issue. Add an entry only with the JIRA identified, and as narrow
 * as possible: an entry rewrites the actual frame as Apache 3.8.0 would have sent it,
 * and the difference is accepted only if the rewritten frame then compares equal to
 * Apache's (zxids included, through the order relation of compare.ts).
 *
 * Where a rewrite must take a value from Apache's frame (one our server cannot be
 * asked for), it passes Apache's own object: compare.ts then sees the identical
 * object and neither compares it nor pairs its zxids.
 *
 * Not here, because they are not 3.8.0 differences:
 *  - ZOOKEEPER-4799 / CVE-2024-23944 (watch events need READ on the znode at
 *    delivery, 3.8.4): Debian's 3.8.0-11+deb12u2 carries the backport (its
 *    changelog, and ServerWatcher / NIOServerCnxn.process(WatchedEvent, List<ACL>) in
 *    its zookeeper.jar); case 'watch events need READ at delivery' checks it.
 *  - ZOOKEEPER-2623 (check outside multi) and a top-level createTTL with a non-TTL
 *    mode and a negative ttl: they break 3.8.0, so they are never sent to it
 *    (workload.ts breaksApache); conformance.test.ts checks that ours survives them.
 */
import { CreateFlag, OpCode } from '../../src/jute/constants.js';
import type { AllowEntry, Difference, Json } from './compare.js';
import type { CreateOp, MultiSubOp } from './workload.js';

type Obj = { [k: string]: Json };
const isObj = (v: Json | undefined): v is Obj => v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);

/** Both frames are replies to the same multi; returns their result lists. */
function multiResults(d: Difference): { a: Obj; b: Obj; ra: Json[]; rb: Json[]; ops: MultiSubOp[] } | undefined {
  const a = d.expectedFrame;
  const b = d.actualFrame;
  const step = d.step_;
  if (!isObj(a) || !isObj(b) || step === undefined || step.op.op !== 'multi') return undefined;
  if (a['kind'] !== 'reply' || b['kind'] !== 'reply' || a['op'] !== 'multi' || b['op'] !== 'multi') return undefined;
  if (!isObj(a['body']) || !isObj(b['body'])) return undefined;
  const ra = a['body']['results'];
  const rb = b['body']['results'];
  if (!Array.isArray(ra) || !Array.isArray(rb) || ra.length !== rb.length || ra.length !== step.op.ops.length) return undefined;
  return { a, b, ra, rb, ops: step.op.ops };
}

/** PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL */
const isPlainMode = (flags: number): boolean => flags >= CreateFlag.PERSISTENT && flags <= CreateFlag.EPHEMERAL_SEQUENTIAL;
const isTtlMode = (flags: number): boolean => flags === CreateFlag.PERSISTENT_WITH_TTL || flags === CreateFlag.PERSISTENT_SEQUENTIAL_WITH_TTL;
const isValidMode = (flags: number): boolean => Number.isInteger(flags) && flags >= 0 && flags <= 6;
/** An op decoded as a CreateRequest by MultiOperationRecord.deserialize (not createTTL). */
const isCreateRequestOp = (op: MultiSubOp | undefined): op is CreateOp =>
  op?.op === 'create' && (op.opcode === OpCode.create || op.opcode === OpCode.create2 || op.opcode === OpCode.createContainer);

/**
 * Rewrite create2 results of the given ops back to the path-only create results
 * 3.8.0 sends; undefined if no result was rewritten.
 */
function createResultsAsCreate(d: Difference, decays: (op: MultiSubOp | undefined) => boolean): Json | undefined {
  const m = multiResults(d);
  if (m === undefined) return undefined;
  let rewrote = false;
  const fixed = m.rb.map((r, i): Json => {
    const e = m.ra[i];
    if (isObj(r) && isObj(e) && r['type'] === 'create2' && e['type'] === 'create' && decays(m.ops[i]) && r['path'] === e['path']) {
      rewrote = true;
      return { type: 'create', headerErr: r['headerErr'] ?? null, path: r['path'] ?? null };
    }
    return r;
  });
  if (!rewrote) return undefined;
  return { ...m.b, body: { ...(m.b['body'] as Obj), results: fixed } };
}

export const ALLOW_LIST: readonly AllowEntry[] = [
  {
    // One entry for both decays: a multi may hold both kinds of op.
    jira: 'ZOOKEEPER-4026',
    description:
      'create2, and createContainer with a PERSISTENT*/EPHEMERAL* mode, inside multi: 3.8.0\'s ' +
      'MultiOperationRecord.deserialize builds Op.create(path, data, acl, flags), whose type comes from the mode ' +
      'alone, so both become plain creates: a CreateResult without stat (MultiHeader type create), and for ' +
      'createContainer a plain node (an EPHEMERAL* mode a real ephemeral). Since 3.8.2 (Op.create(path, data, ' +
      'CreateOptions, h.getType())) the header opcode is kept: create2 answers type create2 with the stat, and ' +
      'createContainer makes a CreateContainerTxn (a container) answered as create2 with the stat. ZooKeeper ' +
      'reports a container with ephemeralOwner 0 and no container manager runs in these tests, so with a ' +
      'PERSISTENT* mode nothing later differs; with an EPHEMERAL* mode the node itself differs for good, so the ' +
      'random workloads never send that (workload.ts) and its focused case only looks at the reply. Accepted per ' +
      'result, same path; a CONTAINER mode makes a createContainer op in both versions, a TTL or invalid mode ' +
      'is the next entry.',
    rewrite: (d) =>
      createResultsAsCreate(d, (op) => isCreateRequestOp(op) && (op.opcode === OpCode.create2 || op.opcode === OpCode.createContainer) && isPlainMode(op.flags)),
  },
  {
    jira: 'ZOOKEEPER-4026',
    description:
      'create/create2/createContainer op with a TTL mode (no ttl in a CreateRequest) or an invalid mode inside ' +
      'multi. Since 3.8.2, MultiOperationRecord.deserialize fails (CreateMode.fromFlag(flags, null) is null, or ' +
      'CreateOptions.build -> validateTTL(mode, -1) throws): the whole multi is a MARSHALLINGERROR (header only, ' +
      'one zxid for an error txn). 3.8.0 decodes it as Op.Create of type createTTL (TTL mode; pRequest2TxnCreate then ' +
      'casts its CreateRequest to CreateTTLRequest: ClassCastException -> MARSHALLINGERROR, as ours) or of type ' +
      'create keeping the flags (invalid mode; CreateMode.fromFlag throws BADARGUMENTS for that op). As prep stops ' +
      'at the first failing op, 3.8.0 differs only when an earlier op fails (answered OK with per-op results OK.., ' +
      'its error, RUNTIMEINCONSISTENCY..; that error is taken from the reference, ours having stopped at decode) or ' +
      'when the first bad op has an invalid mode and all before it succeed (OK.., BADARGUMENTS, ' +
      'RUNTIMEINCONSISTENCY..). Both leave the tree unchanged; the reply zxids are compared.',
    rewrite(d: Difference): Json | undefined {
      const a = d.expectedFrame;
      const b = d.actualFrame;
      const step = d.step_;
      if (!isObj(a) || !isObj(b) || step === undefined || step.op.op !== 'multi') return undefined;
      if (b['kind'] !== 'reply' || b['op'] !== 'multi' || b['err'] !== 'MARSHALLINGERROR' || b['body'] !== null) return undefined;
      if (a['kind'] !== 'reply' || a['op'] !== 'multi' || a['err'] !== 'OK' || !isObj(a['body'])) return undefined;
      const ops = step.op.ops;
      // a read op in a multi fails the decode in both versions
      if (ops.some((o) => o.op === 'getData' || o.op === 'getChildren')) return undefined;
      const j = ops.findIndex((o) => isCreateRequestOp(o) && !(isValidMode(o.flags) && !isTtlMode(o.flags)));
      if (j < 0) return undefined;
      const bad = ops[j] as CreateOp;
      const ra = a['body']['results'];
      if (!Array.isArray(ra) || ra.length !== ops.length) return undefined;
      // where 3.8.0's prep stopped: the first op that did not succeed
      const i = ra.findIndex((r) => !isObj(r) || r['err'] !== 'OK');
      if (i < 0 || i > j) return undefined;
      let failed: Json;
      if (i < j) {
        const e = ra[i];
        if (!isObj(e) || e['type'] !== 'error' || typeof e['err'] !== 'string' || e['err'] === 'RUNTIMEINCONSISTENCY') return undefined;
        failed = e; // the reference's own object: ours never prepped that op
      } else {
        if (isTtlMode(bad.flags)) return undefined; // 3.8.0 fails the whole multi there too (ClassCastException)
        failed = { type: 'error', headerErr: -8, err: 'BADARGUMENTS' };
      }
      const results: Json[] = ops.map((_, k): Json =>
        k < i ? { type: 'error', headerErr: 0, err: 'OK' } : k === i ? failed : { type: 'error', headerErr: -2, err: 'RUNTIMEINCONSISTENCY' },
      );
      return { ...b, err: 'OK', body: { results, end: { type: -1, done: true, err: -1 } } };
    },
  },
  {
    jira: 'ZOOKEEPER-2590',
    description:
      'exists() on an existing node the session may not READ: 3.8.0 checks no ACL (FinalRequestProcessor: "TODO we ' +
      'need to figure out the security requirement for this!") and answers OK with the stat; since 3.8.4 it ' +
      'answers NOAUTH. Accepted only where the runner\'s probe (a getData without watch, sent just before every ' +
      'exists) got NOAUTH in the same step on both sides, i.e. the node exists and the session lacks READ; the ' +
      'stat is the reference\'s own (not compared). The runner then also sends the exists without its watch flag ' +
      '(3.8.0 would register a watch that ours does not; see README), so no event follows from it.',
    rewrite(d: Difference): Json | undefined {
      const a = d.expectedFrame;
      const b = d.actualFrame;
      if (d.step_?.op.op !== 'exists' || !isObj(a) || !isObj(b)) return undefined;
      if (b['kind'] !== 'reply' || b['op'] !== 'exists' || b['err'] !== 'NOAUTH' || b['body'] !== null) return undefined;
      if (a['kind'] !== 'reply' || a['op'] !== 'exists' || a['err'] !== 'OK' || !isObj(a['body']) || !isObj(a['body']['stat'])) return undefined;
      const probed = (fs: Json[] | undefined, until: Json): boolean => {
        for (const f of fs ?? []) {
          if (f === until) return false;
          if (isObj(f) && f['kind'] === 'reply' && f['op'] === 'getData' && f['err'] === 'NOAUTH') return true;
        }
        return false;
      };
      if (!probed(d.expectedSessionFrames, a) || !probed(d.actualSessionFrames, b)) return undefined;
      return { ...b, err: 'OK', body: a['body'] };
    },
  },
];
