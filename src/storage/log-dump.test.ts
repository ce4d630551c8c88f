import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpCode } from '../jute/constants.js';
import { JuteWriter } from '../jute/io.js';
import { type TxnDigest, type TxnHeader, writeTxnHeader } from '../jute/records.gen.js';
import { type TxnBody } from '../jute/txn.js';
import { makeZxid } from '../util/zxid.js';
import { LogDumpError, type LogDumpOptions, decodeUtf8AsJava, javaOpName, javaShortLongDateFormat, logDump } from './log-dump.js';
import { TxnLogWriter, logFileName } from './txn-log.js';

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const TWO_ACLS = [...ACL, { perms: 1, id: { scheme: 'digest', id: 'bob:x,y}%' } }];
const T0 = 1_764_154_379_123; // 11/26/25, 10:52:59 AM UTC
const SESSION = 0x100000abc0000n;

let root = '';
let dirCount = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'log-dump-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = join(root, `d${dirCount++}`, 'version-2');
  await mkdir(dir, { recursive: true });
  return dir;
}

function hdr(counter: number, type: number, extra: Partial<TxnHeader> = {}): TxnHeader {
  return { clientId: SESSION, cxid: counter, zxid: makeZxid(1, counter), time: T0 + counter * 1000, type, ...extra };
}

/** An entry written byte by byte: a header, then `body` as is (for shapes the typed encoder cannot make). */
function rawEntry(h: TxnHeader, body: (w: JuteWriter) => void): Buffer {
  const w = new JuteWriter(128);
  writeTxnHeader(w, h);
  body(w);
  return w.toBuffer();
}

type Item = { hdr: TxnHeader; body: TxnBody; digest?: TxnDigest } | { raw: Buffer };

