/**
 * A full disk (issue 3): dataDir on a 3 MiB tmpfs made for the test, filled by a filler
 * file while the server runs. Then:
 *   - writes fail back to their clients with an error code (SYSTEMERROR), promptly;
 *   - reads keep working, the server neither exits nor restarts;
 *   - a write that failed is not applied, neither while the server runs nor after a
 *     restart;
 *   - when the filler is removed, writes succeed again without a restart;
 *   - after a restart, every acknowledged write is there.
 * Needs root (mount -t tmpfs); skipped, saying why, when the mount is refused. The
 * server is killed (by pid) before the tmpfs is unmounted.
 *
 * A full tmpfs still takes writes into pages it has already given a file: a flush can
 * write some records whole into the log's last page before the next page is refused.
 * The second test builds exactly that case.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fourLetterWord } from './helpers.js';
import { baseCfg, fillUp, makeTempDir, mountTmpfs, parseLogRecords, removeDir, startOursOnFreePort, version2Files, writeCfg, Zk, type Mount, type Proc } from './storage-helpers.js';

const SYSTEMERROR = -1;
const NONODE = -101;
const ROOT = '/d';

/** Bytes left in the 4 KiB page that holds the end of the newest log's last record. */
function roomInLastPage(dataDir: string): number {
  const log = version2Files(dataDir).logs.at(-1);
  if (log === undefined) return 0;
  const { validEnd } = parseLogRecords(readFileSync(log.path));
  return 4096 - (validEnd % 4096);
}

/** A server on a 3 MiB tmpfs, with a session, 30 acknowledged nodes and a model of what must (not) be there. */
class FullDiskFixture {
  proc: Proc | null = null;
  zk: Zk | null = null;
  /** What must be there: name under /d -> data (acknowledged writes). */
  readonly acked = new Map<string, Buffer>();
  /** Writes answered with an error: must never appear. */
  readonly failed = new Set<string>();
  readonly filler: string;
  readonly dataDir: string;
  makeCfg: (port: number) => string = () => '';
  port = 0;

  readonly mnt: string;

  private constructor(
    readonly dir: string,
    readonly mount: Mount,
  ) {
    this.mnt = mount.dir;
    this.filler = path.join(this.mnt, 'filler');
    this.dataDir = path.join(this.mnt, 'data');
  }

  /** Mount the tmpfs and start the server; null (the test skipped) if the mount is refused. */
  static async open(t: TestContext, snapCount = 100_000): Promise<FullDiskFixture | null> {
    const dir = makeTempDir('diskfull');
    const mnt = path.join(dir, 'fs');
    mkdirSync(mnt);
    let mount: Mount;
    try {
      mount = mountTmpfs(mnt, 'size=3m');
    } catch (e) {
      removeDir(dir);
      t.skip(`cannot mount a 3 MiB tmpfs here (${(e as Error).message.split('\n')[0]}); this test needs root`);
      return null;
    }
    const f = new FullDiskFixture(dir, mount);
    try {
      f.makeCfg = (port) => writeCfg(path.join(dir, 'zoo.cfg'), baseCfg(port, f.dataDir, { snapCount, preAllocSize: 64, 'autopurge.purgeInterval': 0 }));
      await f.start();
      f.zk = await Zk.connect(f.port);
      assert.equal((await f.zk.create(ROOT, null)).err, 0);
      for (let i = 0; i < 30; i++) assert.equal(await f.create(`before${i}`, Buffer.alloc(1024, i)), 0);
    } catch (e) {
      await f.close();
      throw e;
    }
    return f;
  }

  /** Start the server on a free port. */
  async start(): Promise<void> {
    const r = await startOursOnFreePort(this.makeCfg);
    this.proc = r.proc;
    this.port = r.port;
  }

  async create(name: string, data: Buffer): Promise<number> {
    const r = await this.zk!.create(`${ROOT}/${name}`, data);
    if (r.err === 0) this.acked.set(name, data);
    else this.failed.add(name);
    return r.err;
  }

