import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger, parseLogFileSize, parseLogLevel, processLogOptions, processLogger, RollingFile } from './log.js';

describe('server log', () => {
  it('writes one line per event in the log4j layout ZooKeeper operators know', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), level: 'INFO', myid: 2 });
    log.debug('QuorumPeer', 'hidden');
    log.info('QuorumPeer[myid=2]', 'LEADING');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[myid:2\] - INFO  \[QuorumPeer\[myid=2\]\] - LEADING\n$/);
  });

  it('reads the level and the appender from ZOO_LOG4J_PROP, ZOO_LOG_LEVEL and ZOO_LOG_FORMAT', () => {
    assert.deepEqual(processLogOptions({}, { user: 'zk', host: 'h' }), { level: 'INFO', format: 'text' });
    const o = processLogOptions({ ZOO_LOG4J_PROP: 'WARN,ROLLINGFILE', ZOO_LOG_DIR: '/var/log/zookeeper', ZOO_LOG_FORMAT: 'json' }, { user: 'zk', host: 'h' });
    assert.equal(o.level, 'WARN');
    assert.equal(o.format, 'json');
    assert.deepEqual(o.file, { dir: '/var/log/zookeeper', name: 'zookeeper-zk-server-h.log', maxBytes: 256 * 1024 ** 2, maxBackups: 20 });
    assert.equal(processLogOptions({ ZOO_LOG4J_PROP: 'WARN,CONSOLE', ZOO_LOG_LEVEL: 'debug' }, { user: 'zk', host: 'h' }).level, 'DEBUG');
    assert.equal(parseLogLevel('TRACE'), 'DEBUG');
    assert.equal(parseLogLevel('loud'), null);
    assert.equal(parseLogFileSize('10MB', 1), 10 * 1024 ** 2);
    assert.equal(parseLogFileSize('nonsense', 7), 7);
  });

  it('rolls files as log4j RollingFileAppender: name -> name.1 -> name.2, the oldest dropped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zk-ts-log-'));
    try {
      const f = new RollingFile(dir, 'zk.log', 100, 2);
      for (let i = 0; i < 10; i++) f.write(`${String(i).padStart(2, '0')} ${'x'.repeat(36)}\n`); // 40 bytes a line
      assert.deepEqual(readdirSync(dir).sort(), ['zk.log', 'zk.log.1', 'zk.log.2']);
      assert.equal(readFileSync(join(dir, 'zk.log'), 'utf8').split('\n')[0]!.slice(0, 2), '08');
      assert.equal(readFileSync(join(dir, 'zk.log.1'), 'utf8').split('\n')[0]!.slice(0, 2), '06');
      assert.equal(readFileSync(join(dir, 'zk.log.2'), 'utf8').split('\n')[0]!.slice(0, 2), '04');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes JSON lines through pino when asked, with the fields a text line has, and takes a later level', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zk-ts-log-'));
    try {
      const log = processLogger({ level: 'INFO', format: 'json', file: { dir, name: 'zk.log', maxBytes: 1 << 20, maxBackups: 1 } });
      log.setMyid(3);
      log.info('FastLeaderElection', 'New election. My id = 3, proposed zxid=0x0');
      log.debug('QuorumCnxManager', 'hidden');
      log.setLevel('DEBUG');
      log.debug('QuorumCnxManager', 'shown');
      const lines = readFileSync(join(dir, 'zk.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 2);
      assert.equal(lines[0]!['msg'], 'New election. My id = 3, proposed zxid=0x0');
      assert.equal(lines[0]!['level'], 30);
      assert.equal(lines[0]!['myid'], 3);
      assert.equal(lines[0]!['component'], 'FastLeaderElection');
      assert.equal(typeof lines[0]!['time'], 'string');
      assert.equal(lines[1]!['msg'], 'shown');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
