import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createLogger } from './log.js';
import { defaultSettings } from './settings.js';
import { ZooKeeperServer, type ServerMode } from './zk-server.js';
import { ZK_NOT_SERVING, fourLetterWordNames, notServingAnswer, runFourLetterWord } from './four-letter-words.js';

function server(): ZooKeeperServer {
  return new ZooKeeperServer(defaultSettings({ clientPort: 0, clientPortAddress: '127.0.0.1' }), createLogger({ write: () => undefined }));
}

describe('four-letter words while the node is not serving (ZooKeeper 3.8 isZKServerRunning() == false)', () => {
  it('has ZooKeeper\'s exact ZK_NOT_SERVING text', () => {
    assert.equal(ZK_NOT_SERVING, 'This ZooKeeper instance is not currently serving requests');
  });

  it('ruok still answers imok: the process is up (RuokCommand checks nothing)', () => {
    const zk = server();
    zk.serving = false;
    assert.equal(runFourLetterWord(zk, 'ruok'), 'imok');
  });

  it('srvr and stat answer ZK_NOT_SERVING with a newline and no Mode line', () => {
    const zk = server();
    zk.serving = false;
    for (const mode of ['follower', 'leader', 'observer', 'standalone'] as ServerMode[]) {
      zk.mode = mode;
      for (const w of ['srvr', 'stat']) {
        const out = runFourLetterWord(zk, w);
        assert.equal(out, `${ZK_NOT_SERVING}\n`, `${w} in mode ${mode}`);
        assert.doesNotMatch(out, /Mode:/);
      }
    }
  });

  it('every word that checks isZKServerRunning answers ZK_NOT_SERVING (println)', () => {
    const zk = server();
    zk.serving = false;
    for (const w of ['conf', 'cons', 'crst', 'dirs', 'dump', 'mntr', 'srvr', 'stat', 'srst', 'wchs', 'wchc', 'wchp']) {
      assert.equal(runFourLetterWord(zk, w), `${ZK_NOT_SERVING}\n`, w);
    }
  });

  it('isro answers "null" and hash answers ZK_NOT_SERVING without a newline (IsroCommand, DigestCommand)', () => {
    const zk = server();
    zk.serving = false;
    assert.equal(runFourLetterWord(zk, 'isro'), 'null');
    assert.equal(runFourLetterWord(zk, 'hash'), ZK_NOT_SERVING);
  });

  it('envi, gtmk and stmk do not check; they answer as when serving', () => {
    const zk = server();
    // envi's heap figures may move between two calls.
    const steady = (s: string): string => s.replace(/^os\.memory\..*$/gm, '');
    for (const w of ['envi', 'gtmk', 'stmk']) {
      assert.equal(notServingAnswer(w), null, w);
      zk.serving = true;
      const serving = runFourLetterWord(zk, w);
      zk.serving = false;
      assert.equal(steady(runFourLetterWord(zk, w)), steady(serving), w);
    }
  });

  it('srst does not reset the stats while not serving (the word itself counts as a packet received)', () => {
    const zk = server();
    zk.stats.packetsReceived = 7;
    zk.serving = false;
    runFourLetterWord(zk, 'srst');
    assert.equal(zk.stats.packetsReceived, 8);
    zk.serving = true;
    assert.equal(runFourLetterWord(zk, 'srst'), 'Server stats reset.\n');
    assert.equal(zk.stats.packetsReceived, 0);
  });

  it('every known word has a defined not-serving behaviour', () => {
    const zk = server();
    zk.serving = false;
    for (const w of fourLetterWordNames) assert.equal(typeof runFourLetterWord(zk, w), 'string', w);
  });
});

describe('four-letter words while serving', () => {
  it('srvr reports the mode the quorum peer set', () => {
    const zk = server();
    for (const mode of ['standalone', 'leader', 'follower', 'observer'] as ServerMode[]) {
      zk.mode = mode;
      const out = runFourLetterWord(zk, 'srvr');
      assert.match(out, new RegExp(`^Mode: ${mode}$`, 'm'));
      assert.match(out, /^Zxid: 0x[0-9a-f]+$/m);
      assert.match(out, /^Node count: \d+$/m);
    }
  });

  it('ruok answers imok and isro rw', () => {
    const zk = server();
    assert.equal(runFourLetterWord(zk, 'ruok'), 'imok');
    assert.equal(runFourLetterWord(zk, 'isro'), 'rw');
  });
});