  fillDisk(t: TestContext): void {
    const filled = fillUp(this.filler);
    t.diagnostic(`filler: ${filled} bytes; ${statfsSync(this.mnt).bavail} blocks left`);
  }

  /** Every acknowledged write is there with its data; no write answered with an error is. */
  async check(what: string, c: Zk = this.zk!): Promise<void> {
    const kids = await c.getChildren(ROOT);
    assert.equal(kids.err, 0);
    const got = new Set(kids.children);
    const lost = [...this.acked.keys()].filter((n) => !got.has(n));
    const appliedAfterError = [...this.failed].filter((n) => got.has(n));
    assert.deepEqual({ lost, appliedAfterError }, { lost: [], appliedAfterError: [] }, `${what}: acknowledged writes lost / writes answered with SYSTEMERROR applied`);
    for (const [n, d] of this.acked) {
      const r = await c.getData(`${ROOT}/${n}`);
      assert.ok(r.data?.equals(d), `${what}: ${n} has the acknowledged data`);
    }
  }

  /** SIGTERM, start again on the same files, check() through a new session. */
  async restart(what: string): Promise<void> {
    this.zk?.drop();
    this.zk = null;
    const exit = await this.proc!.stop();
    assert.equal(exit.code, 0, `SIGTERM ${what}: ${JSON.stringify(exit)}\n${this.proc!.output()}`);
    await this.start();
    this.zk = await Zk.connect(this.port);
    await this.check(`after a restart ${what}`);
  }

  /** Kill the server (by pid), then unmount and remove everything. */
  async close(): Promise<void> {
    this.zk?.drop();
    if (this.proc !== null) await this.proc.crash();
    try {
      this.mount.unmount();
    } finally {
      removeDir(this.dir);
    }
  }
}

