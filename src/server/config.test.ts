import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import {
  ConfigError,
  applyMyid,
  defaultConfDir,
  loadConfig,
  parseJvmFlags,
  parseProperties,
  parseZooCfg,
  readMyid,
  resolveConfigPath,
  type ServerConfig,
} from './config.js';

const FILE = '/etc/zk/zoo.cfg';
const BASE = 'dataDir=/data/zookeeper\nclientPort=2181\n';
const ENSEMBLE =
  'tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/data/zookeeper\nclientPort=2181\n' +
  'server.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\n';

function parse(text: string, env: Record<string, string | undefined> = {}): ServerConfig {
  return parseZooCfg(text, FILE, env);
}

/** Assert fn throws a ConfigError naming file, line and key, with an "expected" fix and the given fragments. */
function assertConfigError(
  fn: () => unknown,
  want: { file?: string; line?: number; key?: string; includes?: Array<string | RegExp> },
): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  const err = caught;
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'ConfigError');
  const file = want.file ?? FILE;
  assert.equal(err.file, file);
  assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`);
  if (want.line !== undefined) {
    assert.equal(err.line, want.line);
    assert.ok(err.message.includes(`line ${want.line}`), `message should name line ${want.line}: ${err.message}`);
  }
  if (want.key !== undefined) {
    assert.equal(err.key, want.key);
    assert.ok(err.message.includes(want.key), `message should name ${want.key}: ${err.message}`);
  }
  for (const frag of want.includes ?? []) {
    if (typeof frag === 'string') assert.ok(err.message.includes(frag), `message should include "${frag}": ${err.message}`);
    else assert.match(err.message, frag);
  }
  return err;
}

describe('parseProperties (java.util.Properties syntax)', () => {
  it('accepts key=value, key: value and key value, trimming both sides', () => {
    const entries = parseProperties('  a = 1  \nb: 2\nc 3\nd\t=\t4\ne:=5\n');
    assert.deepEqual(entries.map((e) => [e.key, e.value, e.line]), [
      ['a', '1', 1], ['b', '2', 2], ['c', '3', 3], ['d', '4', 4], ['e', '=5', 5],
    ]);
  });

  it('skips # and ! comments and blank lines, and has no end-of-line comments', () => {
    const entries = parseProperties('# comment\n   ! another\n\n\t\nk=v # not a comment\n');
    assert.deepEqual(entries.map((e) => [e.key, e.value, e.line]), [['k', 'v # not a comment', 5]]);
  });

  it('joins continuation lines, dropping their leading whitespace', () => {
    const entries = parseProperties('list=a,\\\n    b,\\\n    c\nnext=1\n# comment \\\nafter=2\n');
    assert.deepEqual(entries.map((e) => [e.key, e.value, e.line]), [
      ['list', 'a,b,c', 1], ['next', '1', 4], ['after', '2', 6],
    ]);
  });

  it('handles escapes, CRLF and a BOM', () => {
    const entries = parseProperties('\uFEFFk\\ ey=\\u0041\\t\\:x\r\npath=C:\\\\zk\r\nodd=a\\\\\\\r\n  b\r\n');
    assert.deepEqual(entries.map((e) => [e.key, e.value]), [['k ey', 'A\t:x'], ['path', 'C:\\zk'], ['odd', 'a\\b']]);
  });

  it('rejects a malformed \\u escape with the line number', () => {
    assertConfigError(() => parseProperties('a=1\nb=\\u12G4\n', FILE), { line: 2, includes: ['\\u', 'expected four hex digits'] });
  });
});

describe('parseJvmFlags', () => {
  it('extracts -D properties, honouring shell quotes', () => {
    assert.deepEqual(parseJvmFlags(`-Xmx1g -Da=1 "-Db=two words" -Dc='x y' -Dd="q\\"q" -De -Df=a=b -XX:+UseG1GC`), [
      { name: 'a', value: '1' },
      { name: 'b', value: 'two words' },
      { name: 'c', value: 'x y' },
      { name: 'd', value: 'q"q' },
      { name: 'e', value: '' },
      { name: 'f', value: 'a=b' },
    ]);
    assert.deepEqual(parseJvmFlags(''), []);
  });
});

