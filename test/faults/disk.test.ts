/**
 * An ensemble member's disk failing under it (the server side of the disk nemeses):
 *   - a follower whose txn log fdatasync fails with EIO (libfiu, enabled in the running node)
 *     exits with code 3 and a message naming the log file, the errno and what to do; the write
 *     is acknowledged by the other two; restarted without the fault, the node serves every
 *     acknowledged write;
 *   - a member started on a full dataDir (tmpfs) exits with code 3 and a message, not a stack.
 * Skipped, saying why, where the fiu preload or a tmpfs mount is not possible.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CreateMode, Ensemble, ZkClient, nodeHost } from '../integration/ensemble-helpers.js';
import { within } from '../integration/helpers.js';
import { ERRNO, FIU_SYNC_POINTS, FiuControl, fiuAvailable, TmpfsDisks, tmpfsAvailable } from './disk.js';

const fiu = fiuAvailable();
const tmpfs = tmpfsAvailable();
const STACK_FRAME = /^(\[stderr\] )?\s+at .+:\d+:\d+\)?$/;

describe('storage failures in an ensemble member', { concurrency: 1 }, () => {
  it('a follower whose log fdatasync fails with EIO exits (code 3, naming the file, the errno and what to do) and loses nothing on restart', { timeout: 90_000, skip: fiu === null ? false : `no fiu preload: ${fiu}` }, async () => {
    let ctl: FiuControl | null = null;
    const real = new Ensemble({ nodes: 3, launch: () => ({ env: ctl!.env() }) });
    ctl = new FiuControl(path.join(real.root, 'fiu'));
    let zk: ZkClient | null = null;
    try {
      await real.startAll();
      await real.waitForQuorum(30_000);
      const leader = await real.leader();
      const follower = real.ids.find((i) => i !== leader)!;
      zk = await ZkClient.connect(nodeHost(leader));
      await zk.create('/before', Buffer.from('b'), CreateMode.PERSISTENT);
      const pid = real.node(follower).pid!;
      assert.equal(ctl.enable(pid, FIU_SYNC_POINTS, ERRNO.EIO), null);
      const exited = real.node(follower).exited();
      await zk.create('/during', Buffer.from('d'), CreateMode.PERSISTENT); // the leader and the other follower ack it
      const how = await within(15_000, `node ${follower} to exit after its fdatasync failed`, exited);
      assert.deepEqual(how, { code: 3, signal: null }, real.node(follower).tail(40));
      const fatal = real.node(follower).grep(/Severe unrecoverable error/).join('\n');
      assert.match(fatal, /txn log \S+\/version-2\/log\.[0-9a-f]+: sync failed: EIO/);
      assert.match(fatal, /dataLogDir=\S+/);
      assert.match(fatal, /restart the server/);
      assert.equal(real.node(follower).runLines.filter((l) => STACK_FRAME.test(l)).length, 0, 'no stack trace');
      await zk.create('/after', Buffer.from('a'), CreateMode.PERSISTENT);
      // Restarted (a new process: no failure point enabled), it catches up and serves everything.
      await real.start(follower, 30_000);
      await real.waitForQuorum(30_000);
      const f = await ZkClient.connect(nodeHost(follower));
      try {
        await f.sync('/');
        for (const p of ['/before', '/during', '/after']) assert.notEqual(await f.exists(p), null, `${p} on the restarted node`);
      } finally {
        await f.close();
      }
    } catch (e) {
      if (e instanceof Error) e.message += `\n\n${real.dumpLogs(60)}`;
      throw e;
    } finally {
      await zk?.close();
      await real.cleanup();
    }
  });

  it('a member started on a full dataDir exits with code 3 and says what to do, without a stack trace', { timeout: 60_000, skip: tmpfs === null ? false : `cannot mount a tmpfs: ${tmpfs}` }, async () => {
    const ens = new Ensemble({ nodes: 3 });
    const disks = new TmpfsDisks(ens.root, 2);
    try {
      const node = ens.node(1);
      disks.mount(node.dataDir);
      writeFileSync(path.join(node.dataDir, 'myid'), '1\n');
      disks.fill(node.dataDir);
      node.spawn();
      const how = await within(20_000, 'node 1 to exit on a full disk', node.exited());
      assert.deepEqual(how, { code: 3, signal: null }, node.tail(40));
      const lines = node.runLines.join('\n');
      assert.match(lines, /Unable to load the database: snapshot \S+: write failed: ENOSPC.*The filesystem of dataDir=\S+ is full \(ENOSPC\): free space on it/);
      assert.equal(node.runLines.filter((l) => STACK_FRAME.test(l)).length, 0, `no stack trace:\n${node.tail(40)}`);
    } finally {
      for (const id of ens.ids) await ens.kill9(id);
      disks.close();
      await ens.cleanup();
    }
  });
});