describe('storage: disk full', () => {
  it('fails writes with SYSTEMERROR while reads go on, loses nothing acknowledged, and resumes writes once space returns', { timeout: 60_000 }, async (t) => {
    const f = await FullDiskFixture.open(t);
    if (f === null) return;
    try {
      const zk = f.zk!;
      f.fillDisk(t);
      for (let i = 0; i < 5; i++) {
        assert.equal(await f.create(`full${i}`, Buffer.alloc(20_000, i)), SYSTEMERROR, `create ${i} on the full disk`);
      }
      // Several in flight at once: every one gets its answer.
      const burst = await Promise.all([0, 1, 2, 3].map((i) => f.create(`full-burst${i}`, Buffer.alloc(10_000, i))));
      assert.deepEqual(burst, [SYSTEMERROR, SYSTEMERROR, SYSTEMERROR, SYSTEMERROR], 'pipelined creates on the full disk');
      const set = await zk.setData(`${ROOT}/before0`, Buffer.alloc(20_000, 0xcc));
      assert.equal(set.err, SYSTEMERROR, 'a setData on the full disk fails with SYSTEMERROR');
      await f.proc!.waitForLine(/Failed to write the txn log/, 5000);

      // Reads go on; the server is still the one we started.
      const before0 = await zk.getData(`${ROOT}/before0`);
      assert.equal(before0.err, 0);
      assert.ok(before0.data?.equals(f.acked.get('before0')!), 'the failed setData did not change the data');
      assert.equal(before0.stat?.version, 0, 'the failed setData did not bump the version');
      for (const name of f.failed) assert.equal((await zk.getData(`${ROOT}/${name}`)).err, NONODE, `${name} failed, yet it exists`);
      assert.equal(await fourLetterWord(f.port, 'ruok'), 'imok');
      assert.ok(f.proc!.running, `the server exited on a full disk\n${f.proc!.output()}`);
      assert.equal(f.proc!.lines.filter((l) => /Started standalone server/.test(l)).length, 1, 'the server restarted');
      await f.check('while the disk is full');

      // Space returns: writes resume by themselves.
      rmSync(f.filler);
      assert.equal(await f.create('after0', Buffer.from('the first write after the disk has room again')), 0, 'the first write after space returned');
      for (let i = 1; i < 5; i++) assert.equal(await f.create(`after${i}`, Buffer.alloc(20_000, i)), 0, `write ${i} after space returned`);
      const set2 = await zk.setData(`${ROOT}/before1`, Buffer.from('updated'));
      assert.equal(set2.err, 0);
      assert.equal(set2.stat?.version, 1);
      f.acked.set('before1', Buffer.from('updated'));
      await f.check('while running, after space returned');

      await f.restart('after the disk-full episode');
    } finally {
      await f.close();
    }
  });

  it(
    'writes resume after a disk-full episode long enough to reach the snapshot threshold (snapCount=10)',
    {
      timeout: 60_000,
    },
    async (t) => {
      const f = await FullDiskFixture.open(t, 10);
      if (f === null) return;
      try {
        f.fillDisk(t);
        for (let i = 0; i < 30; i++) assert.equal(await f.create(`full${i}`, Buffer.alloc(5000, i)), SYSTEMERROR, `create ${i} on the full disk`);
        await f.check('while the disk is full');
        rmSync(f.filler);
        const replies: number[] = [];
        for (let i = 0; i < 3; i++) replies.push(await f.create(`after${i}`, Buffer.from(`after ${i}`)));
        const why = f.proc!.lines.filter((l) => /Failed to write the txn log/.test(l)).at(-1) ?? '';
        assert.deepEqual(replies, [0, 0, 0], `writes after space returned (last failure logged: ${why.slice(why.indexOf('Failed'))})`);
        await f.check('while running, after space returned');
        await f.restart('after the episode');
      } finally {
        await f.close();
      }
    },
  );

  // Regression: a failed flush used to leave whole records past the durable end, whose
  // zxids the next writes reused; the writer now cuts files back to their durable end first.
  for (const variant of ['same length', 'longer'] as const) {
    it(
      `after writes failed with their records on disk, a later write (${variant === 'same length' ? 'a record as long as theirs' : 'a longer record'}): restart works, the failed writes stay unapplied`,
      { timeout: 60_000 },
      async (t) => {
        const f = await FullDiskFixture.open(t);
        if (f === null) return;
        try {
          // Room in the log's last page for the burst's small records.
          for (let i = 0; roomInLastPage(f.dataDir) < 1000; i++) assert.equal(await f.create(`align${i}`, Buffer.alloc(200, i)), 0);
          f.fillDisk(t);
          // Small records that fit the last page, then one that cannot, in one socket write so
          // that one flush writes the small ones whole, then fails. Names and data of equal
          // lengths: records of one length.
          const names = ['burst-s0', 'burst-s1', 'burst-s2', 'burst-s3', 'burst-big'];
          const replies = await f.zk!.createBatch(names.map((n, i) => ({ path: `${ROOT}/${n}`, data: i < 4 ? Buffer.from('abcd'[i]!) : Buffer.alloc(6000, 0xbb) })));
          const burst = replies.map((r, i) => {
            if (r.err === 0) f.acked.set(names[i]!, i < 4 ? Buffer.from('abcd'[i]!) : Buffer.alloc(6000, 0xbb));
            else f.failed.add(names[i]!);
            return r.err;
          });
          t.diagnostic(`burst replies: ${burst.join(', ')}`);
          assert.ok(burst.every((e) => e === 0 || e === SYSTEMERROR), `burst replies ${burst.join(', ')}: each OK or SYSTEMERROR`);
          assert.equal(burst[4], SYSTEMERROR, 'the 6 KB create fails');
          assert.deepEqual(burst, [SYSTEMERROR, SYSTEMERROR, SYSTEMERROR, SYSTEMERROR, SYSTEMERROR], 'the batch, logged in one flush, fails as a whole');
          await f.check('while the disk is full');

          rmSync(f.filler);
          // The first write after the failures ("resume-0" is as long as "burst-s0").
          const name = variant === 'same length' ? 'resume-0' : 'resume-000';
          assert.equal(await f.create(name, Buffer.from('e')), 0, 'the first write after space returned');
          await f.check('while running, after the first write');
          await f.restart('right after that write');
        } finally {
          await f.close();
        }
      },
    );
  }
});