describe('parseZooCfg defaults', () => {
  it('fills in ZooKeeper defaults for a minimal config', () => {
    const c = parse('dataDir=/data/zookeeper\nclientPort=2181\n');
    assert.equal(c.configFile, FILE);
    assert.equal(c.tickTimeMs, 2000);
    assert.equal(c.initLimitTicks, 0);
    assert.equal(c.syncLimitTicks, 0);
    assert.equal(c.dataDir, '/data/zookeeper');
    assert.equal(c.dataLogDir, '/data/zookeeper');
    assert.equal(c.clientPort, 2181);
    assert.equal(c.clientPortAddress, '0.0.0.0');
    assert.equal(c.secureClientPort, undefined);
    assert.equal(c.maxClientCnxns, 60);
    assert.equal(c.minSessionTimeoutMs, 4000);
    assert.equal(c.maxSessionTimeoutMs, 40000);
    assert.equal(c.autopurgeSnapRetainCount, 3);
    assert.equal(c.autopurgePurgeIntervalHours, 0);
    assert.equal(c.autopurgePurgeIntervalExplicit, false);
    assert.equal(c.standaloneEnabled, true);
    assert.equal(c.reconfigEnabled, false);
    assert.equal(c.electionAlg, 3);
    assert.equal(c.peerType, 'participant');
    assert.equal(c.syncEnabled, true);
    assert.equal(c.standalone, true);
    assert.equal(c.servers.size, 0);
    assert.equal(c.myid, undefined);
    assert.equal(c.juteMaxBufferBytes, 0xfffff);
    assert.equal(c.globalOutstandingLimit, 1000);
    assert.equal(c.snapCount, 100000);
    assert.equal(c.preAllocSizeBytes, 65536 * 1024);
    assert.equal(c.snapSizeLimitBytes, 4194304 * 1024);
    assert.equal(c.txnLogSizeLimitBytes, 0);
    assert.equal(c.forceSync, true);
    assert.equal(c.fsyncWarningThresholdMs, 1000);
    assert.equal(c.extendedTypesEnabled, false);
    assert.equal(c.readOnlyModeEnabled, false);
    assert.equal(c.superDigest, undefined);
    assert.equal(c.skipAcl, false);
    assert.deepEqual(c.fourLetterWordWhitelist, new Set(['srvr', 'stat', 'ruok', 'mntr', 'isro']));
    assert.equal(c.fourLetterWordWhitelistExplicit, false);
    assert.equal(c.fourLetterWordWhitelistRaw, undefined);
    assert.equal(c.adminServerEnabled, true);
    assert.equal(c.adminServerAddress, '0.0.0.0');
    assert.equal(c.adminServerPort, 8080);
    assert.equal(c.adminCommandUrl, '/commands');
    assert.equal(c.dataDirAutocreate, true);
    assert.equal(c.properties.size, 0);
    assert.deepEqual(c.warnings, []);
  });

  it('derives session timeout bounds from tickTime', () => {
    const c = parse(`tickTime=500\n${BASE}`);
    assert.equal(c.minSessionTimeoutMs, 1000);
    assert.equal(c.maxSessionTimeoutMs, 10000);
  });

  it('reads the usual keys, including `key: value` and `key value` lines', () => {
    const c = parse(
      'tickTime: 3000\ndataDir /var/zk\ndataLogDir = /var/zk-log\nclientPort:2182\nclientPortAddress=[::1]\n' +
        'secureClientPort=2281\nmaxClientCnxns 0\nminSessionTimeout=5000\nmaxSessionTimeout=90000\n' +
        'autopurge.snapRetainCount=5\nautopurge.purgeInterval=-2\nreconfigEnabled=TRUE\nlocalSessionsEnabled=true\n' +
        'metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=7000\n');
    assert.equal(c.tickTimeMs, 3000);
    assert.equal(c.dataDir, '/var/zk');
    assert.equal(c.dataLogDir, '/var/zk-log');
    assert.equal(c.clientPort, 2182);
    assert.equal(c.clientPortAddress, '::1');
    assert.equal(c.secureClientPort, 2281);
    assert.equal(c.secureClientPortAddress, '0.0.0.0');
    assert.equal(c.maxClientCnxns, 0);
    assert.equal(c.minSessionTimeoutMs, 5000);
    assert.equal(c.maxSessionTimeoutMs, 90000);
    assert.equal(c.autopurgeSnapRetainCount, 5);
    assert.equal(c.autopurgePurgeIntervalHours, -2);
    assert.equal(c.autopurgePurgeIntervalExplicit, true);
    assert.equal(c.reconfigEnabled, true);
    assert.equal(c.localSessionsEnabled, true);
    assert.equal(c.metricsProviderConfig.get('httpPort'), '7000');
    assert.deepEqual(c.warnings, []);
  });

  it('raises autopurge.snapRetainCount below 3 to 3 with a warning, as ZooKeeper does', () => {
    const c = parse(`${BASE}autopurge.snapRetainCount=1\n`);
    assert.equal(c.autopurgeSnapRetainCount, 3);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0]!, /zoo\.cfg line 3: autopurge\.snapRetainCount=1 .*using 3/);
  });

  it('warns when a key is repeated and keeps the last value', () => {
    const c = parse(`${BASE}tickTime=1000\ntickTime=3000\n`);
    assert.equal(c.tickTimeMs, 3000);
    assert.match(c.warnings[0]!, /line 4: tickTime is set again \(first on line 3\)/);
  });

  it('warns about relative data directories and eaten backslashes', () => {
    const c = parse('dataDir=C:\\data\\zk\nclientPort=2181\n');
    assert.equal(c.dataDir, 'C:datazk');
    assert.ok(c.warnings.some((w) => w.includes('line 1: dataDir contains backslashes')));
    assert.ok(c.warnings.some((w) => w.includes('relative path')));
  });
});

