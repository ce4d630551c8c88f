import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { createLogger } from './log.js';
import { defaultSettings } from './settings.js';
import { ZooKeeperServer, type ServerMode } from './zk-server.js';
import { ZK_NOT_SERVING, fourLetterWordNames, notServingAnswer, runFourLetterWord } from './four-letter-words.js';
import type { PeerState, PeerView } from './peer-view.js';

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

describe('four-letter words of an ensemble member (a PeerView)', () => {
  const peer = (state: PeerState, overrides: Partial<PeerView> = {}, sizes = { last: 120, min: 80, max: 200 }): PeerView => ({
    myId: 2,
    peerState: state,
    zabState: 'broadcast',
    leaderId: 3,
    leaderAddress: '10.0.0.3',
    learnerType: 'participant',
    initLimit: 10,
    syncLimit: 5,
    electionAlg: 3,
    servers: new Map([
      [1, { id: 1, host: '10.0.0.1', quorumPort: 2888, electionPort: 3888, type: 'participant' }],
      [2, { id: 2, host: '10.0.0.2', quorumPort: 2889, electionPort: 3889, type: 'participant', client: { host: '10.0.0.2', port: 2182 } }],
      [3, { id: 3, host: '10.0.0.3', quorumPort: 2888, electionPort: 3888, type: 'participant' }],
      [4, { id: 4, host: '10.0.0.4', quorumPort: 2888, electionPort: 3888, type: 'observer' }],
    ]),
    configVersion: 0,
    leaderStats: state === 'LEADING' ? { learners: 3, syncedFollowers: 2, syncedNonVotingFollowers: 0, syncedObservers: 1, pendingSyncs: 0 } : null,
    leaderUptimeMs: state === 'LEADING' ? 1234 : null,
    proposalStats: state === 'LEADING' ? sizes : null,
    resetProposalStats: () => Object.assign(sizes, { last: -1, min: -1, max: -1 }),
    ...overrides,
  });

  it('conf adds the quorum lines and the membership (QuorumZooKeeperServer.dumpConf), ending without a newline', () => {
    const zk = server();
    zk.peer = peer('FOLLOWING');
    zk.mode = 'follower';
    const conf = runFourLetterWord(zk, 'conf');
    assert.match(conf, /\nserverId=2\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3889\nquorumPort=2889\npeerType=0\nmembership: \n/);
    assert.ok(conf.endsWith('server.1=10.0.0.1:2888:3888:participant\nserver.2=10.0.0.2:2889:3889:participant;10.0.0.2:2182\nserver.3=10.0.0.3:2888:3888:participant\nserver.4=10.0.0.4:2888:3888:observer\nversion=0'), conf);
  });

  it('a leader\'s srvr and stat end with its proposal sizes; srst resets them', () => {
    const zk = server();
    zk.peer = peer('LEADING');
    zk.mode = 'leader';
    assert.match(runFourLetterWord(zk, 'srvr'), /\nMode: leader\nNode count: \d+\nProposal sizes last\/min\/max: 120\/80\/200\n$/);
    assert.match(runFourLetterWord(zk, 'stat'), /\nProposal sizes last\/min\/max: 120\/80\/200\n$/);
    runFourLetterWord(zk, 'srst');
    assert.match(runFourLetterWord(zk, 'srvr'), /\nProposal sizes last\/min\/max: -1\/-1\/-1\n$/);
    zk.peer = peer('FOLLOWING');
    zk.mode = 'follower';
    assert.doesNotMatch(runFourLetterWord(zk, 'srvr'), /Proposal sizes/);
  });

  it('mntr: peer_state after server_state; the leader\'s learner gauges; a follower\'s quorum_size only', () => {
    const zk = server();
    const value = (out: string, k: string): string | undefined => out.split('\n').find((l) => l.startsWith(`${k}\t`))?.split('\t')[1];
    zk.peer = peer('LEADING');
    zk.mode = 'leader';
    const leader = runFourLetterWord(zk, 'mntr');
    assert.deepEqual(leader.split('\n').slice(0, 3).map((l) => l.split('\t')[0]), ['zk_version', 'zk_server_state', 'zk_peer_state']);
    assert.equal(value(leader, 'zk_peer_state'), 'leading - broadcast');
    for (const [k, v] of [['zk_learners', '3'], ['zk_synced_followers', '2'], ['zk_synced_non_voting_followers', '0'], ['zk_synced_observers', '1'], ['zk_pending_syncs', '0'], ['zk_leader_uptime', '1234'], ['zk_last_proposal_size', '120'], ['zk_min_proposal_size', '80'], ['zk_max_proposal_size', '200'], ['zk_quorum_size', '3']]) {
      assert.equal(value(leader, k!), v, k);
    }
    zk.peer = peer('FOLLOWING');
    zk.mode = 'follower';
    const follower = runFourLetterWord(zk, 'mntr');
    assert.equal(value(follower, 'zk_peer_state'), 'following - broadcast');
    assert.equal(value(follower, 'zk_quorum_size'), '3');
    for (const k of ['zk_learners', 'zk_synced_followers', 'zk_synced_observers', 'zk_pending_syncs', 'zk_last_proposal_size']) assert.equal(value(follower, k), undefined, k);
    zk.peer = peer('OBSERVING', { learnerType: 'observer' });
    zk.mode = 'observer';
    assert.equal(value(runFourLetterWord(zk, 'mntr'), 'zk_observer_master_id'), '3');
  });

  it('dump on a learner lists its global sessions (LearnerSessionTracker)', () => {
    const zk = server();
    zk.peer = peer('FOLLOWING');
    zk.mode = 'follower';
    assert.match(runFourLetterWord(zk, 'dump'), /^SessionTracker dump:\nGlobal Sessions\(0\):\nephemeral nodes dump:\nSessions with Ephemerals \(0\):\nConnections dump:\nConnections Sets \(0\)\/\(0\):\n$/);
  });

  it('read-only: srvr says so, conf has no membership, mntr no peer_state', () => {
    const zk = server();
    zk.peer = peer('LOOKING');
    zk.startReadOnly();
    assert.match(runFourLetterWord(zk, 'srvr'), /^Zookeeper version: .*\nREAD-ONLY mode; serving only read-only clients\nLatency/);
    assert.match(runFourLetterWord(zk, 'srvr'), /^Mode: read-only$/m);
    assert.ok(runFourLetterWord(zk, 'conf').endsWith('peerType=0\n'));
    assert.doesNotMatch(runFourLetterWord(zk, 'mntr'), /zk_peer_state/);
    assert.equal(runFourLetterWord(zk, 'isro'), 'ro');
  });
});