/** One of every kind of txn, and the oddities a dump must print as ZooKeeper does. */
function everyKindOfTxn(): Item[] {
  const d = (i: number): TxnDigest => ({ version: 2, treeDigest: BigInt(i) * 0x9e3779b97f4a7c15n });
  const items: Item[] = [];
  let n = 0;
  const add = (type: number, body: TxnBody, extra: Partial<TxnHeader> = {}, digest = true): void => {
    n++;
    items.push({ hdr: hdr(n, type, extra), body, ...(digest ? { digest: d(n) } : {}) });
  };
  const raw = (type: number, body: (w: JuteWriter) => void, extra: Partial<TxnHeader> = {}): void => {
    n++;
    items.push({ raw: rawEntry(hdr(n, type, extra), body) });
  };
  add(OpCode.createSession, { type: OpCode.createSession, txn: { timeOut: 30_000 } }, { cxid: 0 });
  add(OpCode.create, { type: OpCode.create, txn: { path: '/a', data: Buffer.from('hello'), acl: ACL, ephemeral: false, parentCVersion: 1 } });
  add(OpCode.create2, { type: OpCode.create2, txn: { path: '/a/b,c', data: null, acl: TWO_ACLS, ephemeral: true, parentCVersion: -1 } });
  add(OpCode.create, { type: OpCode.create, txn: { path: '/empty', data: Buffer.alloc(0), acl: [], ephemeral: false, parentCVersion: 2 } });
  add(OpCode.createTTL, { type: OpCode.createTTL, txn: { path: '/ttl', data: Buffer.from('x'), acl: ACL, parentCVersion: 3, ttl: 60_000 } });
  add(OpCode.createContainer, { type: OpCode.createContainer, txn: { path: '/c', data: Buffer.from('héllo ☃ 😀'), acl: ACL, parentCVersion: 4 } });
  add(OpCode.setData, { type: OpCode.setData, txn: { path: '/a', data: Buffer.from('line1\nline2,}%'), version: 0 } }, {}, false);
  add(OpCode.setData, { type: OpCode.setData, txn: { path: '/bin', data: Buffer.from([0, 1, 0x7f, 0x80, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98]), version: 7 } });
  add(OpCode.reconfig, { type: OpCode.reconfig, txn: { path: '/zookeeper/config', data: Buffer.from('server.1=localhost:2888:3888;2181\nversion=100000000'), version: -1 } });
  add(OpCode.setACL, { type: OpCode.setACL, txn: { path: '/a,b\n}', acl: TWO_ACLS, version: 3 } });
  add(OpCode.setACL, { type: OpCode.setACL, txn: { path: '/noacl', acl: [], version: 0 } });
  add(OpCode.delete, { type: OpCode.delete, txn: { path: '/a/b%c\0' } });
  add(OpCode.deleteContainer, { type: OpCode.deleteContainer, txn: { path: '/c' } });
  add(OpCode.error, { type: OpCode.error, txn: { err: -101 } });
  add(OpCode.multi, {
    type: OpCode.multi,
    txns: [
      { type: OpCode.check, txn: { path: '/', version: -1 } },
      { type: OpCode.create, txn: { path: '/m', data: Buffer.from('data'), acl: ACL, ephemeral: false, parentCVersion: 5 } },
      { type: OpCode.setData, txn: { path: '/m', data: Buffer.from([0xc8, 0x41, 0xe0, 0x80]), version: 0 } },
      { type: OpCode.delete, txn: { path: '/m' } },
      { type: OpCode.error, txn: { err: 0 } },
    ],
  });
  add(OpCode.multi, { type: OpCode.multi, txns: [] });
  add(OpCode.closeSession, { type: OpCode.closeSession, txn: { paths2Delete: ['/eph1', '/eph,2'] } });
  add(OpCode.closeSession, { type: OpCode.closeSession, txn: { paths2Delete: [] } }, { clientId: -2n, cxid: -2 });
  add(OpCode.createSession, { type: OpCode.createSession, txn: { timeOut: 4000 } }, { clientId: 0xffff_0000_0000_0001n, time: 0 });
  // A closeSession from before CloseSessionTxn: no body, no digest.
  raw(OpCode.closeSession, () => {});
  // A create from before parentCVersion (CreateTxnV0).
  raw(OpCode.create, (w) => {
    w.writeString('/v0');
    w.writeBuffer(Buffer.from('old'));
    w.writeVectorLength(1);
    w.writeInt(31);
    w.writeString('world');
    w.writeString('anyone');
    w.writeBool(true);
  });
  // Null path, data and ACL vector: ZooKeeper never writes them, but prints them.
  raw(OpCode.create, (w) => {
    w.writeInt(-1);
    w.writeInt(-1);
    w.writeInt(-1);
    w.writeBool(false);
    w.writeInt(9);
  });
  raw(OpCode.delete, (w) => w.writeInt(-1));
  raw(OpCode.setACL, (w) => {
    w.writeString('/nullacl');
    w.writeInt(-1);
    w.writeInt(1);
  });
  // A multi holding what DataTree would refuse (a setACL): Java prints it all the same.
  raw(OpCode.multi, (w) => {
    w.writeVectorLength(2);
    w.writeInt(OpCode.setACL);
    w.writeBuffer(Buffer.from('\u0000\u0000\u0000\u0002/x'));
    w.writeInt(OpCode.addWatch);
    w.writeBuffer(null);
  });
  return items;
}

async function writeItems(dir: string, items: readonly Item[]): Promise<string> {
  const first = items[0]!;
  const firstZxid = 'raw' in first ? makeZxid(1, 1) : first.hdr.zxid;
  const w = new TxnLogWriter({ dir, preAllocSizeBytes: 64 * 1024 });
  for (const item of items) {
    if ('raw' in item) w.appendEncoded(item.raw);
    else w.append(item.hdr, item.body, item.digest ?? null);
  }
  await w.close();
  return join(dir, logFileName(firstZxid));
}

async function dump(file: string, opts: LogDumpOptions = {}): Promise<{ lines: string[]; text: string; error: LogDumpError | null }> {
  const lines: string[] = [];
  let error: LogDumpError | null = null;
  try {
    await logDump(file, (l) => void lines.push(l), { timeZone: 'UTC', ...opts });
  } catch (e) {
    if (!(e instanceof LogDumpError)) throw e;
    error = e;
  }
  return { lines, text: lines.map((l) => `${l}\n`).join(''), error };
}

/** Flip one byte of a file. */
async function patchByte(file: string, offset: number, value: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.write(Buffer.from([value]), 0, 1, offset);
  } finally {
    await fh.close();
  }
}