describe('parseZooCfg errors', () => {
  it('rejects a non-numeric tickTime with the documented message', () => {
    const err = assertConfigError(() => parse(`dataDir=/d\nclientPort=2181\ntickTime=abc\n`), { line: 3, key: 'tickTime' });
    assert.equal(err.message,
      'Invalid config /etc/zk/zoo.cfg line 3: tickTime=abc is not a number; expected a positive integer of milliseconds, e.g. tickTime=2000');
  });

  it('points out that end-of-line comments are not comments', () => {
    assertConfigError(() => parse(`${BASE}tickTime=2000 # two seconds\n`),
      { line: 3, key: 'tickTime', includes: ['no end-of-line comments', 'expected'] });
  });

  it('rejects zero and negative tickTime', () => {
    assertConfigError(() => parse(`${BASE}tickTime=0\n`), { line: 3, key: 'tickTime', includes: ['out of range', 'e.g. tickTime=2000'] });
    assertConfigError(() => parse(`${BASE}tickTime=-5\n`), { line: 3, key: 'tickTime', includes: ['out of range'] });
  });

  it('rejects bad ports', () => {
    assertConfigError(() => parse('dataDir=/d\nclientPort=-1\n'), { line: 2, key: 'clientPort', includes: ['out of range', 'expected a port number 1..65535', 'e.g. clientPort=2181'] });
    assertConfigError(() => parse('dataDir=/d\nclientPort=70000\n'), { line: 2, key: 'clientPort', includes: ['out of range'] });
    assertConfigError(() => parse('dataDir=/d\nclientPort=21a\n'), { line: 2, key: 'clientPort', includes: ['not a number'] });
    assertConfigError(() => parse('dataDir=/d\nclientPort=2181\nsecureClientPort=x\n'), { line: 3, key: 'secureClientPort', includes: ['e.g. secureClientPort=2281'] });
  });

  it('rejects other bad numbers', () => {
    assertConfigError(() => parse(`${BASE}maxClientCnxns=-1\n`), { line: 3, key: 'maxClientCnxns', includes: ['expected', 'e.g. maxClientCnxns=60'] });
    assertConfigError(() => parse(`${BASE}initLimit=ten\n`), { line: 3, key: 'initLimit', includes: ['e.g. initLimit=10'] });
    assertConfigError(() => parse(`${BASE}syncLimit=\n`), { line: 3, key: 'syncLimit', includes: ['is empty', 'e.g. syncLimit=5'] });
    assertConfigError(() => parse(`${BASE}minSessionTimeout=0\n`), { line: 3, key: 'minSessionTimeout', includes: ['expected'] });
    assertConfigError(() => parse(`${BASE}autopurge.purgeInterval=daily\n`), { line: 3, key: 'autopurge.purgeInterval', includes: ['e.g. autopurge.purgeInterval=24'] });
    assertConfigError(() => parse(`${BASE}clientPortListenBacklog=-7\n`), { line: 3, key: 'clientPortListenBacklog' });
  });

  it('rejects minSessionTimeout > maxSessionTimeout', () => {
    assertConfigError(() => parse(`${BASE}minSessionTimeout=9000\nmaxSessionTimeout=8000\n`),
      { line: 3, key: 'minSessionTimeout', includes: ['larger than maxSessionTimeout=8000', 'expected minSessionTimeout <= maxSessionTimeout'] });
    assertConfigError(() => parse(`${BASE}minSessionTimeout=50000\n`),
      { line: 3, key: 'minSessionTimeout', includes: ['the default, 20 × tickTime'] });
    assertConfigError(() => parse(`${BASE}maxSessionTimeout=1000\n`),
      { line: 3, key: 'maxSessionTimeout', includes: ['smaller than minSessionTimeout=4000', 'the default, 2 × tickTime'] });
  });

  it('rejects an unknown peerType, bad booleans and electionAlg other than 3', () => {
    assertConfigError(() => parse(`${BASE}peerType=leader\n`), { line: 3, key: 'peerType', includes: ['participant or observer', 'e.g. peerType=observer'] });
    assertConfigError(() => parse(`${BASE}standaloneEnabled=yes\n`), { line: 3, key: 'standaloneEnabled', includes: ['true or false'] });
    assertConfigError(() => parse(`${BASE}sslQuorum=maybe\n`), { line: 3, key: 'sslQuorum', includes: ['true or false'] });
    assertConfigError(() => parse(`${BASE}electionAlg=0\n`), { line: 3, key: 'electionAlg', includes: ['electionAlg=3'] });
  });

  it('requires dataDir', () => {
    assertConfigError(() => parse('clientPort=2181\n'), { key: 'dataDir', includes: ['dataDir is not set', 'e.g. dataDir='] });
    assertConfigError(() => parse('dataDir=\n'), { line: 1, key: 'dataDir' });
  });

  it('rejects clientPortAddress without clientPort', () => {
    assertConfigError(() => parse('dataDir=/d\nclientPortAddress=127.0.0.1\n'),
      { line: 2, key: 'clientPortAddress', includes: ['clientPort is not', 'e.g. clientPort=2181'] });
    assertConfigError(() => parse('dataDir=/d\nclientPort=2181\nsecureClientPortAddress=127.0.0.1\n'),
      { line: 3, key: 'secureClientPortAddress', includes: ['secureClientPort is not'] });
  });

  it('requires initLimit and syncLimit for an ensemble', () => {
    assertConfigError(() => parse(ENSEMBLE.replace('initLimit=10\n', '')),
      { key: 'initLimit', includes: ['initLimit is not set', 'server.1..server.3', 'e.g. initLimit=10'] });
    assertConfigError(() => parse(ENSEMBLE.replace('syncLimit=5\n', '')), { key: 'syncLimit', includes: ['e.g. syncLimit=5'] });
  });

  it('rejects standaloneEnabled=false without servers', () => {
    assertConfigError(() => parse(`${BASE}standaloneEnabled=false\n`),
      { line: 3, key: 'standaloneEnabled', includes: ['no server.N lines', 'expected'] });
  });

  it('rejects observers without enough participants', () => {
    assertConfigError(() => parse(`${BASE}server.1=a:2888:3888:observer\n`),
      { line: 3, key: 'server.1', includes: ['no server line is a participant', 'expected'] });
    assertConfigError(() => parse(`${BASE}server.1=a:2888:3888\nserver.2=b:2888:3888:observer\n`),
      { line: 4, key: 'server.2', includes: ['runs standalone', 'expected at least two participants'] });
  });

  it('rejects malformed server.N lines', () => {
    const cases: Array<[string, string]> = [
      ['server.1=zk1:2888', 'does not have the form host:quorumPort:electionPort'],
      ['server.1=zk1', 'does not have the form'],
      ['server.1=zk1:2888:3888:observer:extra', 'does not have the form'],
      ['server.1=zk1:28x8:3888', 'quorum port "28x8"'],
      ['server.1=zk1:2888:0', 'election port "0"'],
      ['server.1=zk1:2888:2888', 'for both quorum and election'],
      ['server.1=zk1:2888:3888:leader', 'neither participant nor observer'],
      ['server.1=:2888:3888', 'empty host'],
      ['server.1=2001:db8::1:2888:3888', 'IPv6 address must be in brackets'],
      ['server.1=[2001:db8::1:2888:3888', "no matching ']'"],
      ['server.1=[2001:db8::1]2888:3888', "where ':port' should be"],
      ['server.1=zk1:2888:3888|zk1b:2888:3888', 'several addresses'],
      ['server.1=zk1:2888:3888;2181;2182', 'more than one ";"'],
      ['server.1=zk1:2888:3888;a:b:2181', 'not [host:]port'],
      ['server.1=zk1:2888:3888;host:abc', 'client port "abc"'],
      ['server.abc=zk1:2888:3888', 'bad key'],
      ['server.0=zk1:2888:3888', 'N from 1 to 255'],
      ['server.256=zk1:2888:3888', 'N from 1 to 255'],
    ];
    for (const [line, frag] of cases) {
      const key = line.slice(0, line.indexOf('='));
      assertConfigError(() => parse(`${BASE}${line}\n`), { line: 3, key, includes: [frag, 'expected'] });
    }
  });

  it('rejects duplicate server ids', () => {
    assertConfigError(() => parse(`${BASE}server.1=a:1:2\nserver.01=b:1:2\n`),
      { line: 4, key: 'server.01', includes: ['repeats server id 1', 'line 3'] });
  });

  it('rejects bad group/weight lines', () => {
    const ens = `${ENSEMBLE}`;
    assertConfigError(() => parse(`${ens}group.1=1:2\ngroup.2=2:3\n`), { line: 10, key: 'group.2', includes: ['second group'] });
    assertConfigError(() => parse(`${ens}group.1=1:2\n`), { line: 8, key: 'server.3', includes: ['not in any group', 'e.g. group.1=3'] });
    assertConfigError(() => parse(`${ens}group.1=1:x\n`), { line: 9, key: 'group.1', includes: ['not a server id'] });
    assertConfigError(() => parse(`${ens}group.1=1:2:3\nweight.1=-1\n`), { line: 10, key: 'weight.1', includes: ['non-negative'] });
    assertConfigError(() => parse(`${ens}groupies=1\n`), { line: 9, key: 'groupies', includes: ['group.N'] });
  });

  it('rejects server lines in zoo.cfg when dynamicConfigFile is set', () => {
    assertConfigError(() => parseZooCfg(`${BASE}dynamicConfigFile=/etc/zk/zoo.cfg.dynamic\nserver.1=a:1:2\n`, FILE, {}, { dynamicConfig: { text: '', file: 'x' } }),
      { line: 4, key: 'server.1', includes: ['dynamic config file'] });
  });

  it('rejects bad system property values from zoo.cfg and from -D flags', () => {
    assertConfigError(() => parse(`${BASE}snapCount=lots\n`), { line: 3, key: 'snapCount', includes: ['not a number', 'e.g. snapCount=100000'] });
    assertConfigError(() => parse(`${BASE}jute.maxbuffer=0\n`), { line: 3, key: 'jute.maxbuffer', includes: ['out of range'] });
    assertConfigError(() => parse(`${BASE}forceSync=false\n`), { line: 3, key: 'forceSync', includes: ['yes or no', 'e.g. forceSync=no'] });
    assertConfigError(() => parse(`${BASE}skipACL=true\n`), { line: 3, key: 'skipACL', includes: ['yes or no'] });
    assertConfigError(() => parse(`${BASE}DigestAuthenticationProvider.superDigest=nocolon\n`),
      { line: 3, key: 'DigestAuthenticationProvider.superDigest', includes: ['user:digest'] });
    assertConfigError(() => parse(`${BASE}admin.serverPort=99999\n`), { line: 3, key: 'admin.serverPort', includes: ['out of range'] });
    assertConfigError(() => parse(`${BASE}admin.enableServer=off\n`), { line: 3, key: 'admin.enableServer', includes: ['true or false'] });
    const err = assertConfigError(() => parse(BASE, { SERVER_JVMFLAGS: '-Xmx2g -Dzookeeper.snapCount=abc' }),
      { key: 'zookeeper.snapCount', includes: ['-Dzookeeper.snapCount=abc from SERVER_JVMFLAGS', 'expected', 'e.g. -Dzookeeper.snapCount=100000'] });
    assert.equal(err.line, undefined);
    assertConfigError(() => parse(BASE, { JVMFLAGS: '-Dzookeeper.preAllocSize=0x10' }),
      { key: 'zookeeper.preAllocSize', includes: ['from JVMFLAGS', 'KiB'] });
  });
});

describe('server.N parsing', () => {
  it('parses 3.5+ server lines with roles, client addresses and IPv6', () => {
    const c = parse(
      'tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/d\n' +
        'server.1=zk1.example.com:2888:3888\n' +
        'server.2 = zk2:2888:3888:participant;2181\n' +
        'server.3=zk3:2888:3888:OBSERVER;10.0.0.3:2182\n' +
        'server.4=[2001:db8::4]:2888:3888;[2001:db8::4]:2181\n' +
        'server.5=[::1]:2889:3889:observer\n' +
        'server.6: 10.0.0.6 : 2888 : 3888 ; 0.0.0.0:2181\n');
    assert.equal(c.standalone, false);
    assert.deepEqual(c.servers.get(1), { id: 1, host: 'zk1.example.com', quorumPort: 2888, electionPort: 3888, role: 'participant' });
    assert.deepEqual(c.servers.get(2), { id: 2, host: 'zk2', quorumPort: 2888, electionPort: 3888, role: 'participant', clientPort: 2181 });
    assert.deepEqual(c.servers.get(3), { id: 3, host: 'zk3', quorumPort: 2888, electionPort: 3888, role: 'observer', clientPort: 2182, clientHost: '10.0.0.3' });
    assert.deepEqual(c.servers.get(4), { id: 4, host: '2001:db8::4', quorumPort: 2888, electionPort: 3888, role: 'participant', clientPort: 2181, clientHost: '2001:db8::4' });
    assert.deepEqual(c.servers.get(5), { id: 5, host: '::1', quorumPort: 2889, electionPort: 3889, role: 'observer' });
    assert.deepEqual(c.servers.get(6), { id: 6, host: '10.0.0.6', quorumPort: 2888, electionPort: 3888, role: 'participant', clientPort: 2181, clientHost: '0.0.0.0' });
    // 4 participants: ZooKeeper's "consider an odd number" warning
    assert.ok(c.warnings.some((w) => w.includes('odd number')));
  });

  it('stores group.N and weight.N', () => {
    const c = parse(`${ENSEMBLE}group.1=1:2\ngroup.2=3\nweight.1=2\nweight.3=0\n`);
    assert.deepEqual(c.groups, new Map([[1, [1, 2]], [2, [3]]]));
    assert.deepEqual(c.weights, new Map([[1, 2], [3, 0]]));
  });

  it('decides standalone like QuorumPeerConfig', () => {
    assert.equal(parse(BASE).standalone, true);
    const one = parse(`${BASE}server.1=zk1:2888:3888\n`);
    assert.equal(one.standalone, true);
    assert.ok(one.warnings.some((w) => w.includes('only one server (server.1)')));
    assert.equal(parse(`${BASE}initLimit=5\nsyncLimit=2\nstandaloneEnabled=false\nserver.1=zk1:2888:3888\n`).standalone, false);
    assert.equal(parse(ENSEMBLE).standalone, false);
    const two = parse(`${BASE}initLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n`);
    assert.ok(two.warnings.some((w) => w.includes('no server failure will be tolerated')));
  });
});