/** A txn log file written by Apache ZooKeeper 3.8.0, and what its TxnLogToolkit prints for it (TZ UTC). */
const APACHE_LOG_BASE64 = [
  'WktMRwAAAAIAAAAAAAAAAAAAAACpSgmlAAAAMAEAACovXwAAAAAAAAAAAAAAAAABAAABohemPNX////2AAAnEAAAAAIAAAAAUcbW',
  'YEIAAAAAQrsRegAAAGgBAAAqL18AAAAAAAAAAAAAAAAAAgAAAaIXpjzvAAAAAQAAAAQvYXBwAAAAEGjDqWxsbywgd29ybGR9JQoA',
  'AAABAAAAHwAAAAV3b3JsZAAAAAZhbnlvbmUAAAAAAQAAAAIAAAABN2ijUEIAAAAAeL0QIgAAAGIBAAAqL18AAAAAAAEAAAAAAAAA',
  'AwAAAaIXpj0GAAAAAQAAAAgvYXBwL2VwaAAAAAYAAf/toIAAAAABAAAAHwAAAAV3b3JsZAAAAAZhbnlvbmUBAAAAAQAAAAIAAAAB',
  'upq52kIAAAAAMN0RxwAAAGcBAAAqL18AAAAAAAIAAAAAAAAABAAAAaIXpj0KAAAAAQAAABMvYXBwL3NlcS0wMDAwMDAwMDAx////',
  '/wAAAAEAAAAfAAAABXdvcmxkAAAABmFueW9uZQAAAAACAAAAAgAAAAHkSyInQgAAAACcHgXYAAAAPgEAACovXwAAAAAAAwAAAAAA',
  'AAAFAAABohemPQ8AAAAFAAAABC9hcHAAAAACdjIAAAABAAAAAgAAAAIQHmetQgAAAABqoA6ZAAAAagEAACovXwAAAAAABAAAAAAA',
  'AAAGAAABohemPRUAAAAHAAAABC9hcHAAAAACAAAAHwAAAAV3b3JsZAAAAAZhbnlvbmUAAAABAAAAAmlwAAAACTEyNy4wLjAuMQAA',
  'AAEAAAACAAAAAfzzU+pCAAAAAD8DEtkAAACpAQAAKi9fAAAAAAAFAAAAAAAAAAcAAAGiF6Y9JAAAAA4AAAAEAAAADQAAAAwAAAAE',
  'L2FwcAAAAAIAAAABAAAALwAAAAYvYXBwL20AAAABbQAAAAEAAAAfAAAABXdvcmxkAAAABmFueW9uZQAAAAADAAAABQAAABQAAAAG',
  'L2FwcC9tAAAAAm0yAAAAAQAAAAIAAAAKAAAABi9hcHAvbQAAAAIAAAACf6q6T0IAAAAAwKEXmAAAAHIBAAAqL18AAAAAAAYAAAAA',
  'AAAACAAAAaIXpj0uAAAADgAAAAIAAAABAAAALgAAAAYvYXBwL3j/////AAAAAQAAAB8AAAAFd29ybGQAAAAGYW55b25lAAAAAAT/',
  '////AAAABP///5kAAAACAAAAAn+quk9CAAAAAFIcClwAAAAkAQAAKi9fAAAAAAAHAAAAAAAAAAkAAAGiF6Y9Yf////////+bQgAA',
  'AABSYQphAAAAJAEAACovXwAAAAAACAAAAAAAAAAKAAABohemPWT/////////m0IAAAAAHp8K6wAAADwBAAAqL18AAAAAAAkAAAAA',
  'AAAACwAAAaIXpj1r////9QAAAAEAAAAIL2FwcC9lcGgAAAACAAAAAYQcgRpC',
].join('');
const APACHE_LOG_BYTES = 65552;
const APACHE_LOG_DUMP = "ZooKeeper Transactional Log File with dbid 0 txnlog format version 2\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x0 zxid 0x1 createSession 10000\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x0 zxid 0x2 create /app,héllo, world}%\n,[31,s{'world,'anyone}\n],false,1\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x1 zxid 0x3 create /app/eph,\u0000\u0001\uFFFD\uFFFD,[31,s{'world,'anyone}\n],true,1\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x2 zxid 0x4 create /app/seq-0000000001,,[31,s{'world,'anyone}\n],false,2\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x3 zxid 0x5 setData /app,v2,1\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x4 zxid 0x6 setACL '/app,v{s{31,s{'world,'anyone}},s{1,s{'ip,'127.0.0.1}}},1\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x5 zxid 0x7 multi check:\u0000\u0000\u0000\u0004/app\u0000\u0000\u0000\u0002;create:\u0000\u0000\u0000\u0006/app/m\u0000\u0000\u0000\u0001m\u0000\u0000\u0000\u0001\u0000\u0000\u0000\u001f\u0000\u0000\u0000\u0005world\u0000\u0000\u0000\u0006anyone\u0000\u0000\u0000\u0000\u0003;setData:\u0000\u0000\u0000\u0006/app/m\u0000\u0000\u0000\u0002m2\u0000\u0000\u0000\u0001;delete:\u0000\u0000\u0000\u0006/app/m\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x6 zxid 0x8 multi create:\u0000\u0000\u0000\u0006/app/x\uFFFD\uFFFD\uFFFD\uFFFD\u0000\u0000\u0000\u0001\u0000\u0000\u0000\u001f\u0000\u0000\u0000\u0005world\u0000\u0000\u0000\u0006anyone\u0000\u0000\u0000\u0000\u0004;error:\uFFFD\uFFFD\uFFFD\uFFFD\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x7 zxid 0x9 error -101\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x8 zxid 0xa error -101\n11/26/26, 11:38:20 AM UTC session 0x100002a2f5f0000 cxid 0x9 zxid 0xb closeSession v{'/app/eph}\nEOF reached after 11 txns.\n";