describe('system properties', () => {
  it('reads -D flags from SERVER_JVMFLAGS then JVMFLAGS (later wins), and zoo.cfg wins over both', () => {
    const env = {
      SERVER_JVMFLAGS: '-Xmx1g -Dzookeeper.snapCount=5000 -Dzookeeper.globalOutstandingLimit=10 "-Dzookeeper.admin.serverAddress=127.0.0.1"',
      JVMFLAGS: '-Dzookeeper.globalOutstandingLimit=20 -Dzookeeper.preAllocSize=1024',
    };
    const c = parse(`${BASE}snapCount=7000\n`, env);
    assert.equal(c.snapCount, 7000);
    assert.equal(c.globalOutstandingLimit, 20);
    assert.equal(c.preAllocSizeBytes, 1024 * 1024);
    assert.equal(c.adminServerAddress, '127.0.0.1');
    assert.equal(c.properties.get('zookeeper.snapCount'), '7000');
    assert.equal(c.properties.get('zookeeper.globalOutstandingLimit'), '20');
    assert.equal(c.properties.get('zookeeper.admin.serverAddress'), '127.0.0.1');
    assert.deepEqual(c.warnings, []);
  });

  it('accepts jute.maxbuffer under both names, with Java number decoding', () => {
    assert.equal(parse(BASE, { SERVER_JVMFLAGS: '-Djute.maxbuffer=0x400000' }).juteMaxBufferBytes, 0x400000);
    assert.equal(parse(BASE, { SERVER_JVMFLAGS: '-Dzookeeper.jute.maxbuffer=#100' }).juteMaxBufferBytes, 0x100);
    // Integer.decode: a leading zero means octal
    assert.equal(parse(BASE, { SERVER_JVMFLAGS: '-Djute.maxbuffer=010' }).juteMaxBufferBytes, 8);
    const c = parse(`${BASE}jute.maxbuffer=2097152\n`, { SERVER_JVMFLAGS: '-Djute.maxbuffer=1000' });
    assert.equal(c.juteMaxBufferBytes, 2097152);
    assert.equal(c.properties.get('zookeeper.jute.maxbuffer'), '2097152');
    assert.equal(c.properties.get('jute.maxbuffer'), '1000');
    assert.deepEqual(c.warnings, []);
  });

  it('reads the other tunables', () => {
    const c = parse(
      `${BASE}forceSync=no\nfsync.warningthresholdms=50\nextendedTypesEnabled=true\nreadonlymode.enabled=true\n` +
        'DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\nskipACL=yes\n' +
        'admin.enableServer=false\nadmin.serverPort=9090\nadmin.commandURL=/cmd\nmaxResponseCacheSize=0\n',
      { JVMFLAGS: '-Djava.security.auth.login.config=/etc/zk/jaas.conf' });
    assert.equal(c.forceSync, false);
    assert.equal(c.fsyncWarningThresholdMs, 50);
    assert.equal(c.extendedTypesEnabled, true);
    assert.equal(c.readOnlyModeEnabled, true);
    assert.equal(c.superDigest, 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    assert.equal(c.skipAcl, true);
    assert.equal(c.jaasLoginConfigFile, '/etc/zk/jaas.conf');
    assert.equal(c.adminServerEnabled, false);
    assert.equal(c.adminServerPort, 9090);
    assert.equal(c.adminCommandUrl, '/cmd');
    assert.equal(c.maxResponseCacheSize, 0);
    assert.deepEqual(c.warnings, []);
  });

  it('maps ZOO_DATADIR_AUTOCREATE_DISABLE to zookeeper.datadir.autocreate=false', () => {
    const c = parse(BASE, { ZOO_DATADIR_AUTOCREATE_DISABLE: '1' });
    assert.equal(c.dataDirAutocreate, false);
    assert.equal(parse(BASE, { ZOO_DATADIR_AUTOCREATE_DISABLE: '1', JVMFLAGS: '-Dzookeeper.datadir.autocreate=true' }).dataDirAutocreate, true);
  });

  it('handles 4lw.commands.whitelist', () => {
    assert.equal(parse(`${BASE}4lw.commands.whitelist=*\n`).fourLetterWordWhitelist, '*');
    const c = parse(`${BASE}4lw.commands.whitelist = stat, ruok ,conf\n`);
    // srvr is always enabled, as in ZooKeeper
    assert.deepEqual(c.fourLetterWordWhitelist, new Set(['stat', 'ruok', 'conf', 'srvr']));
    assert.equal(c.fourLetterWordWhitelistRaw, 'stat, ruok ,conf');
    assert.equal(c.fourLetterWordWhitelistExplicit, true);
    assert.deepEqual(parse(`${BASE}4lw.commands.whitelist=\n`).fourLetterWordWhitelist, new Set(['srvr']));
    const ro = parse(`${BASE}4lw.commands.whitelist=stat\n`, { SERVER_JVMFLAGS: '-Dreadonlymode.enabled=true' });
    assert.deepEqual(ro.fourLetterWordWhitelist, new Set(['stat', 'srvr', 'isro']));
    const typo = parse(`${BASE}4lw.commands.whitelist=stat,mtnr\n`);
    assert.ok(typo.warnings.some((w) => w.includes('line 3') && w.includes('mtnr')));
    const viaFlag = parse(BASE, { SERVER_JVMFLAGS: '-Dzookeeper.4lw.commands.whitelist=*' });
    assert.equal(viaFlag.fourLetterWordWhitelist, '*');
    assert.equal(viaFlag.fourLetterWordWhitelistExplicit, true);
  });

  it('warns about unknown keys, naming file, line and key, and keeps going', () => {
    const c = parse(`${BASE}tickTme=2000\nticktime=2000\nzookeeper.snapCount=10\n`);
    assert.equal(c.warnings.length, 3);
    assert.match(c.warnings[0]!, /^\/etc\/zk\/zoo\.cfg line 3: unknown key "tickTme" ignored/);
    assert.match(c.warnings[1]!, /line 4: unknown key "ticktime" ignored; did you mean tickTime\?/);
    assert.match(c.warnings[2]!, /line 5: unknown key "zookeeper\.snapCount" ignored; .*no "zookeeper\." prefix.*snapCount=10/);
    assert.equal(c.properties.get('zookeeper.tickTme'), '2000');
  });

  it('accepts Java-only keys silently', () => {
    const c = parse(
      `${BASE}serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\nssl.keyStore.location=/k.jks\n` +
        'ssl.quorum.trustStore.password=x\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n' +
        'sslQuorum=false\nportUnification=false\nquorum.auth.enableSasl=false\njvm.pause.monitor=false\n' +
        'metricsProvider.className=x\nmultiAddress.enabled=false\nquorum.cnxn.threads.size=20\n' +
        'admin.idleTimeout=1000\nsnapshot.trust.empty=true\nversion=100000000\n');
    assert.deepEqual(c.warnings, []);
    assert.equal(c.properties.get('zookeeper.ssl.keyStore.location'), '/k.jks');
    assert.equal(c.properties.get('zookeeper.authProvider.1'), 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider');
    assert.equal(c.adminIdleTimeoutMs, 1000);
  });

  it('clamps snapCount below 2 with a warning', () => {
    const c = parse(`${BASE}snapCount=1\n`);
    assert.equal(c.snapCount, 2);
    assert.ok(c.warnings.some((w) => w.includes('line 3') && w.includes('snapCount=1')));
  });
});

describe('applyMyid', () => {
  it('takes the client address and role from the server line', () => {
    const base = parse(
      'initLimit=10\nsyncLimit=5\ndataDir=/d\n' +
        'server.1=zk1:2888:3888;127.0.0.1:2191\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888:observer\nserver.4=zk4:2888:3888\n');
    const one = applyMyid(base, 1);
    assert.equal(one.myid, 1);
    assert.equal(one.clientPort, 2191);
    assert.equal(one.clientPortAddress, '127.0.0.1');
    const three = applyMyid(base, 3);
    assert.equal(three.peerType, 'observer');
    assert.ok(three.warnings.some((w) => w.includes('peerType=participant disagrees with server.3')));
    assert.equal(base.myid, undefined, 'input is not modified');
  });

  it('rejects a client address that contradicts clientPort', () => {
    const base = parse(`${ENSEMBLE.replace('server.1=zk1:2888:3888', 'server.1=zk1:2888:3888;2182')}`);
    assertConfigError(() => applyMyid(base, 1), { key: 'clientPort', includes: ['0.0.0.0:2182', '0.0.0.0:2181', 'expected them to agree'] });
    assert.equal(applyMyid(base, 2).clientPort, 2181);
  });

  it('rejects a myid that matches no server line', () => {
    assertConfigError(() => applyMyid(parse(ENSEMBLE), 7), {
      key: 'server.7',
      includes: ['/data/zookeeper/myid says 7', 'lists only server.1..server.3', 'echo 1 > /data/zookeeper/myid', 'server.7=host:2888:3888'],
    });
  });

  it('rejects server ids above 254 with extendedTypesEnabled', () => {
    const c = parse(`${BASE}extendedTypesEnabled=true\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.255=b:1:2\nserver.3=c:1:2\n`);
    assertConfigError(() => applyMyid(c, 255), { key: 'extendedTypesEnabled', includes: ['at most 254'] });
  });
});

describe('files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'zkts-config-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const setup = (name: string, cfg: (dataDir: string) => string, myid?: string): { cfgFile: string; dataDir: string } => {
    const sub = path.join(dir, name);
    const dataDir = path.join(sub, 'data');
    mkdirSync(dataDir, { recursive: true });
    const cfgFile = path.join(sub, 'zoo.cfg');
    writeFileSync(cfgFile, cfg(dataDir));
    if (myid !== undefined) writeFileSync(path.join(dataDir, 'myid'), myid);
    return { cfgFile, dataDir };
  };
  const ensembleCfg = (dataDir: string): string => ENSEMBLE.replace('/data/zookeeper', dataDir);

  it('loads a standalone config without myid', () => {
    const { cfgFile, dataDir } = setup('standalone', (d) => `tickTime=2000\ndataDir=${d}\nclientPort=2181\n`);
    const c = loadConfig(cfgFile, {});
    assert.equal(c.dataDir, dataDir);
    assert.equal(c.standalone, true);
    assert.equal(c.myid, undefined);
    assert.equal(c.configFile, cfgFile);
  });

  it('loads an ensemble member with its myid', () => {
    const { cfgFile } = setup('member', ensembleCfg, '2\n');
    const c = loadConfig(cfgFile, { SERVER_JVMFLAGS: '-Dzookeeper.snapCount=500' });
    assert.equal(c.myid, 2);
    assert.equal(c.standalone, false);
    assert.equal(c.snapCount, 500);
  });

  it('explains a missing myid in an ensemble', () => {
    const { cfgFile, dataDir } = setup('nomyid', ensembleCfg);
    const mf = path.join(dataDir, 'myid');
    const err = assertConfigError(() => loadConfig(cfgFile, {}), { file: mf });
    assert.equal(err.message,
      `Missing myid file ${mf}: zoo.cfg lists server.1..server.3, so this node needs its id; ` +
        `create it with: echo 1 > ${mf} (the number must match one server.N line)`);
  });

  it('explains a myid matching no server line', () => {
    const { cfgFile, dataDir } = setup('wrongmyid', ensembleCfg, '9');
    assertConfigError(() => loadConfig(cfgFile, {}), {
      file: cfgFile, key: 'server.9', includes: [path.join(dataDir, 'myid'), 'says 9', 'server.1..server.3'],
    });
  });

  it('reads a single-server config myid when present, without requiring it to match', () => {
    const { cfgFile } = setup('single', (d) => `dataDir=${d}\nclientPort=2181\nserver.1=localhost:2888:3888\n`, '5');
    const c = loadConfig(cfgFile, {});
    assert.equal(c.standalone, true);
    assert.equal(c.myid, 5);
    assert.ok(c.warnings.some((w) => w.includes('says 5')));
  });

  it('reads the dynamicConfigFile', () => {
    const sub = path.join(dir, 'dynamic');
    mkdirSync(sub, { recursive: true });
    const dyn = path.join(sub, 'zoo.cfg.dynamic.100000000');
    writeFileSync(dyn, 'server.1=zk1:2888:3888;2181\nserver.2=zk2:2888:3888;2181\nserver.3=zk3:2888:3888;2181\nversion=100000000\n');
    const { cfgFile } = setup('dynamic', (d) => `tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=${d}\ndynamicConfigFile=${dyn}\n`, '3');
    const c = loadConfig(cfgFile, {});
    assert.equal(c.servers.size, 3);
    assert.equal(c.dynamicConfigFile, dyn);
    assert.equal(c.myid, 3);
    assert.equal(c.clientPort, 2181);

    writeFileSync(dyn, 'server.1=zk1:2888:3888\ntickTime=2000\n');
    assertConfigError(() => loadConfig(cfgFile, {}), { file: dyn, line: 2, key: 'tickTime', includes: ['does not belong in a dynamic config file', 'expected'] });

    rmSync(dyn);
    assertConfigError(() => loadConfig(cfgFile, {}), { file: cfgFile, line: 5, key: 'dynamicConfigFile', includes: ['cannot be read', 'expected'] });
    assertConfigError(() => parseZooCfg(`${BASE}dynamicConfigFile=/x\n`, FILE, {}), { line: 3, key: 'dynamicConfigFile', includes: ['loadConfig'] });
  });

  it('explains a missing config file and how its path is chosen', () => {
    const missing = path.join(dir, 'nope', 'zoo.cfg');
    assertConfigError(() => loadConfig(missing, {}), { file: missing, includes: ['not found', '$ZOOCFGDIR/$ZOOCFG', 'ZOOCFG to zoo.cfg', 'create the file'] });
    assertConfigError(() => loadConfig(missing, { ZOOCFGDIR: '/opt/conf' }), { file: missing, includes: ['ZOOCFGDIR=/opt/conf'] });
    assertConfigError(() => loadConfig(dir, {}), { file: dir, includes: ['is a directory'] });
  });

  describe('readMyid', () => {
    const myidDir = (name: string, content?: string): string => {
      const d = path.join(dir, 'myid-' + name);
      mkdirSync(d, { recursive: true });
      if (content !== undefined) writeFileSync(path.join(d, 'myid'), content);
      return d;
    };

    it('reads the first line, trimmed', () => {
      assert.equal(readMyid(myidDir('ok', '3\n')), 3);
      assert.equal(readMyid(myidDir('ws', ' 255 \r\nignored\n')), 255);
    });

    it('explains every failure', () => {
      const missing = myidDir('missing');
      const mf = path.join(missing, 'myid');
      assertConfigError(() => readMyid(missing), { file: mf, includes: ['Missing myid file', `echo 1 > ${mf}`] });
      const nan = myidDir('nan', 'one\n');
      assertConfigError(() => readMyid(nan), { file: path.join(nan, 'myid'), line: 1, includes: ['"one" is not a number', 'expected'] });
      const empty = myidDir('empty', '');
      assertConfigError(() => readMyid(empty), { file: path.join(empty, 'myid'), includes: ['is empty', 'expected'] });
      for (const bad of ['0', '256', '-1', '99999999999']) {
        const d = myidDir('range' + bad, bad);
        assertConfigError(() => readMyid(d), { file: path.join(d, 'myid'), line: 1, includes: ['out of range', 'from 1 to 255', 'top byte'] });
      }
      const isDir = myidDir('isdir');
      mkdirSync(path.join(isDir, 'myid'));
      assertConfigError(() => readMyid(isDir), { file: path.join(isDir, 'myid'), includes: ['is a directory'] });
    });
  });

  describe('resolveConfigPath', () => {
    it('follows zkServer.sh / zkEnv.sh', () => {
      const conf = path.join(dir, 'conf');
      mkdirSync(conf, { recursive: true });
      const explicit = path.join(dir, 'explicit.cfg');
      writeFileSync(explicit, BASE);

      // explicit existing file: used as given
      assert.equal(resolveConfigPath(explicit, {}, conf), explicit);
      // bare name: looked up in ZOOCFGDIR (or the default conf dir)
      assert.equal(resolveConfigPath('other.cfg', { ZOOCFGDIR: '/opt/zk/conf' }, conf), '/opt/zk/conf/other.cfg');
      assert.equal(resolveConfigPath('other.cfg', {}, conf), path.join(conf, 'other.cfg'));
      // a path with a directory part that does not exist: used as given
      assert.equal(resolveConfigPath('some/dir/zoo.cfg', { ZOOCFGDIR: '/opt/zk/conf' }, conf), 'some/dir/zoo.cfg');
      // no argument: $ZOOCFGDIR/$ZOOCFG
      assert.equal(resolveConfigPath(undefined, {}, conf), path.join(conf, 'zoo.cfg'));
      assert.equal(resolveConfigPath(undefined, { ZOOCFG: 'alt.cfg' }, conf), path.join(conf, 'alt.cfg'));
      assert.equal(resolveConfigPath(undefined, { ZOOCFGDIR: '/etc/zk', ZOOCFG: '' }, conf), '/etc/zk/zoo.cfg');
      assert.equal(resolveConfigPath('', { ZOOCFGDIR: '/etc/zk', ZOOCFG: 'z.cfg' }, conf), '/etc/zk/z.cfg');
      assert.equal(resolveConfigPath(undefined, { ZOOCFG: '/abs/zoo.cfg' }, conf), '/abs/zoo.cfg');
    });

    it('defaults ZOOCFGDIR to <package root>/conf', () => {
      const d = defaultConfDir();
      assert.equal(path.basename(d), 'conf');
      assert.ok(existsSync(path.join(path.dirname(d), 'package.json')), `${d} should sit beside package.json`);
      assert.equal(resolveConfigPath(undefined, {}), path.join(d, 'zoo.cfg'));
    });
  });
});