// ---------------------------------------------------------------------------
// Apache ZooKeeper's TxnLogToolkit, when Java and the Debian jars are installed
// ---------------------------------------------------------------------------

const ZK_CLASSPATH = ['/usr/share/java/zookeeper.jar', '/usr/share/java/zookeeper-jute.jar', '/usr/share/java/slf4j-nop.jar'];

function javaAvailable(): boolean {
  if (!ZK_CLASSPATH.every((f) => existsSync(f))) return false;
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return r.status === 0;
}
const JAVA = javaAvailable();
const SKIP_JAVA = JAVA ? false : 'java or /usr/share/java/zookeeper*.jar not installed';

function txnLogToolkit(file: string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(
    'java',
    ['-Duser.timezone=UTC', '-Duser.language=en', '-Duser.country=US', '-Dfile.encoding=UTF-8', '-cp', ZK_CLASSPATH.join(':'), 'org.apache.zookeeper.server.persistence.TxnLogToolkit', file],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('logDump text, as TxnLogToolkit', () => {
  it('prints the header, one line per txn and the EOF line', async () => {
    const file = await writeItems(await freshDir(), everyKindOfTxn());
    const { lines, error } = await dump(file);
    assert.equal(error, null);
    assert.equal(lines[0], 'ZooKeeper Transactional Log File with dbid 0 txnlog format version 2');
    assert.equal(lines[1], '11/26/25, 10:53:00 AM UTC session 0x100000abc0000 cxid 0x0 zxid 0x100000001 createSession 30000');
    assert.equal(lines[2], "11/26/25, 10:53:01 AM UTC session 0x100000abc0000 cxid 0x2 zxid 0x100000002 create /a,hello,[31,s{'world,'anyone}\n],false,1");
    assert.equal(
      lines[3],
      "11/26/25, 10:53:02 AM UTC session 0x100000abc0000 cxid 0x3 zxid 0x100000003 create2 /a/b,c,,[31,s{'world,'anyone}\n, 1,s{'digest,'bob:x%2Cy%7D%25}\n],true,-1",
    );
    assert.equal(lines[4], '11/26/25, 10:53:03 AM UTC session 0x100000abc0000 cxid 0x4 zxid 0x100000004 create /empty,,[],false,2');
    assert.equal(lines[5], "11/26/25, 10:53:04 AM UTC session 0x100000abc0000 cxid 0x5 zxid 0x100000005 createTtl /ttl,x,[31,s{'world,'anyone}\n],3,60000");
    assert.match(lines[7]!, / setData \/a,line1\nline2,}%,0$/);
    assert.match(lines[10]!, / setACL '\/a%2Cb%0A%7D,v\{s\{31,s\{'world,'anyone\}\},s\{1,s\{'digest,'bob:x%2Cy%7D%25\}\}\},3$/);
    assert.match(lines[11]!, / setACL '\/noacl,v\{\},0$/);
    assert.match(lines[12]!, / delete '\/a\/b%25c%00$/);
    assert.match(lines[14]!, / error -101$/);
    assert.match(lines[15]!, / multi check:\0\0\0\u0001\/\uFFFD\uFFFD\uFFFD\uFFFD;create:/);
    assert.match(lines[16]!, / multi $/);
    assert.match(lines[17]!, / closeSession v\{'\/eph1,'\/eph%2C2\}$/);
    assert.match(lines[18]!, /session 0xfffffffffffffffe cxid 0xfffffffffffffffe .* closeSession v\{\}$/);
    assert.equal(lines[19], '1/1/70, 12:00:00 AM UTC session 0xffff000000000001 cxid 0x13 zxid 0x100000013 createSession 4000');
    assert.match(lines[20]!, / closeSession $/);
    assert.match(lines[21]!, / create \/v0,old,\[31,s\{'world,'anyone\}\n\],true,-1$/);
    assert.match(lines[22]!, / create null,,null,false,9$/);
    assert.match(lines[23]!, / delete $/);
    assert.match(lines[24]!, / setACL '\/nullacl,v\{\},1$/);
    assert.match(lines[25]!, / multi setACL:\0\0\0\u0002\/x;unknown 106:$/);
    assert.equal(lines.at(-1), 'EOF reached after 25 txns.');
  });

  it('prints exactly what Apache ZooKeeper 3.8 TxnLogToolkit prints', { skip: SKIP_JAVA }, async () => {
    const file = await writeItems(await freshDir(), everyKindOfTxn());
    const java = txnLogToolkit(file);
    assert.equal(java.status, 0, java.stderr);
    const ours = await dump(file);
    assert.equal(ours.error, null);
    assert.equal(ours.text, java.stdout);
  });

  it('prints a record whose checksum is wrong twice, the first time after "CRC ERROR - "', async () => {
    const items = everyKindOfTxn().slice(0, 3);
    const file = await writeItems(await freshDir(), items);
    // The second record starts after the header and the first record; its checksum's low byte is at +7.
    const firstLength = (await readFile(file)).readInt32BE(16 + 8);
    const second = 16 + 13 + firstLength;
    const bytes = await readFile(file);
    await patchByte(file, second + 7, bytes[second + 7]! ^ 0xff);
    const { lines, error, text } = await dump(file);
    assert.equal(error, null);
    assert.equal(lines.length, 6);
    assert.equal(lines[2], `CRC ERROR - ${lines[3]}`);
    assert.match(lines[3]!, / create \/a,hello,/);
    if (JAVA) assert.equal(text, txnLogToolkit(file).stdout);
  });

  it('stops with "Last transaction was partial." on a missing 0x42, after printing that txn', async () => {
    const file = await writeItems(await freshDir(), everyKindOfTxn().slice(0, 3));
    const firstLength = (await readFile(file)).readInt32BE(16 + 8);
    await patchByte(file, 16 + 12 + firstLength, 0x43);
    const { lines, error, text } = await dump(file);
    assert.ok(error);
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /^Last transaction was partial\./);
    assert.equal(lines.length, 2);
    if (JAVA) {
      const java = txnLogToolkit(file);
      assert.equal(java.status, 1);
      assert.equal(java.stderr.trim(), 'Last transaction was partial.');
      assert.equal(text, java.stdout);
    }
  });

  it('ends at a record cut short by the end of the file (a torn tail), as at the padding', async () => {
    const file = await writeItems(await freshDir(), everyKindOfTxn().slice(0, 3));
    const firstLength = (await readFile(file)).readInt32BE(16 + 8);
    const secondLength = (await readFile(file)).readInt32BE(16 + 13 + firstLength + 8);
    for (const cut of [16 + 13 + firstLength + 5, 16 + 13 + firstLength + 12 + secondLength - 1, 16]) {
      await truncate(file, cut);
      const { lines, error } = await dump(file);
      assert.equal(error, null);
      assert.equal(lines.at(-1), `EOF reached after ${cut === 16 ? 0 : 1} txns.`);
    }
  });

  it('refuses a file that is not a txn log, with exit code 2 as TxnLogToolkit', async () => {
    const dir = await freshDir();
    const file = join(dir, 'snapshot.1');
    await writeFile(file, Buffer.from('ZKSN\0\0\0\x02\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1'));
    const { lines, error } = await dump(file);
    assert.equal(lines.length, 0);
    assert.ok(error);
    assert.equal(error.message, 'Invalid magic number for snapshot.1');
    assert.equal(error.exitCode, 2);
    if (JAVA) {
      const java = txnLogToolkit(file);
      assert.equal(java.status, 2);
      assert.equal(java.stderr.trim(), 'Invalid magic number for snapshot.1');
    }
  });

  it('says what is wrong with a missing file, a short file, a huge length and an undecodable txn', async () => {
    const dir = await freshDir();
    const missing = await dump(join(dir, 'log.404'));
    assert.equal(missing.error?.message, `File doesn't exist or not readable: ${join(dir, 'log.404')}`);
    assert.equal(missing.error?.exitCode, 1);

    const short = join(dir, 'log.1');
    await writeFile(short, 'ZKLG');
    assert.match((await dump(short)).error?.message ?? '', /too short for the 16-byte header/);

    const file = await writeItems(await freshDir(), everyKindOfTxn().slice(0, 2));
    await patchByte(file, 16 + 8, 0x7f); // length 0x7f......
    const huge = await dump(file);
    assert.match(huge.error?.message ?? '', /Unreasonable length = \d+ in the record at byte 16 \(after 0 txns\)/);
    assert.equal(huge.lines.length, 1);

    const unsupported = await writeItems(await freshDir(), [{ raw: rawEntry(hdr(1, 99), () => {}) }]);
    const bad = await dump(unsupported);
    assert.match(bad.error?.message ?? '', /does not decode: Unsupported Txn with type=%d99/);
    assert.equal(bad.error?.exitCode, 1);

    const nullMulti = await writeItems(await freshDir(), [{ raw: rawEntry(hdr(1, OpCode.multi), (w) => w.writeInt(-1)) }]);
    assert.match((await dump(nullMulti)).error?.message ?? '', /does not decode: a multi txn whose txns vector is null/);
    const truncated = await writeItems(await freshDir(), [{ raw: rawEntry(hdr(1, OpCode.setData), (w) => w.writeString('/a')) }]);
    assert.match((await dump(truncated)).error?.message ?? '', /does not decode: java\.io\.EOFException/);
  });

  it('prints a log written by an Apache ZooKeeper 3.8.0 server as its TxnLogToolkit does', async () => {
    // Written by ZooKeeperServerMain (preAllocSize=64) for a node-zookeeper-client session:
    // create, ephemeral create with binary data, sequential create, setData, setACL, a multi,
    // a failed multi (error sub-txn), a failed delete's error txn, closeSession. Stored without
    // its zero padding, which is put back here.
    const file = join(await freshDir(), 'log.1');
    const bytes = Buffer.alloc(APACHE_LOG_BYTES);
    Buffer.from(APACHE_LOG_BASE64, 'base64').copy(bytes);
    await writeFile(file, bytes);
    const { text, error } = await dump(file);
    assert.equal(error, null);
    assert.equal(text, APACHE_LOG_DUMP);
    if (JAVA) assert.equal(txnLogToolkit(file).stdout, APACHE_LOG_DUMP);
  });
});

describe('logDump --json', () => {
  it('prints one JSON object per txn, and nothing else', async () => {
    const items = everyKindOfTxn();
    const file = await writeItems(await freshDir(), items);
    const { lines, error } = await dump(file, { json: true });
    assert.equal(error, null);
    assert.equal(lines.length, items.length);
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(objs[0], {
      offset: 16,
      session: '0x100000abc0000',
      cxid: 0,
      zxid: '0x100000001',
      time: T0 + 1000,
      date: new Date(T0 + 1000).toISOString(),
      type: 'createSession',
      txn: { timeOut: 30000 },
      digest: { version: 2, treeDigest: (0x9e3779b97f4a7c15n - (1n << 64n)).toString() },
      crcOk: true,
    });
    assert.deepEqual(objs[1]!['txn'], {
      path: '/a',
      data: Buffer.from('hello').toString('base64'),
      dataText: 'hello',
      acl: [{ perms: 31, scheme: 'world', id: 'anyone' }],
      ephemeral: false,
      parentCVersion: 1,
    });
    assert.equal((objs[7]!['txn'] as Record<string, unknown>)['dataText'], undefined, 'binary data has no text');
    assert.equal(objs[6]!['digest'], null);
    const multi = objs[14]!['txn'] as { txns: Record<string, unknown>[] };
    assert.deepEqual(
      multi.txns.map((t) => t['type']),
      ['check', 'create', 'setData', 'delete', 'error'],
    );
    assert.deepEqual(multi.txns[0], { type: 'check', txn: { path: '/', version: -1 } });
    assert.deepEqual(objs[19]!['txn'], null, 'closeSession without a body');
    const odd = objs[24]!['txn'] as { txns: Record<string, unknown>[] };
    assert.match(String(odd.txns[0]!['error']), /Invalid type of op: 7/);
    assert.equal(odd.txns[1]!['data'], null);
    assert.equal(objs[17]!['session'], '0xfffffffffffffffe');
    assert.equal(objs[17]!['cxid'], -2);
  });

  it('flags a checksum mismatch instead of printing the txn twice', async () => {
    const file = await writeItems(await freshDir(), everyKindOfTxn().slice(0, 1));
    await patchByte(file, 16 + 7, 0);
    const { lines } = await dump(file, { json: true });
    assert.equal(lines.length, 1);
    const obj = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(obj['crcOk'], false);
    assert.match(String(obj['crcStored']), /^0x[0-9a-f]+$/);
    assert.match(String(obj['crcComputed']), /^0x[0-9a-f]+$/);
  });
});

describe('log-dump helpers', () => {
  it('names ops as Request.op2String', () => {
    assert.equal(javaOpName(OpCode.createTTL), 'createTtl');
    assert.equal(javaOpName(OpCode.addWatch), 'unknown 106');
    assert.equal(javaOpName(OpCode.closeSession), 'closeSession');
  });

  it('formats dates as DateFormat SHORT/LONG in en_US', () => {
    const fmt = javaShortLongDateFormat('UTC');
    assert.equal(fmt(BigInt(T0)), '11/26/25, 10:52:59 AM UTC');
    assert.equal(fmt(0n), '1/1/70, 12:00:00 AM UTC');
    assert.equal(fmt(43_200_000n), '1/1/70, 12:00:00 PM UTC');
    assert.equal(javaShortLongDateFormat('America/Los_Angeles')(BigInt(T0)), '11/26/25, 2:52:59 AM PST');
    assert.equal(fmt(1n << 60n), String(1n << 60n));
  });

  it('decodes bad UTF-8 as Java does, not as TextDecoder does', () => {
    const cases: Array<[number[], string]> = [
      [[0x41, 0x42], 'AB'],
      [[0xe2, 0x98, 0x83], '☃'],
      [[0xed, 0xa0, 0x80], '\uFFFD'], // an encoded surrogate: one replacement in Java, three in TextDecoder
      [[0xc0, 0xaf], '\uFFFD\uFFFD'],
      [[0xff, 0xc3, 0x41], '\uFFFD\uFFFDA'],
      [[0xf0, 0x9f, 0x98], '\uFFFD'],
      [[0xe0, 0x80, 0x41], '\uFFFD\uFFFDA'],
      [[0xf4, 0x90, 0x80, 0x80], '\uFFFD\uFFFD\uFFFD\uFFFD'],
    ];
    for (const [bytes, want] of cases) assert.equal(decodeUtf8AsJava(Buffer.from(bytes)), want, Buffer.from(bytes).toString('hex'));
  });
});
